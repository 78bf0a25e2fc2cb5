// What Hugging Face's BertNormalizer and BertPreTokenizer do to each code point, precomputed.
//
// For one set of normalizer options, every input character has one action: dropped (clean_text),
// a word boundary (whitespace), a word of its own (punctuation, a CJK ideograph), or bytes that
// join the current word (after strip_accents' NFD and mark removal and lower-casing). The table
// covers the BMP; supplementary code points are computed when met. Characters whose handling
// depends on their neighbours (combining marks that NFD's canonical ordering can move) are
// "complex" and take the piece-by-piece path in the basic tokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ft {

struct NormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};

enum class CharKind : uint8_t {
  kWord,      // output bytes join the current word; every piece that survives has combining class 0
  kSpace,     // whitespace: ends the current word
  kPunct,     // one punctuation character: a word of its own
  kIsolated,  // a CJK ideograph (handle_chinese_chars): its output is a word of its own
  kDrop,      // removed by clean_text before NFD: no output, and invisible to canonical ordering
  kMark,      // every NFD piece removed by strip_accents: no output
  kComplex,   // anything else (a combining mark that survives, pieces of different classes):
              // handled piece by piece (BasicTokenizer::process_generic)
};

struct CharAction {
  CharKind kind = CharKind::kComplex;
  uint8_t len = 0;         // output bytes
  uint8_t chars = 0;            // output code points (WordPiece's word-length limit counts these)
  // For NFD's canonical ordering (strip_accents only): some piece has combining class 0 (a
  // "starter", which ends a run of combining marks), and the last piece has a class above 0 (so
  // a run goes on after this character).
  bool has_starter = true;
  bool ends_with_mark = false;
  // The output bytes: inline when len <= 4, else at this offset in CharActions::pool().
  union {
    char bytes[4];
    uint32_t pool_offset;
  };
  CharAction() : pool_offset(0) {}
};

// One NFD piece of a character, after strip_accents and lowercase.
struct CharPiece {
  char32_t out[3];
  int count = 0;        // output code points (0: removed by strip_accents)
  int combining_class = 0;
};

class CharActions {
 public:
  explicit CharActions(const NormalizerOptions& options);

  const NormalizerOptions& options() const { return options_; }

  // Valid for c < 0x10000.
  const CharAction& bmp(char32_t c) const { return bmp_[c]; }
  // The output bytes of an action from bmp() (or from compute() with this pool).
  const char* bytes(const CharAction& a, const std::string& pool) const {
    return a.len <= 4 ? a.bytes : pool.data() + a.pool_offset;
  }
  const std::string& pool() const { return pool_; }

  // The action for any code point; long outputs are appended to *pool.
  CharAction compute(char32_t c, std::string* pool) const;

  // The NFD pieces of c (one piece when strip_accents is off). Only meaningful for characters
  // that clean_text keeps and that are not whitespace. Returns the count.
  int pieces(char32_t c, CharPiece* out, int capacity) const;

 private:
  NormalizerOptions options_;
  std::vector<CharAction> bmp_;  // (65536,)
  std::string pool_;
};

}  // namespace ft
