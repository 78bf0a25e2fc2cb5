#include "tokenizer/unicode_props.h"

#include <utf8proc.h>

#include <algorithm>
#include <iterator>

#include "core/error.h"

namespace ft::hf_unicode {

namespace {

struct QuirkRange {
  char32_t first, last;
  bool value;
};
struct QuirkMapping {
  char32_t code_point;
  int count;
  char32_t chars[4];
};

#include "tokenizer/unicode_quirks.inc"

// Sorted, non-overlapping ranges: the override for c, if any.
template <size_t N>
const QuirkRange* find_range(const QuirkRange (&table)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(table), std::end(table), c,
                             [](char32_t x, const QuirkRange& r) { return x < r.first; });
  if (it == std::begin(table)) return nullptr;
  --it;
  return c <= it->last ? &*it : nullptr;
}

template <size_t N>
const QuirkMapping* find_mapping(const QuirkMapping (&table)[N], char32_t c) {
  auto it = std::lower_bound(std::begin(table), std::end(table), c,
                             [](const QuirkMapping& m, char32_t x) { return m.code_point < x; });
  return it != std::end(table) && it->code_point == c ? &*it : nullptr;
}

utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

bool is_other(char32_t c) {
  if (const QuirkRange* q = find_range(kOtherQuirks, c)) return q->value;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CO;
}

bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

}  // namespace

bool is_removed_by_clean_text(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return c == 0 || c == 0xFFFD || is_other(c);
}

bool is_whitespace(char32_t c) {
  // White_Space is exactly: U+0009..U+000D, U+0085 and the Zs, Zl, Zp categories.
  if ((c >= 0x09 && c <= 0x0D) || c == 0x85) return true;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_punctuation(char32_t c) {
  if (is_ascii_punctuation(c)) return true;
  if (const QuirkRange* q = find_range(kPunctuationQuirks, c)) return q->value;
  const auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_nonspacing_mark(char32_t c) {
  if (const QuirkRange* q = find_range(kNonspacingMarkQuirks, c)) return q->value;
  return category(c) == UTF8PROC_CATEGORY_MN;
}

bool is_chinese_char(char32_t c) {
  // The ranges of tokenizers' normalizers/bert.rs (they are a choice of that library, not a
  // Unicode property: note 0x2B920 where Python's BasicTokenizer says 0x2B820).
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

int combining_class(char32_t c) {
  if (find_range(kZeroCombiningClassQuirks, c)) return 0;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

int decompose(char32_t c, char32_t* out, int capacity) {
  if (const QuirkMapping* q = find_mapping(kDecompositionQuirks, c)) {
    FT_CHECK(q->count <= capacity, "decompose: buffer too small");
    std::copy_n(q->chars, q->count, out);
    return q->count;
  }
  utf8proc_int32_t buf[8];
  const utf8proc_ssize_t n =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 8,
                              static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE), nullptr);
  FT_CHECK(n > 0 && n <= 8 && n <= capacity, "utf8proc_decompose_char failed for U+", static_cast<uint32_t>(c));
  for (utf8proc_ssize_t i = 0; i < n; ++i) out[i] = static_cast<char32_t>(buf[i]);
  return static_cast<int>(n);
}

int lowercase(char32_t c, char32_t out[3]) {
  if (const QuirkMapping* q = find_mapping(kLowercaseQuirks, c)) {
    FT_CHECK(q->count <= 3, "lowercase: mapping of U+", static_cast<uint32_t>(c), " is too long");
    std::copy_n(q->chars, q->count, out);
    return q->count;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
  return 1;
}

const char* utf8proc_unicode_version() { return ::utf8proc_unicode_version(); }
const char* quirks_unicode_version() { return kQuirksUtf8procUnicodeVersion; }
const char* quirks_tokenizers_version() { return kQuirksTokenizersVersion; }

}  // namespace ft::hf_unicode
