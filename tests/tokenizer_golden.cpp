// Parity with Hugging Face's fast BERT tokenizer on ftengine's own golden set (written by
// tools/golden/tokenizer.py into tests/golden/tokenizer/): the assembled corpus for the
// bert-base-uncased and bert-base-cased vocabularies (ids and byte offsets), pairs, truncation and
// padding, and every row of the UCDP files (hashes of the full encodings). Every item must match;
// each test prints its count. The vocabularies come from ../shared/data/vocab/.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/test_data.h"
#include "tests/tokenizer_csv.h"
#include "tokenizer/bert_tokenizer.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path golden() { return ft::test::golden_dir() / "tokenizer"; }

json load(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// The tokenizer transformers builds from a bare vocab.txt with do_lower_case as given.
const ft::BertTokenizer& tokenizer(const std::string& kind) {
  static std::map<std::string, ft::BertTokenizer> cache;
  auto it = cache.find(kind);
  if (it == cache.end()) {
    ft::TokenizerOptions o;
    o.lowercase = kind == "uncased";
    const fs::path vocab = ft::test::shared_data_dir() / "vocab" / ("bert-base-" + kind + "-vocab.txt");
    it = cache.emplace(kind, ft::BertTokenizer::from_vocab(vocab.string(), o)).first;
  }
  return it->second;
}

#define REQUIRE_VOCABS()                                                                    \
  do {                                                                                      \
    FT_REQUIRE_PATH(ft::test::shared_data_dir() / "vocab" / "bert-base-uncased-vocab.txt"); \
    FT_REQUIRE_PATH(ft::test::shared_data_dir() / "vocab" / "bert-base-cased-vocab.txt");   \
  } while (0)

std::vector<std::pair<int32_t, int32_t>> offsets_of(const json& j) {
  std::vector<std::pair<int32_t, int32_t>> out;
  for (const json& o : j) out.emplace_back(o[0].get<int32_t>(), o[1].get<int32_t>());
  return out;
}

std::string shown(const std::vector<int32_t>& ids) { return json(ids).dump(); }

uint32_t fnv1a32(const ft::Encoding& e) {
  uint32_t h = 0x811C9DC5u;
  auto mix = [&](int32_t v) {
    unsigned char b[4];
    const uint32_t u = static_cast<uint32_t>(v);
    for (int k = 0; k < 4; ++k) b[k] = static_cast<unsigned char>(u >> (8 * k));  // little-endian
    for (unsigned char x : b) h = (h ^ x) * 0x01000193u;
  };
  for (size_t i = 0; i < e.ids.size(); ++i) {
    mix(e.ids[i]);
    mix(e.offsets[i].first);
    mix(e.offsets[i].second);
  }
  return h;
}

class TokenizerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerGolden, CorpusIdsOffsetsAndWords) {
  REQUIRE_VOCABS();
  const std::string kind = GetParam();
  const json corpus = load(golden() / "corpus.json")["texts"];
  const json expected = load(golden() / (kind + ".json"))["encodings"];
  ASSERT_EQ(corpus.size(), expected.size());
  const ft::BertTokenizer& tok = tokenizer(kind);
  size_t ids_ok = 0, offsets_ok = 0, words_ok = 0, words_total = 0, reported = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const std::string text = corpus[i];
    const json& want = expected[i];
    const ft::Encoding e = tok.encode(text);
    const bool ids = e.ids == want["ids"].get<std::vector<int32_t>>();
    const bool offs = e.offsets == offsets_of(want["offsets"]);
    ids_ok += ids;
    offsets_ok += offs;
    bool words = true;
    if (want.contains("words") && !want["words"].is_null()) {
      ++words_total;
      words = tok.basic_tokenize(text) == want["words"].get<std::vector<std::string>>();
      words_ok += words;
    }
    if ((!ids || !offs || !words) && reported++ < 8) {
      std::string toks;
      for (int32_t id : e.ids) toks += tok.id_to_token(id) + " ";
      ADD_FAILURE() << kind << " text " << i << ": " << json(text).dump() << "\n got ids " << shown(e.ids)
                    << "\n want ids " << want["ids"].dump() << "\n got tokens " << toks << "\n got offsets "
                    << json(e.offsets).dump() << "\n want offsets " << want["offsets"].dump() << "\n got words "
                    << json(tok.basic_tokenize(text)).dump();
    }
  }
  std::cout << "[golden] " << kind << " corpus: ids " << ids_ok << "/" << corpus.size() << ", offsets " << offsets_ok
            << "/" << corpus.size() << ", words " << words_ok << "/" << words_total << "\n";
  EXPECT_EQ(ids_ok, corpus.size());
  EXPECT_EQ(offsets_ok, corpus.size());
  EXPECT_EQ(words_ok, words_total);
}

