// libFuzzer target for the tokenizer. Two inputs per run:
//   1. the raw bytes as text: valid UTF-8 must encode, invalid UTF-8 must raise ft::Error (and
//      nothing else), both in encode() and in encode_batch();
//   2. valid UTF-8 made from the bytes (every 3 bytes pick a code point, biased towards the
//      interesting ranges), which must encode.
// Every encoding is checked: ids inside the vocabulary, offsets inside the text on character
// boundaries and never going backwards, specials and padding where they belong. The vocabulary is
// built in memory (ASCII, accented and CJK pieces, ## continuations, specials), so the target needs
// no files.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/utf8.h"

namespace {

std::vector<std::string> vocabulary() {
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  const char* pieces[] = {"a", "b", "e",  "n",  "s", "t", "the", "an", "ban", "na", "é", "ß", "中", "文", "한",
                          "ا", "م", "の", "が", "😀", "!", ".",   ",",  "'",   "[",  "]", "-", "1",  "2",  "10"};
  for (const char* p : pieces) {
    v.push_back(p);
    v.push_back(std::string("##") + p);
  }
  return v;
}

const ft::BertTokenizer& tokenizer(int which) {
  static const std::vector<ft::BertTokenizer> all = [] {
    std::vector<ft::BertTokenizer> t;
    ft::TokenizerOptions uncased, cased, bare;
    cased.lowercase = false;
    bare.clean_text = false;
    bare.tokenize_chinese_chars = false;
    bare.strip_accents = 1;
    bare.max_input_chars_per_word = 8;
    for (const auto& o : {uncased, cased, bare}) t.push_back(ft::BertTokenizer::from_tokens(vocabulary(), o));
    return t;
  }();
  return all[static_cast<size_t>(which) % all.size()];
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Invariants of an encoding of `texts` (one or two) with max_length/pad as given.
void check_encoding(const ft::BertTokenizer& t, const ft::Encoding& e, const std::vector<std::string_view>& texts,
                    int max_length, bool pad) {
  const size_t n = e.ids.size();
  check(e.type_ids.size() == n && e.attention_mask.size() == n && e.offsets.size() == n);
  if (pad)
    check(n == static_cast<size_t>(max_length));
  else if (max_length > 0)
    check(n <= static_cast<size_t>(max_length));
  check(e.untruncated_length >= static_cast<int32_t>(texts.size() + 1));
  check(n >= texts.size() + 1);
  check(e.ids[0] == t.cls_id());
  int32_t last_begin[2] = {0, 0};
  for (size_t i = 0; i < n; ++i) {
    check(e.ids[i] >= 0 && e.ids[i] < t.vocab_size());
    const int seg = e.type_ids[i];
    check(seg == 0 || (seg == 1 && texts.size() == 2));
    const auto [b, en] = e.offsets[i];
    if (e.attention_mask[i] == 0) {
      check(e.ids[i] == t.pad_id() && b == 0 && en == 0);
      continue;
    }
    if (b == 0 && en == 0) continue;  // a special token of the template (or an empty span)
    const std::string_view text = texts[static_cast<size_t>(seg)];
    check(0 <= b && b < en && static_cast<size_t>(en) <= text.size());
    check((static_cast<unsigned char>(text[static_cast<size_t>(b)]) & 0xC0) != 0x80);
    check(static_cast<size_t>(en) == text.size() ||
          (static_cast<unsigned char>(text[static_cast<size_t>(en)]) & 0xC0) != 0x80);
    check(b >= last_begin[seg]);
    last_begin[seg] = b;
  }
  // Padding only after every real token.
  bool padding = false;
  for (size_t i = 0; i < n; ++i) {
    if (e.attention_mask[i] == 0) padding = true;
    check(!padding || e.attention_mask[i] == 0);
  }
}

void encode_all_ways(const ft::BertTokenizer& t, std::string_view text, int max_length, bool pad) {
  const ft::Encoding e = t.encode(text, max_length, pad);
  check_encoding(t, e, {text}, max_length, pad);
  const ft::Encoding full = t.encode(text);
  check(full.untruncated_length == static_cast<int32_t>(full.ids.size()));
  check(e.untruncated_length == full.untruncated_length);
  const size_t half = text.size() / 2;
  // Split at a character boundary so both halves stay valid.
  size_t cut = half;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  const std::string_view a = text.substr(0, cut), b = text.substr(cut);
  const int pair_max = max_length > 0 ? std::max(max_length, 3) : 0;
  check_encoding(t, t.encode_pair(a, b, pair_max, pad && pair_max > 0), {a, b}, pair_max, pad && pair_max > 0);
  const auto batch = t.encode_batch({std::string(text), std::string(a)}, max_length, 2, pad);
  check(batch.size() == 2 && batch[0].ids == e.ids && batch[0].offsets == e.offsets);
  (void)t.basic_tokenize(text);
  (void)t.tokenize(text);
}

// Valid UTF-8 from arbitrary bytes: three bytes choose a range and a code point in it.
std::string valid_text(const uint8_t* data, size_t size) {
  static const std::pair<char32_t, char32_t> ranges[] = {
      {0x20, 0x7E},     {0x00, 0x1F},       {0x80, 0x24F},      {0x300, 0x36F},     {0x370, 0x3FF},
      {0x590, 0x6FF},   {0x900, 0xDFF},     {0xE00, 0xFFF},     {0x1100, 0x11FF},   {0x2000, 0x206F},
      {0x2E00, 0x2E7F}, {0x3000, 0x30FF},   {0x4E00, 0x4E7F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
      {0xFE00, 0xFFFF}, {0x1D15E, 0x1D1C0}, {0x1F300, 0x1F6FF}, {0x20000, 0x2000F}, {0xE0000, 0xE007F},
      {0x0, 0x10FFFF}};
  std::string out;
  for (size_t i = 0; i + 2 < size; i += 3) {
    const auto& [lo, hi] = ranges[data[i] % std::size(ranges)];
    char32_t c = lo + ((static_cast<char32_t>(data[i + 1]) << 8 | data[i + 2]) % (hi - lo + 1));
    if (c >= 0xD800 && c <= 0xDFFF) c = 0xFFFD;
    char buf[4];
    out.append(buf, static_cast<size_t>(ft::utf8::encode(c, buf)));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ft::BertTokenizer& t = tokenizer(data[0]);
  const int max_length = data[0] & 0x10 ? 2 + (data[0] >> 5) * 3 : 0;
  const bool pad = max_length > 0 && (data[0] & 0x08);
  const std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool valid = ft::utf8::find_invalid(raw) == ft::utf8::kValid;
  try {
    encode_all_ways(t, raw, max_length, pad);
    check(valid);
  } catch (const ft::Error&) {
    check(!valid);
  }
  try {
    (void)t.encode_batch({"ok", std::string(raw)}, 0, 1);
    check(valid);
  } catch (const ft::Error& e) {
    check(!valid && std::string(e.what()).find("text 1: invalid UTF-8") != std::string::npos);
  }
  const std::string text = valid_text(data + 1, size - 1);
  encode_all_ways(t, text, max_length, pad);  // must not throw
  return 0;
}
