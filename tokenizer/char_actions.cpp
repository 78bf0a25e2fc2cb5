#include "tokenizer/char_actions.h"

#include "core/error.h"
#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace ft {

namespace {
enum class OutClass { kWord, kSpace, kPunct };
OutClass classify(char32_t c) {
  if (hf_unicode::is_whitespace(c)) return OutClass::kSpace;
  if (hf_unicode::is_punctuation(c)) return OutClass::kPunct;
  return OutClass::kWord;
}
}  // namespace

CharActions::CharActions(const NormalizerOptions& options) : options_(options), bmp_(0x10000) {
  for (char32_t c = 0; c < 0x10000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;  // surrogates never pass UTF-8 validation
    bmp_[c] = compute(c, &pool_);
  }
}

int CharActions::pieces(char32_t c, CharPiece* out, int capacity) const {
  char32_t nfd[8];
  int n = 1;
  nfd[0] = c;
  if (options_.strip_accents) n = hf_unicode::decompose(c, nfd, 8);
  FT_CHECK(n <= capacity, "CharActions::pieces: buffer too small");
  for (int i = 0; i < n; ++i) {
    CharPiece& p = out[i];
    // Without strip_accents there is no NFD, hence no canonical reordering: every class is 0.
    p.combining_class = options_.strip_accents ? hf_unicode::combining_class(nfd[i]) : 0;
    if (options_.strip_accents && hf_unicode::is_nonspacing_mark(nfd[i])) {
      p.count = 0;
    } else if (options_.lowercase) {
      p.count = hf_unicode::lowercase(nfd[i], p.out);
    } else {
      p.out[0] = nfd[i];
      p.count = 1;
    }
  }
  return n;
}

CharAction CharActions::compute(char32_t c, std::string* pool) const {
  CharAction a;
  if (options_.clean_text) {
    if (hf_unicode::is_removed_by_clean_text(c)) {
      a.kind = CharKind::kDrop;
      return a;
    }
    if (hf_unicode::is_whitespace(c)) {
      a.kind = CharKind::kSpace;
      return a;
    }
  }
  CharPiece ps[8];
  const int n = pieces(c, ps, 8);
  bool any_class_zero = false, kept_combining = false;
  char32_t outs[24];
  int n_out = 0;
  for (int i = 0; i < n; ++i) {
    any_class_zero |= ps[i].combining_class == 0;
    if (ps[i].count > 0 && ps[i].combining_class > 0) kept_combining = true;
    for (int k = 0; k < ps[i].count; ++k) outs[n_out++] = ps[i].out[k];
  }
  a.has_starter = any_class_zero;
  a.ends_with_mark = ps[n - 1].combining_class > 0;
  if (n_out == 0) {
    a.kind = CharKind::kMark;
    return a;
  }
  if (kept_combining) return a;  // kComplex: canonical ordering may move it
  const bool isolated = options_.handle_chinese_chars && hf_unicode::is_chinese_char(c);
  bool all_word = true;
  for (int k = 0; k < n_out; ++k) all_word &= classify(outs[k]) == OutClass::kWord;
  if (n_out == 1 && !all_word) {
    a.kind = classify(outs[0]) == OutClass::kSpace ? CharKind::kSpace : CharKind::kPunct;
  } else if (all_word) {
    a.kind = isolated ? CharKind::kIsolated : CharKind::kWord;
  } else {
    return a;  // kComplex: pieces of different classes
  }
  // The fast paths of word boundaries assume no run of marks goes on after them.
  if (a.kind != CharKind::kWord && a.ends_with_mark) {
    a.kind = CharKind::kComplex;
    return a;
  }
  if (a.kind == CharKind::kSpace) return a;
  char buf[96];
  int len = 0;
  for (int k = 0; k < n_out; ++k) len += utf8::encode(outs[k], buf + len);
  FT_CHECK(len < 256, "CharActions: output of U+", static_cast<uint32_t>(c), " too long");
  a.len = static_cast<uint8_t>(len);
  a.chars = static_cast<uint8_t>(n_out);
  if (len <= 4) {
    for (int k = 0; k < len; ++k) a.bytes[k] = buf[k];
  } else {
    a.pool_offset = static_cast<uint32_t>(pool->size());
    pool->append(buf, len);
  }
  return a;
}

}  // namespace ft
