// The character classes of Hugging Face's BERT normalizer and pre-tokenizer, as `tokenizers`
// computes them, from utf8proc plus the generated exceptions in unicode_quirks.inc (where the Unicode
// tables inside `tokenizers` are older or newer than utf8proc's; see gen_unicode_quirks.py).
// Used to build the per-code-point action tables; never on the hot path one call per character.
#pragma once

#include <cstdint>

namespace ft::hf_unicode {

// clean_text drops these: U+0000, U+FFFD and "other" characters (Cc, Cf, Co), except \t \n \r.
bool is_removed_by_clean_text(char32_t c);
// Rust's char::is_whitespace (the White_Space property) plus \t \n \r.
bool is_whitespace(char32_t c);
// ASCII punctuation or a Unicode punctuation category (Pc Pd Ps Pe Pi Pf Po).
bool is_punctuation(char32_t c);
// Nonspacing mark (Mn): removed by strip_accents after NFD.
bool is_nonspacing_mark(char32_t c);
// The CJK ranges of tokenizers' BertNormalizer (handle_chinese_chars puts spaces around them).
bool is_chinese_char(char32_t c);
// Canonical combining class as tokenizers' NFD sees it.
int combining_class(char32_t c);
// Full canonical decomposition of one code point (NFD without reordering); returns the count.
int decompose(char32_t c, char32_t* out, int capacity);
// Rust's char::to_lowercase; returns the count (1..3).
int lowercase(char32_t c, char32_t out[3]);

// utf8proc's Unicode version, and the one unicode_quirks.inc was generated against.
const char* utf8proc_unicode_version();
const char* quirks_unicode_version();
const char* quirks_tokenizers_version();

}  // namespace ft::hf_unicode
