// BertTokenizer: Hugging Face's BERT tokenizer (BertNormalizer + BertPreTokenizer + WordPiece +
// the [CLS]/[SEP] template), exactly as the `tokenizers` library (transformers' fast tokenizer)
// computes it. docs/tokenizer.md states the rules and the deliberate choices.
//
// Input text must be valid UTF-8; anything else is an ft::Error naming the byte offset (and, in the
// batch calls, the index of the text). Offsets are BYTE offsets into the original UTF-8 text
// (Hugging Face reports character offsets).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ft {

struct TokenizerOptions {
  bool lowercase = true;              // do_lower_case
  int strip_accents = -1;             // -1: follow lowercase (HF's None); 0: never; 1: always
  bool tokenize_chinese_chars = true;
  bool clean_text = true;
  int model_max_length = 512;
  std::string unk_token = "[UNK]", cls_token = "[CLS]", sep_token = "[SEP]", pad_token = "[PAD]",
              mask_token = "[MASK]";
  int max_input_chars_per_word = 100;
  std::string continuing_subword_prefix = "##";
  // Special tokens written in the text ("[MASK]", "[SEP]", ...) are read as those tokens, as HF does
  // (its added tokens with normalized=false). False reads them as ordinary text.
  bool match_special_tokens = true;
};

struct Encoding {
  std::vector<int32_t> ids;             // [CLS] a [SEP] (b [SEP]), truncated, padded if asked
  std::vector<int32_t> type_ids;        // 0 for the first segment, 1 for the second
  std::vector<int32_t> attention_mask;  // 1 for tokens, 0 for padding
  std::vector<std::pair<int32_t, int32_t>> offsets;  // byte [begin, end) in the input text; (0,0) for specials
  int32_t untruncated_length = 0;       // tokens the input would have had without truncation (with specials)
};

// A token matched in the raw text before normalization (HF's AddedToken with normalized=false).
struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = true;
};

struct TokenizerSpec;  // tokenizer/tokenizer_files.h

class BertTokenizer {
 public:
  // A model directory: tokenizer.json when present (vocabulary, normalizer, WordPiece, template and
  // added tokens from it; model_max_length from tokenizer_config.json), else vocab.txt +
  // tokenizer_config.json (transformers' defaults for what it does not say).
  static BertTokenizer from_dir(const std::string& dir);
  // A bare vocab.txt with explicit options.
  static BertTokenizer from_vocab(const std::string& vocab_path, const TokenizerOptions& options = {});
  // A vocabulary given in memory (token i has id i): tests, fuzzing.
  static BertTokenizer from_tokens(std::vector<std::string> tokens, const TokenizerOptions& options = {});

  // Basic tokenization and WordPiece, no specials: the word pieces and their ids.
  std::vector<std::string> tokenize(std::string_view text) const;
  std::vector<int32_t> tokenize_ids(std::string_view text) const;
  // The normalized words before WordPiece (HF's normalizer + pre-tokenizer, special tokens whole).
  std::vector<std::string> basic_tokenize(std::string_view text) const;

  // Full encoding. max_length <= 0 means no truncation; pad_to_max_length pads with [PAD] up to
  // max_length (which must then be positive). Truncation keeps [CLS] and [SEP]; pairs are cut
  // longest-first as HF does. Invalid UTF-8 throws ft::Error naming the byte offset.
  Encoding encode(std::string_view text, int max_length = 0, bool pad_to_max_length = false) const;
  Encoding encode_pair(std::string_view a, std::string_view b, int max_length = 0,
                       bool pad_to_max_length = false) const;
  // Encodes many texts on all cores (threads <= 0: all); the result is in input order and equals
  // encode() of each text. Errors name the index of the bad text ("text 17: ...").
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, int max_length = 0, int threads = 0,
                                     bool pad_to_max_length = false) const;
  std::vector<Encoding> encode_pair_batch(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                          int max_length = 0, int threads = 0,
                                          bool pad_to_max_length = false) const;

  int32_t token_to_id(std::string_view token) const;  // -1 if absent
  const std::string& id_to_token(int32_t id) const;
  int32_t vocab_size() const;  // one past the largest id
  int32_t pad_id() const;
  int32_t cls_id() const;
  int32_t sep_id() const;
  int32_t unk_id() const;
  int32_t mask_id() const;  // -1 if the vocabulary has no mask token
  const TokenizerOptions& options() const { return options_; }
  const std::vector<AddedToken>& added_tokens() const;

 private:
  struct Impl;
  static BertTokenizer make(TokenizerSpec spec);
  TokenizerOptions options_;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace ft
