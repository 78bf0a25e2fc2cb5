// BertTokenizer's contract beyond parity: loading (vocab.txt, tokenizer_config.json,
// tokenizer.json, model directories), the vocabulary trie, WordPiece's rules on small vocabularies,
// the UTF-8 input policy and its error messages, truncation and padding, special tokens written in
// the text, and the batch API.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/error.h"
#include "tests/support/test_data.h"
#include "tokenizer/bert_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kSmallVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "ba",   "##na", "na",
                                              "hello", "world", "!",     "##s",   "a",      "##a",  "b",    "##b",
                                              "cafe",  "café",  "Café",  "[",     "]",      "mask", "##é",  "e"};

ft::BertTokenizer small(ft::TokenizerOptions o = {}) { return ft::BertTokenizer::from_tokens(kSmallVocab, o); }

std::vector<std::string> tokens_of(const ft::BertTokenizer& t, const ft::Encoding& e) {
  std::vector<std::string> out;
  for (int32_t id : e.ids) out.push_back(t.id_to_token(id));
  return out;
}

// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() /
           ("ftengine_tokenizer_api_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path / name) << text; }
};

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ft::Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenizerVocab, TrieFindsEveryTokenAndNothingElse) {
  // Random valid UTF-8 tokens (ASCII, 2-, 3- and 4-byte characters), many sharing prefixes.
  std::mt19937 rng(7);
  const char32_t alphabet[] = {'a', 'b', 'c', '#', 0xE9, 0x4E2D, 0x1F600, 0x10FFFF, 0x7F, 0x80};
  std::set<std::string> unique;
  while (unique.size() < 5000) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) {
      char b[4];
      s.append(b, static_cast<size_t>(ft::utf8::encode(alphabet[rng() % std::size(alphabet)], b)));
    }
    unique.insert(s);
  }
  std::vector<std::string> tokens(unique.begin(), unique.end());
  std::shuffle(tokens.begin(), tokens.end(), rng);
  std::vector<std::string> kept(tokens.begin(), tokens.begin() + 4000);  // the rest must be absent
  const ft::Vocab v = ft::Vocab::from_tokens(kept, "random vocabulary");
  for (size_t i = 0; i < kept.size(); ++i) ASSERT_EQ(v.id(kept[i]), static_cast<int32_t>(i)) << kept[i];
  for (size_t i = 4000; i < tokens.size(); ++i) ASSERT_EQ(v.id(tokens[i]), -1) << tokens[i];
  EXPECT_EQ(v.id(""), -1);
}

TEST(TokenizerVocab, RepeatedTokenGivesItsLastIdAsHf) {
  const ft::Vocab v = ft::Vocab::from_tokens({"[UNK]", "x", "y", "x"}, "dup");
  EXPECT_EQ(v.id("x"), 3);
  EXPECT_EQ(v.token(1), "x");
  EXPECT_EQ(v.size(), 4);
}

TEST(TokenizerVocab, SharedVocabularyRoundTrips) {
  const fs::path path = ft::test::shared_data_dir() / "vocab" / "bert-base-uncased-vocab.txt";
  FT_REQUIRE_PATH(path);
  const ft::Vocab v = ft::Vocab::load_txt(path.string());
  ASSERT_EQ(v.size(), 30522);
  for (int32_t i = 0; i < v.size(); ++i) ASSERT_EQ(v.id(v.token(i)), i) << v.token(i);
}

TEST(TokenizerVocab, InvalidUtf8TokenIsAnError) {
  const std::string msg = error_of([] { ft::Vocab::from_tokens({"[UNK]", "ok", "bad\xff"}, "v.txt"); });
  EXPECT_NE(msg.find("v.txt: token 2 (line 3) is not valid UTF-8"), std::string::npos) << msg;
}

TEST(TokenizerWordPiece, GreedyLongestMatchAndUnknownWords) {
  const auto t = small();
  EXPECT_EQ(t.tokenize("banana"), (std::vector<std::string>{"ba", "##na", "##na"}));
  // No piece continues "nana" after "na" without ##-pieces for it: the whole word is unknown.
  EXPECT_EQ(t.tokenize("nanab"), (std::vector<std::string>{"na", "##na", "##b"}));
  EXPECT_EQ(t.tokenize("banx"), (std::vector<std::string>{"[UNK]"}));
  EXPECT_EQ(t.tokenize("hello world!"), (std::vector<std::string>{"hello", "world", "!"}));
  EXPECT_EQ(t.tokenize(""), std::vector<std::string>{});
}

