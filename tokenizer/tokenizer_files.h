// Reading Hugging Face tokenizer files into one description: vocab.txt, tokenizer_config.json and
// tokenizer.json (the "fast" tokenizer file). Only what a BERT WordPiece tokenizer uses is read;
// anything ftengine does not implement (another normalizer, pre-tokenizer or model, an added token
// matched after normalization) is an error naming the file and the field, never ignored.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tokenizer/bert_tokenizer.h"

namespace ft {

struct TokenizerSpec {
  std::string source;  // the file or directory, for messages
  TokenizerOptions options;
  std::vector<std::string> tokens;                         // vocab.txt: token i has id i
  std::vector<std::pair<std::string, int32_t>> vocab_pairs;  // tokenizer.json: (token, id)
  std::vector<AddedToken> added;  // matched in raw text; empty: the special tokens of options
  bool added_from_file = false;   // `added` came from the file (else derived from options)
};

// Fields of tokenizer_config.json that transformers' BertTokenizer reads: do_lower_case,
// strip_accents, tokenize_chinese_chars, model_max_length, the special tokens and
// added_tokens_decoder. With only_max_length, just model_max_length (tokenizer.json has the rest).
void read_tokenizer_config(const std::string& path, TokenizerSpec* spec, bool only_max_length);

// tokenizer.json: model (WordPiece), normalizer (BertNormalizer or null), pre_tokenizer
// (BertPreTokenizer), post_processor (TemplateProcessing or BertProcessing), added_tokens.
void read_tokenizer_json(const std::string& path, TokenizerSpec* spec);

}  // namespace ft
