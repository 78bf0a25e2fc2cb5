// Strict UTF-8: validation with the offset of the first fault, and decoding/encoding of code points.
// "Strict" is what Python's and Rust's decoders accept: no overlong forms, no surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequences.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ft::utf8 {

inline constexpr size_t kValid = static_cast<size_t>(-1);

// The byte offset of the first byte of the first invalid sequence, or kValid.
size_t find_invalid(std::string_view text);

// Throws ft::Error "<what>: invalid UTF-8 at byte offset N (byte 0xXX)" when the text is invalid.
void check_valid(std::string_view text, std::string_view what);

// Decodes the code point starting at p (which must be valid UTF-8); returns its length in bytes.
inline int decode(const unsigned char* p, char32_t* cp) {
  const unsigned char b = p[0];
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  if (b < 0xE0) {
    *cp = (char32_t(b & 0x1F) << 6) | (p[1] & 0x3F);
    return 2;
  }
  if (b < 0xF0) {
    *cp = (char32_t(b & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    return 3;
  }
  *cp = (char32_t(b & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) | (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
  return 4;
}

// Writes the UTF-8 form of a valid scalar value; returns its length (1..4).
inline int encode(char32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Number of code points in valid UTF-8 (bytes that are not continuation bytes).
inline size_t count_chars(std::string_view text) {
  size_t n = 0;
  for (unsigned char b : text) n += (b & 0xC0) != 0x80;
  return n;
}

}  // namespace ft::utf8