TEST(TokenizerWordPiece, WordsOverTheCharacterLimitAreUnknown) {
  const auto t = small();
  const std::string a100(100, 'a'), a101(101, 'a');
  EXPECT_EQ(t.tokenize(a100).size(), 100u);
  EXPECT_EQ(t.tokenize(a101), std::vector<std::string>{"[UNK]"});
  // The limit counts characters after normalization: 101 "á" become 101 "a".
  std::string accented;
  for (int i = 0; i < 101; ++i) accented += "a\xCC\x81";  // a + U+0301
  EXPECT_EQ(t.tokenize(accented), std::vector<std::string>{"[UNK]"});
  ft::TokenizerOptions o;
  o.max_input_chars_per_word = 3;
  EXPECT_EQ(small(o).tokenize("aaa aaaa"), (std::vector<std::string>{"a", "##a", "##a", "[UNK]"}));
}

TEST(TokenizerWordPiece, ContinuationPrefixIsConfigurable) {
  ft::TokenizerOptions o;
  o.continuing_subword_prefix = "@@";
  const auto t = ft::BertTokenizer::from_tokens({"[UNK]", "[CLS]", "[SEP]", "[PAD]", "ba", "@@na", "##na"}, o);
  EXPECT_EQ(t.tokenize("banana"), (std::vector<std::string>{"ba", "@@na", "@@na"}));
}

TEST(TokenizerNormalizer, CaseAndAccentOptions) {
  ft::TokenizerOptions cased;
  cased.lowercase = false;
  EXPECT_EQ(small(cased).tokenize("Café"), std::vector<std::string>{"Café"});
  EXPECT_EQ(small().tokenize("Café"), std::vector<std::string>{"cafe"});
  ft::TokenizerOptions keep_accents;
  keep_accents.strip_accents = 0;
  EXPECT_EQ(small(keep_accents).tokenize("CAFÉ"), std::vector<std::string>{"café"});
  ft::TokenizerOptions strip_cased;
  strip_cased.lowercase = false;
  strip_cased.strip_accents = 1;
  EXPECT_EQ(small(strip_cased).basic_tokenize("Café"), std::vector<std::string>{"Cafe"});
  ft::TokenizerOptions no_cjk;
  no_cjk.tokenize_chinese_chars = false;
  EXPECT_EQ(small(no_cjk).basic_tokenize("a中文b"), std::vector<std::string>{"a中文b"});
  EXPECT_EQ(small().basic_tokenize("a中文b"), (std::vector<std::string>{"a", "中", "文", "b"}));
  ft::TokenizerOptions raw;
  raw.clean_text = false;
  EXPECT_EQ(small(raw).basic_tokenize(std::string("a\0b", 3)), std::vector<std::string>{std::string("a\0b", 3)});
  EXPECT_EQ(small().basic_tokenize(std::string("a\0b", 3)), std::vector<std::string>{"ab"});
}

TEST(TokenizerInput, InvalidUtf8NamesTheByteOffset) {
  const auto t = small();
  const std::pair<std::string, size_t> bad[] = {
      {"ab\xC3(", 2},              // a lead byte without its continuation
      {"\x80", 0},                 // a lone continuation byte
      {"x\xC0\x80", 1},            // overlong NUL
      {"xy\xE0\x80\xAF", 2},       // overlong 3-byte form
      {"\xED\xA0\x80", 0},         // a surrogate (U+D800)
      {"abc\xF4\x90\x80\x80", 3},  // above U+10FFFF
      {"\xF5\x80\x80\x80", 0},     // never a lead byte
      {"hello\xE2\x82", 5},        // truncated at the end
      {"ok \xFF", 3},
  };
  for (const auto& [text, offset] : bad) {
    const std::string msg = error_of([&] { t.encode(text); });
    EXPECT_NE(msg.find("text: invalid UTF-8 at byte offset " + std::to_string(offset)), std::string::npos) << msg;
    EXPECT_EQ(ft::utf8::find_invalid(text), offset);
  }
  // The extremes of the valid range pass.
  EXPECT_NO_THROW(t.encode("\xF4\x8F\xBF\xBF \xEF\xBF\xBF \xED\x9F\xBF \xC2\x80"));
  EXPECT_EQ(ft::utf8::find_invalid("plain ascii text, longer than eight bytes"), ft::utf8::kValid);
}

