// The demo's synthetic conflict-event corpus: deterministic, varied, and its targets are what its
// texts say.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "model/data/dataset.h"
#include "model/data/synthetic_corpus.h"

using namespace ft;

namespace {

const char* kUnits[] = {"zero",    "one",     "two",       "three",    "four",     "five",    "six",
                        "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
                        "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
const char* kTens[] = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};

std::string words(int n) {
  if (n < 20) return kUnits[n];
  std::string r = kTens[n / 10];
  if (n % 10) r += std::string("-") + kUnits[n % 10];
  return r;
}

// Whether `text` states `deaths` as a whole number or in words (case-insensitive).
bool states_count(std::string text, int deaths) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::regex digits("(^|[^0-9-])" + std::to_string(deaths) + "([^0-9-]|$)");
  if (std::regex_search(text, digits)) return true;
  if (deaths >= 100) return false;
  const std::regex word("(^|[^a-z-])" + words(deaths) + "([^a-z-]|$)");
  return std::regex_search(text, word);
}

}  // namespace

TEST(SyntheticCorpus, DeterministicAndSeeded) {
  for (int64_t i : {0, 1, 17, 999}) {
    EXPECT_EQ(synthetic_report(2024, i).text, synthetic_report(2024, i).text);
  }
  int same = 0;
  for (int64_t i = 0; i < 50; ++i) same += synthetic_report(2024, i).text == synthetic_report(7, i).text;
  EXPECT_LT(same, 3);
}

TEST(SyntheticCorpus, TextsStateTheirTollAndTargetsMatch) {
  SyntheticCorpusOptions o;
  o.rows = 1500;
  const Dataset d = synthetic_conflict_corpus(o);
  ASSERT_EQ(d.examples.size(), 1500u);
  int zero = 0, large = 0, with_words = 0, with_other_numbers = 0;
  std::set<std::string> openings;
  for (int64_t i = 0; i < o.rows; ++i) {
    const SyntheticReport r = synthetic_report(o.seed, i);
    const Example& ex = d.examples[static_cast<size_t>(i)];
    EXPECT_EQ(ex.text, r.text);
    EXPECT_DOUBLE_EQ(ex.target, std::log1p(r.deaths));
    EXPECT_TRUE(is_valid_utf8(ex.text));
    ASSERT_GE(r.deaths, 0);
    ASSERT_LE(r.deaths, 300);
    if (r.deaths == 0) {
      ++zero;
      const bool says_none = ex.text.find("no casualties") != std::string::npos ||
                             ex.text.find("nobody was killed") != std::string::npos ||
                             ex.text.find("No one died") != std::string::npos ||
                             ex.text.find("without loss of life") != std::string::npos;
      EXPECT_TRUE(says_none) << ex.text;
    } else {
      EXPECT_TRUE(r.deaths == 1 || states_count(ex.text, r.deaths)) << r.deaths << ": " << ex.text;
    }
    large += r.deaths >= 50;
    with_words += r.deaths > 1 && r.deaths < 100 && !std::regex_search(ex.text, std::regex(std::to_string(r.deaths)));
    // Distractors: some number other than the toll.
    std::smatch m;
    std::string rest = ex.text;
    bool other = false;
    while (std::regex_search(rest, m, std::regex("[0-9]+"))) {
      other = other || std::stoi(m.str()) != r.deaths;
      rest = m.suffix();
    }
    with_other_numbers += other;
    openings.insert(ex.text.substr(0, ex.text.find(' ', ex.text.find(' ') + 1)));
  }
  // The mix the generator promises (1 in 7 without deaths; log-uniform tolls; words and digits;
  // distractor numbers; varied sentences), with wide margins for sampling.
  EXPECT_GT(zero, 1500 / 7 / 2);
  EXPECT_LT(zero, 1500 / 7 * 2);
  EXPECT_GT(large, 150);
  EXPECT_GT(with_words, 100);
  EXPECT_GT(with_other_numbers, 750);
  EXPECT_GT(openings.size(), 60u);
}

TEST(SyntheticCorpus, SplitAndCsvRoundTrip) {
  SyntheticCorpusOptions o;
  o.rows = 200;
  const Dataset d = synthetic_conflict_corpus(o);
  const DataSplits s = split_by_column(d);
  EXPECT_EQ(s.valid.size(), 20u);
  EXPECT_EQ(s.test.size(), 20u);
  EXPECT_EQ(s.train.size(), 160u);
  const auto path = std::filesystem::temp_directory_path() / "ft_synthetic_corpus_test.csv";
  write_synthetic_corpus_csv(d, path.string());
  DataColumns c;
  c.text = "text";
  c.target = "ln_deaths";
  c.split = "split";
  c.id = "id";
  const Dataset back = read_dataset(path.string(), c);
  std::filesystem::remove(path);
  ASSERT_EQ(back.examples.size(), d.examples.size());
  for (size_t i = 0; i < d.examples.size(); ++i) {
    EXPECT_EQ(back.examples[i].text, d.examples[i].text);
    EXPECT_EQ(back.examples[i].id, d.examples[i].id);
    EXPECT_EQ(back.examples[i].split, d.examples[i].split);
    EXPECT_NEAR(back.examples[i].target, d.examples[i].target, 5e-7);  // written with 6 decimals
  }
}
