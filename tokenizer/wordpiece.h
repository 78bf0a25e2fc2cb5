// WordPiece as `tokenizers` runs it: greedy longest match from the start of the word, pieces after
// the first looked up with the continuation prefix ("##"); a word with a part no piece matches,
// or longer than max_input_chars_per_word characters, becomes the unknown token as a whole.
// The longest match comes from one walk of the vocabulary trie, so a word costs O(length).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace ft {

struct WordPieceMatch {
  int32_t id;
  uint32_t begin, end;  // byte span in the word
};

class WordPiece {
 public:
  WordPiece(const Vocab& vocab, int32_t unk_id, const std::string& continuing_prefix, int max_input_chars_per_word);

  // Appends the pieces of `word` (`chars` code points) to *out.
  void tokenize(std::string_view word, size_t chars, std::vector<WordPieceMatch>* out) const {
    if (chars > max_chars_) {
      out->push_back({unk_id_, 0, static_cast<uint32_t>(word.size())});
      return;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(word.data());
    const size_t n = word.size();
    const size_t mark = out->size();
    size_t start = 0;
    while (start < n) {
      int32_t s = start == 0 ? Vocab::kRoot : continuation_state_;
      if (s == Vocab::kNone) break;
      size_t best_end = 0;
      int32_t best_id = -1;
      for (size_t i = start; i < n; ++i) {
        const int32_t next = vocab_->step(s, p[i]);
        if (!vocab_->valid(s, next)) break;
        s = next;
        const int32_t v = vocab_->value(s);
        if (v >= 0) {
          best_end = i + 1;
          best_id = v;
        }
      }
      if (best_id < 0) break;
      out->push_back({best_id, static_cast<uint32_t>(start), static_cast<uint32_t>(best_end)});
      start = best_end;
    }
    if (start < n) {  // some part matched no piece: the whole word is unknown
      out->resize(mark);
      out->push_back({unk_id_, 0, static_cast<uint32_t>(n)});
    }
  }

 private:
  const Vocab* vocab_;
  int32_t unk_id_;
  int32_t continuation_state_;  // the trie state after the continuation prefix (kNone: no such pieces)
  size_t max_chars_;
};

}  // namespace ft
