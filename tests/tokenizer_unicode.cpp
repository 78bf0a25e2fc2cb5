// Every code point through ftengine's BertNormalizer tables against what Hugging Face `tokenizers`
// does (tests/golden/tokenizer/codepoints.json, written by tools/golden/tokenizer.py): which
// characters clean_text removes, what lower-casing and strip_accents (NFD, then no Mn) make of each,
// which are CJK ideographs, whitespace and punctuation. A failure here after a utf8proc upgrade
// means tokenizer/unicode_quirks.inc must be regenerated (tokenizer/gen_unicode_quirks.py).
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tests/support/test_data.h"
#include "tokenizer/char_actions.h"
#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace {

using nlohmann::json;

const json& codepoints() {
  static const json j = [] {
    std::ifstream in(ft::test::golden_dir() / "tokenizer" / "codepoints.json");
    return json::parse(in);
  }();
  return j;
}

bool in_ranges(const json& ranges, char32_t c) {
  // Ranges are sorted: binary search on the first element.
  size_t lo = 0, hi = ranges.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (ranges[mid][1].get<uint32_t>() < c)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < ranges.size() && ranges[lo][0].get<uint32_t>() <= c;
}

std::string utf8_of(char32_t c) {
  char b[4];
  return std::string(b, static_cast<size_t>(ft::utf8::encode(c, b)));
}

// What ftengine's tables make of one character under clean_text (CJK spacing off).
std::string normalized(const ft::CharActions& actions, char32_t c) {
  std::string pool;
  const ft::CharAction a = c < 0x10000 ? actions.bmp(c) : actions.compute(c, &pool);
  const std::string& p = c < 0x10000 ? actions.pool() : pool;
  switch (a.kind) {
    case ft::CharKind::kDrop:
    case ft::CharKind::kMark:
      return "";
    case ft::CharKind::kSpace:
      return " ";  // clean_text maps whitespace to a space
    case ft::CharKind::kWord:
    case ft::CharKind::kPunct:
    case ft::CharKind::kIsolated:
      return std::string(actions.bytes(a, p), a.len);
    case ft::CharKind::kComplex: {
      ft::CharPiece ps[8];
      const int n = actions.pieces(c, ps, 8);
      std::string out;
      for (int i = 0; i < n; ++i)
        for (int k = 0; k < ps[i].count; ++k) out += utf8_of(ps[i].out[k]);
      return out;
    }
  }
  return "?";
}

bool is_code_point(char32_t c) { return c < 0xD800 || (c > 0xDFFF && c < 0x110000); }

TEST(TokenizerUnicode, QuirksMatchThisUtf8proc) {
  if (std::string(ft::hf_unicode::utf8proc_unicode_version()) != ft::hf_unicode::quirks_unicode_version())
    std::cout << "[unicode] utf8proc has Unicode " << ft::hf_unicode::utf8proc_unicode_version()
              << " but tokenizer/unicode_quirks.inc was generated against Unicode "
              << ft::hf_unicode::quirks_unicode_version() << ": if the tests below fail, rerun "
              << "tokenizer/gen_unicode_quirks.py\n";
  std::cout << "[unicode] quirks from tokenizers " << ft::hf_unicode::quirks_tokenizers_version() << "; golden from "
            << codepoints()["tokenizers"].get<std::string>() << "\n";
  SUCCEED();
}

class TokenizerUnicodeConfig : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerUnicodeConfig, EveryCodePointNormalizesAsTokenizers) {
  const json& cfg = codepoints()["configs"][GetParam()];
  ft::NormalizerOptions o;
  o.clean_text = true;
  o.handle_chinese_chars = false;
  o.lowercase = cfg["lowercase"];
  o.strip_accents = cfg["strip_accents"];
  const ft::CharActions actions(o);
  const json& removed = cfg["removed"];
  const json& changed = cfg["changed"];
  size_t ok = 0, total = 0, reported = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (!is_code_point(c)) continue;
    ++total;
    std::string want;
    if (!in_ranges(removed, c)) {
      auto it = changed.find(std::to_string(static_cast<uint32_t>(c)));
      want = it != changed.end() ? it->get<std::string>() : utf8_of(c);
    }
    const std::string got = normalized(actions, c);
    if (got == want) {
      ++ok;
    } else if (reported++ < 10) {
      ADD_FAILURE() << GetParam() << ": U+" << std::hex << static_cast<uint32_t>(c) << " gives " << json(got).dump()
                    << ", tokenizers gives " << json(want).dump();
    }
  }
  std::cout << "[unicode] " << GetParam() << ": " << ok << "/" << total << " code points\n";
  EXPECT_EQ(ok, total);
}

INSTANTIATE_TEST_SUITE_P(Configs, TokenizerUnicodeConfig,
                         ::testing::Values("lower_strip", "cased", "lower_nostrip", "strip_nolower"));

TEST(TokenizerUnicode, WhitespacePunctuationAndCjkClasses) {
  const json& j = codepoints();
  size_t ok = 0, total = 0, reported = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (!is_code_point(c)) continue;
    ++total;
    const bool ws = in_ranges(j["whitespace"], c), punct = in_ranges(j["punctuation"], c),
               cjk = in_ranges(j["chinese"], c);
    const bool match = ws == ft::hf_unicode::is_whitespace(c) && punct == (!ws && ft::hf_unicode::is_punctuation(c)) &&
                       cjk == ft::hf_unicode::is_chinese_char(c);
    ok += match;
    if (!match && reported++ < 10)
      ADD_FAILURE() << "U+" << std::hex << static_cast<uint32_t>(c) << ": tokenizers says whitespace " << ws
                    << ", punctuation " << punct << ", CJK " << cjk;
  }
  std::cout << "[unicode] pre-tokenizer classes and CJK ranges: " << ok << "/" << total << " code points\n";
  EXPECT_EQ(ok, total);
}

}  // namespace