TEST(TokenizerInput, BatchErrorNamesTheText) {
  const auto t = small();
  std::vector<std::string> texts(40, "hello world");
  texts[17] = "bad \xC3";
  texts[33] = "\xFF";
  for (int threads : {1, 2}) {
    const std::string msg = error_of([&] { t.encode_batch(texts, 0, threads); });
    EXPECT_NE(msg.find("text 17: invalid UTF-8 at byte offset 4 (byte 0xC3)"), std::string::npos) << msg;
  }
  std::vector<std::string> b(40, "x");
  b[5] = "\xC3";
  const std::string msg = error_of([&] { t.encode_pair_batch(std::vector<std::string>(40, "a"), b); });
  EXPECT_NE(msg.find("text 5: invalid UTF-8 at byte offset 0"), std::string::npos) << msg;
}

TEST(TokenizerEncoding, SpecialsOffsetsAndTypes) {
  const auto t = small();
  const ft::Encoding e = t.encode("hello bananas!");
  EXPECT_EQ(tokens_of(t, e), (std::vector<std::string>{"[CLS]", "hello", "ba", "##na", "##na", "##s", "!", "[SEP]"}));
  EXPECT_EQ(e.offsets, (std::vector<std::pair<int32_t, int32_t>>{
                           {0, 0}, {0, 5}, {6, 8}, {8, 10}, {10, 12}, {12, 13}, {13, 14}, {0, 0}}));
  EXPECT_EQ(e.type_ids, std::vector<int32_t>(8, 0));
  EXPECT_EQ(e.attention_mask, std::vector<int32_t>(8, 1));
  EXPECT_EQ(e.untruncated_length, 8);
  // Byte offsets: "é" is two bytes.
  const ft::Encoding c = t.encode("é café");
  EXPECT_EQ(c.offsets[1], (std::pair<int32_t, int32_t>{0, 2}));
  EXPECT_EQ(c.offsets[2], (std::pair<int32_t, int32_t>{3, 8}));
  const ft::Encoding p = t.encode_pair("hello", "world !");
  EXPECT_EQ(tokens_of(t, p), (std::vector<std::string>{"[CLS]", "hello", "[SEP]", "world", "!", "[SEP]"}));
  EXPECT_EQ(p.type_ids, (std::vector<int32_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(p.offsets[4], (std::pair<int32_t, int32_t>{6, 7}));  // offsets into the second text
}

TEST(TokenizerEncoding, TruncationKeepsSpecialsAndPaddingFills) {
  const auto t = small();
  const ft::Encoding e = t.encode("a a a a a a", 5, true);
  EXPECT_EQ(tokens_of(t, e), (std::vector<std::string>{"[CLS]", "a", "a", "a", "[SEP]"}));
  EXPECT_EQ(e.untruncated_length, 8);
  const ft::Encoding p = t.encode("a b", 7, true);
  EXPECT_EQ(tokens_of(t, p), (std::vector<std::string>{"[CLS]", "a", "b", "[SEP]", "[PAD]", "[PAD]", "[PAD]"}));
  EXPECT_EQ(p.attention_mask, (std::vector<int32_t>{1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(p.type_ids, std::vector<int32_t>(7, 0));
  EXPECT_EQ(p.offsets[5], (std::pair<int32_t, int32_t>{0, 0}));
  // Longest first: the longer side gives way; with both long, the first gets the smaller half.
  const ft::Encoding q = t.encode_pair("a a", "b b b b b b", 8);
  EXPECT_EQ(tokens_of(t, q), (std::vector<std::string>{"[CLS]", "a", "a", "[SEP]", "b", "b", "b", "[SEP]"}));
  const ft::Encoding r = t.encode_pair("a a a a a", "b b b b b", 8);
  EXPECT_EQ(tokens_of(t, r), (std::vector<std::string>{"[CLS]", "a", "a", "[SEP]", "b", "b", "b", "[SEP]"}));
  EXPECT_EQ(r.untruncated_length, 13);
  EXPECT_NE(error_of([&] { t.encode("a", 1); }).find("max_length 1 leaves no room"), std::string::npos);
  EXPECT_NE(error_of([&] { t.encode_pair("a", "b", 2); }).find("max_length 2 leaves no room"), std::string::npos);
  EXPECT_NE(error_of([&] { t.encode("a", 0, true); }).find("padding needs a positive max_length"), std::string::npos);
  EXPECT_EQ(t.encode("a a a", 2).ids, (std::vector<int32_t>{t.cls_id(), t.sep_id()}));
}

TEST(TokenizerEncoding, SpecialTokensWrittenInTheText) {
  const auto t = small();
  EXPECT_EQ(tokens_of(t, t.encode("hello [MASK]!")),
            (std::vector<std::string>{"[CLS]", "hello", "[MASK]", "!", "[SEP]"}));
  EXPECT_EQ(t.encode("hello [MASK]!").offsets[2], (std::pair<int32_t, int32_t>{6, 12}));
  // Case-sensitive and exact, as HF's added tokens with normalized=false.
  EXPECT_EQ(tokens_of(t, t.encode("[mask]")), (std::vector<std::string>{"[CLS]", "[", "mask", "]", "[SEP]"}));
  EXPECT_EQ(t.basic_tokenize("a[SEP]b"), (std::vector<std::string>{"a", "[SEP]", "b"}));
  ft::TokenizerOptions literal;
  literal.match_special_tokens = false;
  EXPECT_EQ(tokens_of(small(literal), small(literal).encode("[MASK]")),
            (std::vector<std::string>{"[CLS]", "[", "mask", "]", "[SEP]"}));
}

TEST(TokenizerBatch, SameAsOneByOneOnAnyThreadCount) {
  const auto t = small();
  std::vector<std::string> texts;
  std::mt19937 rng(3);
  const char* words[] = {"hello", "banana", "world", "!", "café", "中", "[MASK]", "x", " ", "\xCC\x81"};
  for (int i = 0; i < 500; ++i) {
    std::string s;
    for (int k = 0; k < static_cast<int>(rng() % 12); ++k) s += std::string(words[rng() % 10]) + " ";
    texts.push_back(s);
  }
  const auto one = t.encode_batch(texts, 8, 1, true);
  for (int threads : {2, 0}) {
    const auto many = t.encode_batch(texts, 8, threads, true);
    ASSERT_EQ(many.size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      ASSERT_EQ(many[i].ids, one[i].ids) << i;
      ASSERT_EQ(many[i].offsets, one[i].offsets) << i;
      ASSERT_EQ(one[i].ids, t.encode(texts[i], 8, true).ids) << i;
    }
  }
  const auto pairs = t.encode_pair_batch(texts, texts, 16, 2);
  for (size_t i = 0; i < texts.size(); ++i) ASSERT_EQ(pairs[i].ids, t.encode_pair(texts[i], texts[i], 16).ids);
  EXPECT_NE(error_of([&] { t.encode_pair_batch(texts, {"a"}); }).find("500 first texts but 1 second texts"),
            std::string::npos);
  EXPECT_TRUE(t.encode_batch({}).empty());
}

TEST(TokenizerLoad, AccessorsAndErrors) {
  const auto t = small();
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.unk_id(), 1);
  EXPECT_EQ(t.cls_id(), 2);
  EXPECT_EQ(t.sep_id(), 3);
  EXPECT_EQ(t.mask_id(), 4);
  EXPECT_EQ(t.vocab_size(), static_cast<int32_t>(kSmallVocab.size()));
  EXPECT_EQ(t.token_to_id("banana"), -1);
  EXPECT_EQ(t.token_to_id("##na"), 6);
  EXPECT_NE(error_of([&] { t.id_to_token(999); }).find("token id 999 is outside the vocabulary"), std::string::npos);
  EXPECT_NE(error_of([] { ft::BertTokenizer::from_vocab("/nonexistent/vocab.txt"); }).find("/nonexistent/vocab.txt"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              ft::BertTokenizer::from_tokens({"[CLS]", "[SEP]", "[PAD]"});
            }).find("the unk_token [UNK] is not in the vocabulary"),
            std::string::npos);
  EXPECT_NE(error_of([] { ft::BertTokenizer::from_dir("/nonexistent-dir"); }).find("not a directory"),
            std::string::npos);
}

std::string vocab_txt() {
  std::string s;
  for (const auto& t : kSmallVocab) s += t + "\n";
  return s;
}

TEST(TokenizerLoad, DirectoryWithVocabAndConfig) {
  TempDir d;
  d.write("vocab.txt", vocab_txt());
  EXPECT_EQ(ft::BertTokenizer::from_dir(d.path.string()).tokenize("Café"), std::vector<std::string>{"cafe"});
  d.write("tokenizer_config.json",
          R"({"do_lower_case": false, "model_max_length": 256, "strip_accents": null,
              "cls_token": {"content": "[CLS]", "__type": "AddedToken"}, "tokenize_chinese_chars": true})");
  const auto t = ft::BertTokenizer::from_dir(d.path.string());
  EXPECT_FALSE(t.options().lowercase);
  EXPECT_EQ(t.options().model_max_length, 256);
  EXPECT_EQ(t.tokenize("Café"), std::vector<std::string>{"Café"});
  d.write("tokenizer_config.json", R"({"model_max_length": 1e30})");
  EXPECT_EQ(ft::BertTokenizer::from_dir(d.path.string()).options().model_max_length, 512);  // "no limit" kept at 512
  d.write("tokenizer_config.json", R"({"do_lower_case": "yes"})");
  EXPECT_NE(error_of([&] { ft::BertTokenizer::from_dir(d.path.string()); }).find("do_lower_case must be true or false"),
            std::string::npos);
}

std::string tokenizer_json(const std::string& model_type, const std::string& normalizer,
                           const std::string& added = R"([{"id": 4, "content": "[MASK]", "special": true,
                             "normalized": false, "lstrip": false, "rstrip": false, "single_word": false}])") {
  std::string vocab;
  for (size_t i = 0; i < kSmallVocab.size(); ++i)
    vocab += (i ? ", " : "") + nlohmann::json(kSmallVocab[i]).dump() + ": " + std::to_string(i);
  return R"({"version": "1.0", "added_tokens": )" + added + R"(, "normalizer": )" + normalizer +
         R"(, "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
    "model": {"type": ")" +
         model_type + R"(", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100, "vocab": {)" +
         vocab + "}}}";
}

