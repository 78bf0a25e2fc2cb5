// Parity with the Hugging Face BERT tokenizer (bert-base-uncased) on the shared reference sets in
// ../shared/data/tokenizer-parity/ (from huggingface/swift-transformers' test resources): 10,570
// SQuAD questions (basic tokens, WordPiece tokens, ids), the small encoding cases and a French
// paragraph. Every item must match exactly; each test prints its count.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tests/support/test_data.h"
#include "tokenizer/bert_tokenizer.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path parity_dir() { return ft::test::shared_data_dir() / "tokenizer-parity"; }
fs::path uncased_vocab() { return ft::test::shared_data_dir() / "vocab" / "bert-base-uncased-vocab.txt"; }

json load(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

const ft::BertTokenizer& uncased() {
  static const ft::BertTokenizer t = ft::BertTokenizer::from_vocab(uncased_vocab().string());
  return t;
}

template <class T>
std::string show(const std::vector<T>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + ::testing::PrintToString(v[i]);
  return s + "]";
}

TEST(TokenizerParity, SquadQuestionsBasicAndWordPieceTokens) {
  FT_REQUIRE_PATH(parity_dir() / "question_tokens.json");
  FT_REQUIRE_PATH(uncased_vocab());
  const json q = load(parity_dir() / "question_tokens.json");
  size_t basic_ok = 0, wp_ok = 0, reported = 0;
  for (const json& e : q) {
    const std::string text = e["original"];
    const auto basic = uncased().basic_tokenize(text);
    const auto wp = uncased().tokenize(text);
    const bool b = basic == e["basic"].get<std::vector<std::string>>();
    const bool w = wp == e["wordpiece"].get<std::vector<std::string>>();
    basic_ok += b;
    wp_ok += w;
    if ((!b || !w) && reported++ < 5)
      ADD_FAILURE() << "text: " << text << "\n basic: " << show(basic) << "\n wordpiece: " << show(wp)
                    << "\n expected: " << e["wordpiece"].dump();
  }
  std::cout << "[parity] question_tokens.json basic: " << basic_ok << "/" << q.size() << ", wordpiece: " << wp_ok << "/"
            << q.size() << "\n";
  EXPECT_EQ(basic_ok, q.size());
  EXPECT_EQ(wp_ok, q.size());
  EXPECT_EQ(q.size(), 10570u);
}

TEST(TokenizerParity, SquadQuestionIds) {
  FT_REQUIRE_PATH(parity_dir() / "tokenized_questions.json");
  FT_REQUIRE_PATH(parity_dir() / "question_tokens.json");
  FT_REQUIRE_PATH(uncased_vocab());
  const json q = load(parity_dir() / "question_tokens.json");
  const json ids = load(parity_dir() / "tokenized_questions.json");
  ASSERT_EQ(q.size(), ids.size());
  size_t ok = 0, reported = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    const auto got = uncased().tokenize_ids(q[i]["original"].get<std::string>());
    const bool match = got == ids[i].get<std::vector<int32_t>>();
    ok += match;
    if (!match && reported++ < 5)
      ADD_FAILURE() << "question " << i << ": " << q[i]["original"] << "\n got " << show(got) << "\n expected "
                    << ids[i].dump();
  }
  std::cout << "[parity] tokenized_questions.json ids: " << ok << "/" << q.size() << "\n";
  EXPECT_EQ(ok, q.size());
}

TEST(TokenizerParity, SmallEncodingCases) {
  FT_REQUIRE_PATH(parity_dir() / "tokenizer_tests.json");
  FT_REQUIRE_PATH(uncased_vocab());
  const json all = load(parity_dir() / "tokenizer_tests.json");
  size_t ok = 0, total = 0;
  for (const char* key : {"bert-base-uncased", "google-bert/bert-base-uncased"}) {
    ASSERT_TRUE(all.contains(key)) << key;
    for (const json& c : all[key]) {
      ++total;
      const std::string text = c["input"];
      const ft::Encoding e = uncased().encode(text);
      const json& want = c["encoded"];
      const bool match = e.ids == want["input_ids"].get<std::vector<int32_t>>() &&
                         e.type_ids == want["token_type_ids"].get<std::vector<int32_t>>() &&
                         e.attention_mask == want["attention_mask"].get<std::vector<int32_t>>();
      ok += match;
      if (!match)
        ADD_FAILURE() << key << ": " << json(text).dump() << "\n got " << show(e.ids) << "\n expected " << want.dump();
    }
  }
  std::cout << "[parity] tokenizer_tests.json cases: " << ok << "/" << total << "\n";
  EXPECT_EQ(ok, total);
}

TEST(TokenizerParity, FrenchParagraphAccentsStripped) {
  FT_REQUIRE_PATH(parity_dir() / "bert_uncased_encoded.json");
  FT_REQUIRE_PATH(uncased_vocab());
  const json d = load(parity_dir() / "bert_uncased_encoded.json");
  const std::string text = d["text"];
  EXPECT_EQ(uncased().tokenize(text), d["bpe_tokens"].get<std::vector<std::string>>());
  EXPECT_EQ(uncased().encode(text).ids, d["token_ids"].get<std::vector<int32_t>>());
  std::cout << "[parity] bert_uncased_encoded.json: " << d["token_ids"].size() << " ids compared\n";
}

}  // namespace
