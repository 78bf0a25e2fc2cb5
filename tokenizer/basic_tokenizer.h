// Hugging Face's BertNormalizer + BertPreTokenizer in one pass over the UTF-8 input: the words that
// WordPiece receives, each with the byte span in the original text of every normalized byte.
//
// `tokenizers` normalizes the whole string (clean_text, spaces around CJK ideographs, NFD + removal
// of nonspacing marks, lower-casing), then splits on whitespace and isolates punctuation. All of
// these act on one character at a time except NFD's canonical ordering, which stably sorts each run
// of combining pieces (class > 0) by combining class. `tokenizers` then gives the sorted pieces the
// alignments of the run's characters in their original order (each first piece of a character
// takes the next character's span, each further piece its predecessor's span), and only then drops
// the nonspacing marks. A run matters only when a mark survives strip_accents (a spacing mark with
// a class > 0); then the run is collected, sorted and aligned exactly that way. Otherwise every
// normalized character has its own source character's span.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/char_actions.h"

namespace ft {

// One normalized word, valid during the WordSink call.
struct Word {
  std::string_view text;       // normalized UTF-8
  size_t chars = 0;            // code points in text
  const uint32_t* src_begin;   // (text.size(),) byte offset in the input of the source character
  const uint8_t* src_len;      // (text.size(),) that character's length in bytes
  // The input byte span of normalized bytes [begin, end) (begin < end, both on character boundaries).
  uint32_t input_begin(size_t begin) const { return src_begin[begin]; }
  uint32_t input_end(size_t end) const { return src_begin[end - 1] + src_len[end - 1]; }
};

class WordSink {
 public:
  virtual void on_word(const Word& word) = 0;

 protected:
  ~WordSink() = default;
};

// Reusable buffers of one thread.
struct WordScratch {
  std::string text;
  std::vector<uint32_t> src_begin;
  std::vector<uint8_t> src_len;
  size_t size = 0;   // bytes of the current word
  size_t chars = 0;  // code points of the current word
  // Where the current run of combining pieces began (the input offset of its first character), or
  // kNoRun; tracked cheaply while every piece of the run is removed by strip_accents.
  static constexpr uint32_t kNoRun = 0xFFFFFFFFu;
  uint32_t run_origin = kNoRun;
  // The run collected piece by piece once a surviving mark joined it (NFD order).
  struct RunPiece {
    uint8_t combining_class;
    bool first;  // the first NFD piece of its character (takes the next character's span)
    bool kept;   // survives strip_accents
    uint8_t count;
    char32_t out[3];
    uint32_t at;  // its character's span in the input
    uint8_t len;
  };
  std::vector<RunPiece> run;
  bool run_kept = false;  // some piece of `run` survives strip_accents
  std::vector<std::pair<uint32_t, uint8_t>> run_spans;  // the run's character spans, in input order
  std::string pool;  // outputs of supplementary code points
};

class BasicTokenizer {
 public:
  explicit BasicTokenizer(const NormalizerOptions& options);

  const NormalizerOptions& options() const { return actions_.options(); }

  // Splits text[begin, end) (valid UTF-8, begin and end on character boundaries) into words.
  void split(std::string_view text, size_t begin, size_t end, WordScratch& scratch, WordSink& sink) const;

  // Convenience for tests and debugging: the normalized words of a whole (valid) text.
  std::vector<std::string> words(std::string_view text) const;

 private:
  // Any character, piece by piece (the fast paths cover the common kinds).
  void process_generic(const unsigned char* text, char32_t c, uint32_t at, uint8_t len, WordScratch& s,
                       WordSink& sink) const;
  // Collects the run of removed marks that began at s.run_origin, before position `at`.
  void reconstruct_run(const unsigned char* text, uint32_t at, WordScratch& s) const;
  // Sorts the collected run, aligns it as tokenizers does and appends what survives.
  void finish_run(WordScratch& s, WordSink& sink) const;

  CharActions actions_;
  // ASCII fast path: the action kind and the (lower-cased) output byte of each byte < 0x80.
  CharKind ascii_kind_[128];
  char ascii_out_[128];
};

}  // namespace ft
