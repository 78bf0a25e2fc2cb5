// A WordPiece vocabulary: token strings by id, and a double-array trie over them that answers both
// exact look-ups and "longest vocabulary entry that prefixes this text" in one walk per byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ft {

class Vocab {
 public:
  Vocab() = default;
  // tokens[i] has id i (a vocab.txt). When a token repeats, look-ups give its last id, as in HF.
  static Vocab from_tokens(std::vector<std::string> tokens, std::string_view source);
  // (token, id) pairs (tokenizer.json's model.vocab); ids need not be contiguous.
  static Vocab from_pairs(const std::vector<std::pair<std::string, int32_t>>& pairs, std::string_view source);
  // The lines of a vocab.txt: one token per line (only the final '\n' is removed, as transformers'
  // load_vocab does).
  static std::vector<std::string> read_txt(const std::string& path);
  static Vocab load_txt(const std::string& path) { return from_tokens(read_txt(path), path); }

  int32_t id(std::string_view token) const;  // -1 if absent
  const std::string& token(int32_t id) const;
  // One past the largest id.
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }

  // The trie: a state is an index; kRoot is the empty prefix; kNone means "no such prefix".
  static constexpr int32_t kRoot = 0;
  static constexpr int32_t kNone = -1;
  // The state after reading `bytes` from `state`, or kNone.
  int32_t walk(int32_t state, std::string_view bytes) const;
  // One step of the trie: the state after byte b, or a value that fails `valid(state, next)`.
  int32_t step(int32_t state, unsigned char b) const { return nodes_[state].base + b; }
  bool valid(int32_t from, int32_t next) const { return nodes_[next].check == from; }
  int32_t value(int32_t state) const { return nodes_[state].value; }  // the token id ending here, or -1

 private:
  struct Node {
    int32_t base = 0;    // children of this state live at base + byte
    int32_t check = -1;  // the parent state (-1: free slot)
    int32_t value = -1;  // id of the token that ends here
  };
  // Builds the trie over (token, id) pairs; a later pair wins over an earlier one with the same token.
  void build_trie(std::vector<std::pair<std::string_view, int32_t>> entries, std::string_view source);

  std::vector<std::string> tokens_;  // by id; "" for ids that no token has
  std::vector<Node> nodes_;
};

}  // namespace ft
