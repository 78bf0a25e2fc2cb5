#include "tokenizer/wordpiece.h"

#include "core/error.h"

namespace ft {

WordPiece::WordPiece(const Vocab& vocab, int32_t unk_id, const std::string& continuing_prefix,
                     int max_input_chars_per_word)
    : vocab_(&vocab),
      unk_id_(unk_id),
      continuation_state_(vocab.walk(Vocab::kRoot, continuing_prefix)),
      max_chars_(static_cast<size_t>(max_input_chars_per_word)) {
  FT_CHECK(unk_id >= 0 && unk_id < vocab.size(), "WordPiece: the unknown token is not in the vocabulary");
  FT_CHECK(max_input_chars_per_word > 0, "WordPiece: max_input_chars_per_word must be positive, not ",
           max_input_chars_per_word);
}

}  // namespace ft