TEST_P(TokenizerGolden, BatchEqualsSingle) {
  REQUIRE_VOCABS();
  const std::string kind = GetParam();
  const json corpus = load(golden() / "corpus.json")["texts"];
  std::vector<std::string> texts;
  for (const json& t : corpus) texts.push_back(t);
  const ft::BertTokenizer& tok = tokenizer(kind);
  const auto batch = tok.encode_batch(texts, 64, 2, true);
  ASSERT_EQ(batch.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const ft::Encoding one = tok.encode(texts[i], 64, true);
    ASSERT_EQ(batch[i].ids, one.ids) << i;
    ASSERT_EQ(batch[i].offsets, one.offsets) << i;
    ASSERT_EQ(batch[i].attention_mask, one.attention_mask) << i;
    ASSERT_EQ(batch[i].untruncated_length, one.untruncated_length) << i;
  }
}

// Single-character vocabularies: every normalized character is a token, so its offsets show where
// NFD's canonical reordering and strip_accents put each character. Needs no shared data.
TEST_P(TokenizerGolden, CharacterVocabularyOffsets) {
  const json all = load(golden() / "charvocab.json");
  const json& texts = all["texts"];
  const json& spec = all[GetParam()];
  ft::TokenizerOptions o;
  o.lowercase = spec["lowercase"];
  const auto tok = ft::BertTokenizer::from_tokens(spec["vocab"].get<std::vector<std::string>>(), o);
  size_t ok = 0, reported = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string text = texts[i];
    const json& want = spec["encodings"][i];
    const ft::Encoding e = tok.encode(text);
    const bool match = e.ids == want["ids"].get<std::vector<int32_t>>() && e.offsets == offsets_of(want["offsets"]);
    ok += match;
    if (!match && reported++ < 5)
      ADD_FAILURE() << GetParam() << " text " << i << ": " << json(text).dump() << "\n got ids " << shown(e.ids)
                    << "\n want ids " << want["ids"].dump() << "\n got offsets " << json(e.offsets).dump()
                    << "\n want offsets " << want["offsets"].dump();
  }
  std::cout << "[golden] " << GetParam() << " single-character vocabulary: " << ok << "/" << texts.size() << "\n";
  EXPECT_EQ(ok, texts.size());
}

INSTANTIATE_TEST_SUITE_P(Vocabs, TokenizerGolden, ::testing::Values("uncased", "cased"));

// A text of a case: inline ("a") or a UCDP row by reference ("a_ref": [file, column, row]).
bool case_text(const json& c, const char* key, std::string* out) {
  if (c.contains(key)) {
    *out = c[key].get<std::string>();
    return true;
  }
  const std::string ref_key = std::string(key) + "_ref";
  if (!c.contains(ref_key)) return false;
  static std::map<std::string, std::vector<std::string>> columns;
  const json& ref = c[ref_key];
  const std::string file = (ft::test::shared_data_dir() / ref[0].get<std::string>()).string();
  const std::string id = file + "#" + ref[1].get<std::string>();
  if (!columns.count(id)) columns[id] = ft::test::read_csv_column(file, ref[1].get<std::string>());
  *out = columns[id].at(ref[2].get<size_t>());
  return true;
}