TEST(TokenizerLoad, TokenizerJsonSettingsAndUnsupportedParts) {
  TempDir d;
  const std::string bert_norm =
      R"({"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null,
          "lowercase": false})";
  d.write("tokenizer.json", tokenizer_json("WordPiece", bert_norm));
  const auto t = ft::BertTokenizer::from_dir(d.path.string());
  EXPECT_FALSE(t.options().lowercase);
  EXPECT_EQ(t.tokenize("Café [MASK]"), (std::vector<std::string>{"Café", "[MASK]"}));
  EXPECT_EQ(t.tokenize("[CLS]"), (std::vector<std::string>{"[", "[UNK]", "]"}));  // not an added token here
  d.write("tokenizer.json", tokenizer_json("BPE", bert_norm));
  EXPECT_NE(error_of([&] { ft::BertTokenizer::from_dir(d.path.string()); }).find("WordPiece"), std::string::npos);
  d.write("tokenizer.json", tokenizer_json("WordPiece", R"({"type": "Lowercase"})"));
  EXPECT_NE(
      error_of([&] { ft::BertTokenizer::from_dir(d.path.string()); }).find("normalizer Lowercase is not supported"),
      std::string::npos);
  d.write("tokenizer.json", tokenizer_json("WordPiece", bert_norm,
                                           R"([{"id": 5, "content": "ba", "special": false, "normalized": true}])"));
  EXPECT_NE(error_of([&] { ft::BertTokenizer::from_dir(d.path.string()); }).find("normalized=true"), std::string::npos);
  d.write("tokenizer.json", "{not json");
  EXPECT_NE(error_of([&] { ft::BertTokenizer::from_dir(d.path.string()); }).find("not valid JSON"), std::string::npos);
}

TEST(TokenizerLoad, MiniLmDirectoryMatchesTheSharedVocabulary) {
  FT_REQUIRE_PATH(ft::test::minilm_dir() / "tokenizer.json");
  const fs::path vocab = ft::test::shared_data_dir() / "vocab" / "bert-base-uncased-vocab.txt";
  FT_REQUIRE_PATH(vocab);
  const auto from_json = ft::BertTokenizer::from_dir(ft::test::minilm_dir().string());
  const auto from_txt = ft::BertTokenizer::from_vocab(vocab.string());
  EXPECT_TRUE(from_json.options().lowercase);
  EXPECT_EQ(from_json.options().model_max_length, 512);
  EXPECT_EQ(from_json.vocab_size(), 30522);
  for (const char* text :
       {"Hello [MASK] world!", "Ça va? Où est-ce?", "生活的真谛是", "14 shells hit Dahya al-Assad"}) {
    const ft::Encoding a = from_json.encode(text), b = from_txt.encode(text);
    EXPECT_EQ(a.ids, b.ids) << text;
    EXPECT_EQ(a.offsets, b.offsets) << text;
  }
}

}  // namespace