TEST(TokenizerGoldenCases, PairsTruncationPadding) {
  REQUIRE_VOCABS();
  FT_REQUIRE_PATH(ft::test::shared_data_dir() / "ucdp" / "ged_syria_daily_digest.csv");
  const json cases = load(golden() / "cases.json")["cases"];
  size_t ok = 0, reported = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    const ft::BertTokenizer& tok = tokenizer(c["vocab"]);
    std::string a, b;
    ASSERT_TRUE(case_text(c, "a", &a));
    const bool pair = case_text(c, "b", &b);
    const int max_length = c["max_length"];
    const bool pad = c["pad"];
    const ft::Encoding e = pair ? tok.encode_pair(a, b, max_length, pad) : tok.encode(a, max_length, pad);
    const bool match =
        e.ids == c["ids"].get<std::vector<int32_t>>() && e.type_ids == c["type_ids"].get<std::vector<int32_t>>() &&
        e.attention_mask == c["attention_mask"].get<std::vector<int32_t>>() && e.offsets == offsets_of(c["offsets"]);
    ok += match;
    if (!match && reported++ < 5)
      ADD_FAILURE() << "case " << i << " (" << c["vocab"] << ", max_length " << max_length << ", pad " << pad
                    << ")\n a: " << json(a).dump() << "\n b: " << json(b).dump() << "\n got ids " << shown(e.ids)
                    << "\n want ids " << c["ids"].dump() << "\n got types " << shown(e.type_ids) << "\n want types "
                    << c["type_ids"].dump() << "\n got offsets " << json(e.offsets).dump() << "\n want offsets "
                    << c["offsets"].dump();
  }
  std::cout << "[golden] cases.json (pairs, truncation, padding): " << ok << "/" << cases.size() << "\n";
  EXPECT_EQ(ok, cases.size());
}

TEST(TokenizerGoldenUcdp, EveryRowOfEveryFile) {
  REQUIRE_VOCABS();
  FT_REQUIRE_PATH(ft::test::shared_data_dir() / "ucdp" / "ged_syria_2016_2019.csv");
  const json spec = load(golden() / "ucdp.json");
  for (const json& f : spec["files"]) {
    const std::string file = (ft::test::shared_data_dir() / f["file"].get<std::string>()).string();
    const std::vector<std::string> texts = ft::test::read_csv_column(file, f["column"]);
    ASSERT_EQ(texts.size(), f["rows"].get<size_t>()) << file;
    for (const std::string kind : {"uncased", "cased"}) {
      for (const int max_length : {0, 256, 512}) {
        const std::string key = max_length ? kind + "_" + std::to_string(max_length) : kind;
        if (!f.contains(key)) continue;
        const std::string hashes = f[key];
        const auto encs = tokenizer(kind).encode_batch(texts, max_length);
        size_t ok = 0, tokens = 0, reported = 0;
        for (size_t r = 0; r < texts.size(); ++r) {
          char hex[9];
          std::snprintf(hex, sizeof hex, "%08x", fnv1a32(encs[r]));
          const bool match = hashes.compare(8 * r, 8, hex) == 0;
          ok += match;
          tokens += encs[r].ids.size();
          if (!match && reported++ < 3) {
            std::string toks;
            for (int32_t id : encs[r].ids) toks += tokenizer(kind).id_to_token(id) + " ";
            ADD_FAILURE() << f["file"] << " " << f["column"] << " row " << r << " (" << key
                          << "): hash differs\n text: " << json(texts[r]).dump() << "\n our tokens: " << toks;
          }
        }
        std::cout << "[golden] " << f["file"].get<std::string>() << " " << f["column"].get<std::string>() << " " << key
                  << ": " << ok << "/" << texts.size() << " rows, " << tokens << " tokens\n";
        EXPECT_EQ(ok, texts.size());
        EXPECT_EQ(tokens, f[key + "_tokens"].get<size_t>());
      }
    }
  }
}

}  // namespace
