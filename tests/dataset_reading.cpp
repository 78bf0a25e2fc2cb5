// Reading regression data: RFC 4180 CSV, TSV, JSON Lines, bad rows, splits.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/error.h"
#include "model/data/dataset.h"

namespace fs = std::filesystem;
using namespace ft;

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("ft_dataset_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& bytes) const {
    const fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }

 private:
  fs::path path_;
};

// The message of the ft::Error that `f` throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

DataColumns cols(std::string text = "text", std::string target = "y") {
  DataColumns c;
  c.text = std::move(text);
  c.target = std::move(target);
  return c;
}

}  // namespace

TEST(DatasetCsv, QuotedFieldsWithCommasQuotesAndNewlines) {
  const Table t = parse_delimited(
      "a,b,c\r\n"
      "1,\"x, y\",3\r\n"
      "\"he said \"\"hi\"\"\",\"line one\nline two\",\r\n"
      "\"\",plain text,\"\"\"\"\n",
      ',', "mem.csv");
  ASSERT_EQ(t.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[0].fields, (std::vector<std::string>{"1", "x, y", "3"}));
  EXPECT_EQ(t.records[0].line, 2);
  EXPECT_EQ(t.records[1].fields, (std::vector<std::string>{"he said \"hi\"", "line one\nline two", ""}));
  EXPECT_EQ(t.records[1].line, 3);
  // The embedded newline moved the next record to line 5.
  EXPECT_EQ(t.records[2].fields, (std::vector<std::string>{"", "plain text", "\""}));
  EXPECT_EQ(t.records[2].line, 5);
}

TEST(DatasetCsv, BomBlankLinesCrlfInQuotesAndNoFinalNewline) {
  const Table t = parse_delimited("\xEF\xBB\xBFtext,y\n\nfoo,1\r\n\r\n\"a\r\nb\",2", ',', "mem.csv");
  ASSERT_EQ(t.header, (std::vector<std::string>{"text", "y"}));
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[0].line, 3);
  EXPECT_EQ(t.records[1].fields[0], "a\r\nb");  // inside quotes a CRLF is data
  EXPECT_EQ(t.records[1].fields[1], "2");
  EXPECT_EQ(t.records[1].line, 5);
}

TEST(DatasetCsv, QuoteInsideUnquotedFieldIsLiteral) {
  const Table t = parse_delimited("text,y\na 5\" gun,1\n", ',', "mem.csv");
  EXPECT_EQ(t.records[0].fields[0], "a 5\" gun");
}

TEST(DatasetCsv, StructuralFaultsNameFileAndLine) {
  std::string e = error_of([] { parse_delimited("text,y\n\"never closed,1\nmore\n", ',', "bad.csv"); });
  EXPECT_NE(e.find("bad.csv: line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("never closed"), std::string::npos) << e;
  e = error_of([] { parse_delimited("text,y\n\"abc\"x,1\n", ',', "bad.csv"); });
  EXPECT_NE(e.find("bad.csv: line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("after the closing quote"), std::string::npos) << e;
  e = error_of([] { parse_delimited("text,text\nA,1\n", ',', "dup.csv"); });
  EXPECT_NE(e.find("twice"), std::string::npos) << e;
  e = error_of([] { parse_delimited("", ',', "empty.csv"); });
  EXPECT_NE(e.find("empty.csv"), std::string::npos) << e;
}

TEST(DatasetCsv, CsvFieldRoundTrips) {
  for (const std::string s : {"plain", "a,b", "say \"x\"", "two\nlines", " padded ", ""}) {
    const Table t = parse_delimited("h\n" + csv_field(s) + ",\n", ',', "rt.csv");
    ASSERT_EQ(t.records.size(), 1u) << s;
    EXPECT_EQ(t.records[0].fields[0], s);
  }
}

TEST(DatasetRead, CsvColumnsTargetsIdsAndSplits) {
  TempDir dir;
  const std::string path = dir.write("d.csv",
                                     "id,text,y,part,other\n"
                                     "a,\"first, text\",1.5,train,x\n"
                                     "b,second,-2e-1,valid,x\n"
                                     "c,third, +3 ,test,x\n"
                                     "d,fourth,4,Validation,x\n");
  DataColumns c = cols();
  c.split = "part";
  c.id = "id";
  const Dataset d = read_dataset(path, c);
  ASSERT_EQ(d.examples.size(), 4u);
  EXPECT_EQ(d.format, TableFormat::Csv);
  EXPECT_EQ(d.examples[0].text, "first, text");
  EXPECT_DOUBLE_EQ(d.examples[0].target, 1.5);
  EXPECT_DOUBLE_EQ(d.examples[1].target, -0.2);
  EXPECT_DOUBLE_EQ(d.examples[2].target, 3.0);
  EXPECT_EQ(d.examples[2].id, "c");
  EXPECT_EQ(d.examples[3].split, Split::Valid);
  EXPECT_EQ(d.examples[3].line, 5);
  const DataSplits s = split_by_column(d);
  EXPECT_EQ(s.train.size(), 1u);
  EXPECT_EQ(s.valid.size(), 2u);
  EXPECT_EQ(s.test.size(), 1u);
}

TEST(DatasetRead, TsvAndPairs) {
  TempDir dir;
  const std::string path = dir.write("d.tsv", "a\tb\ty\nfirst a\tfirst b\t1\n\"q\tx\"\tsecond b\t2\n");
  DataColumns c = cols("a");
  c.text_pair = "b";
  const Dataset d = read_dataset(path, c);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].text_pair, "first b");
  EXPECT_EQ(d.examples[1].text, "q\tx");
}

TEST(DatasetRead, JsonLines) {
  TempDir dir;
  const std::string path = dir.write("d.jsonl",
                                     "{\"text\": \"caf\\u00e9 one\", \"y\": 1.25, \"id\": 7}\n"
                                     "\n"
                                     "{\"text\": \"two\", \"y\": \"2.5\", \"id\": \"x\"}\n");
  DataColumns c = cols();
  c.id = "id";
  const Dataset d = read_dataset(path, c);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].text, "caf\xC3\xA9 one");
  EXPECT_EQ(d.examples[0].id, "7");
  EXPECT_DOUBLE_EQ(d.examples[1].target, 2.5);
  EXPECT_EQ(d.examples[1].line, 3);
}

TEST(DatasetRead, MissingHeaderColumnListsColumns) {
  TempDir dir;
  const std::string path = dir.write("d.csv", "body,y\nx,1\n");
  const std::string e = error_of([&] { read_dataset(path, cols()); });
  EXPECT_NE(e.find("no column \"text\""), std::string::npos) << e;
  EXPECT_NE(e.find("\"body\""), std::string::npos) << e;
}

TEST(DatasetRead, UnknownExtensionAsksForFormat) {
  TempDir dir;
  const std::string path = dir.write("d.txt", "text,y\nx,1\n");
  EXPECT_NE(error_of([&] { read_dataset(path, cols()); }).find("--format"), std::string::npos);
  ReadOptions o;
  o.format = TableFormat::Csv;
  EXPECT_EQ(read_dataset(path, cols(), o).examples.size(), 1u);
}

// Each kind of bad row: an error naming the file, the line and the fault; with skip_bad_rows, a count.
struct BadRowCase {
  const char* name;
  const char* file;     // file name (its extension picks the format)
  std::string content;  // the good row is on line 2, the bad one on line 3
  const char* fault;    // expected in the message
};

class DatasetBadRows : public ::testing::TestWithParam<BadRowCase> {};

TEST_P(DatasetBadRows, ErrorNamesFileLineAndFaultOrIsSkipped) {
  const BadRowCase& c = GetParam();
  TempDir dir;
  const std::string path = dir.write(c.file, c.content);
  DataColumns columns = cols();
  columns.split = c.content.find("split") != std::string::npos ? "split" : "";
  const std::string e = error_of([&] { read_dataset(path, columns); });
  EXPECT_NE(e.find(path + ": line 3: "), std::string::npos) << e;
  EXPECT_NE(e.find(c.fault), std::string::npos) << e;
  EXPECT_NE(e.find("--skip-bad-rows"), std::string::npos) << e;

  ReadOptions skip;
  skip.skip_bad_rows = true;
  const Dataset d = read_dataset(path, columns, skip);
  EXPECT_EQ(d.examples.size(), 2u);  // lines 2 and 4 are good
  EXPECT_EQ(d.bad_rows_skipped, 1);
  EXPECT_EQ(d.rows, 3);
  ASSERT_EQ(d.bad_row_messages.size(), 1u);
  EXPECT_NE(d.bad_row_messages[0].find("line 3"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, DatasetBadRows,
    ::testing::Values(
        BadRowCase{"missing_column", "d.csv", "text,y\ngood,1\nonly text\ngood,2\n", "column \"y\" is missing"},
        BadRowCase{"extra_field", "d.csv", "text,y\ngood,1\nx,1,2\ngood,2\n", "3 fields where the header has 2"},
        BadRowCase{"empty_text", "d.csv", "text,y\ngood,1\n \t,1\ngood,2\n", "is empty"},
        BadRowCase{"text_target", "d.csv", "text,y\ngood,1\nbad,abc\ngood,2\n", "not a finite number"},
        BadRowCase{"nan_target", "d.csv", "text,y\ngood,1\nbad,nan\ngood,2\n", "not a finite number"},
        BadRowCase{"inf_target", "d.csv", "text,y\ngood,1\nbad,-inf\ngood,2\n", "not a finite number"},
        BadRowCase{"empty_target", "d.csv", "text,y\ngood,1\nbad,\ngood,2\n", "not a finite number"},
        BadRowCase{"huge_target", "d.csv", "text,y\ngood,1\nbad,1e300\ngood,2\n", "outside float's range"},
        BadRowCase{"trailing_junk_target", "d.csv", "text,y\ngood,1\nbad,1.5x\ngood,2\n", "not a finite number"},
        BadRowCase{"invalid_utf8", "d.csv", "text,y\ngood,1\nbad \xC3\x28 byte,1\ngood,2\n", "invalid UTF-8"},
        BadRowCase{"overlong_utf8", "d.csv", "text,y\ngood,1\n\xC0\xAF,1\ngood,2\n", "invalid UTF-8"},
        BadRowCase{"unknown_split", "d.csv", "text,y,split\ngood,1,train\nbad,1,holdout\ngood,2,test\n",
                   "not train, valid"},
        BadRowCase{"jsonl_missing_key", "d.jsonl", "\n{\"text\":\"good\",\"y\":1}\n{\"text\":\"bad\"}\n{\"text\":\"g\",\"y\":2}\n",
                   "column \"y\" is missing"},
        BadRowCase{"jsonl_not_json", "d.jsonl", "\n{\"text\":\"good\",\"y\":1}\n{text: bad}\n{\"text\":\"g\",\"y\":2}\n",
                   "not valid JSON"},
        BadRowCase{"jsonl_text_number", "d.jsonl", "\n{\"text\":\"good\",\"y\":1}\n{\"text\":5,\"y\":1}\n{\"text\":\"g\",\"y\":2}\n",
                   "not a string"},
        BadRowCase{"jsonl_invalid_utf8", "d.jsonl", "\n{\"text\":\"good\",\"y\":1}\n{\"text\":\"\xFF\",\"y\":1}\n{\"text\":\"g\",\"y\":2}\n",
                   "invalid UTF-8"}),
    [](const ::testing::TestParamInfo<BadRowCase>& info) { return std::string(info.param.name); });

TEST(DatasetRead, AllRowsBadIsAnError) {
  TempDir dir;
  const std::string path = dir.write("d.csv", "text,y\nx,abc\n");
  ReadOptions skip;
  skip.skip_bad_rows = true;
  EXPECT_NE(error_of([&] { read_dataset(path, cols(), skip); }).find("no usable rows"), std::string::npos);
}

TEST(DatasetUtf8, AcceptsValidRejectsInvalid) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  size_t at = 0;
  EXPECT_FALSE(is_valid_utf8("ab\xED\xA0\x80", &at));  // a UTF-16 surrogate
  EXPECT_EQ(at, 2u);
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation byte
}

TEST(DatasetSplits, RatiosAreSeededDisjointAndKeepFileOrder) {
  Dataset d;
  d.source = "mem";
  for (int i = 0; i < 100; ++i) {
    Example ex;
    ex.row = i;
    ex.text = "t";
    ex.text += std::to_string(i);
    ex.target = i;
    d.examples.push_back(ex);
  }
  const DataSplits a = split_by_ratios(d, 0.8, 0.1, 0.1, 7);
  const DataSplits b = split_by_ratios(d, 0.8, 0.1, 0.1, 7);
  const DataSplits c = split_by_ratios(d, 0.8, 0.1, 0.1, 8);
  EXPECT_EQ(a.train.size(), 80u);
  EXPECT_EQ(a.valid.size(), 10u);
  EXPECT_EQ(a.test.size(), 10u);
  std::vector<int> seen(100, 0);
  for (const auto* part : {&a.train, &a.valid, &a.test}) {
    for (size_t i = 0; i < part->size(); ++i) {
      ++seen[static_cast<size_t>((*part)[i].row)];
      if (i) {
        EXPECT_LT((*part)[i - 1].row, (*part)[i].row);
      }
    }
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  std::vector<int64_t> va, vb, vc;
  for (const auto& e : a.valid) va.push_back(e.row);
  for (const auto& e : b.valid) vb.push_back(e.row);
  for (const auto& e : c.valid) vc.push_back(e.row);
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  EXPECT_EQ(a.valid[0].split, Split::Valid);
}

TEST(DatasetSplits, ParseRatios) {
  EXPECT_EQ(parse_split_ratios("0.8, 0.1,0.1"), (std::vector<double>{0.8, 0.1, 0.1}));
  EXPECT_NE(error_of([] { parse_split_ratios("0.8,0.1"); }).find("three"), std::string::npos);
  EXPECT_NE(error_of([] { parse_split_ratios("0.8,0.3,0.1"); }).find("sum"), std::string::npos);
  EXPECT_NE(error_of([] { parse_split_ratios("0.8,x,0.1"); }).find("not a non-negative number"), std::string::npos);
}

// Random texts over the characters that matter to the grammar: parsing either succeeds or throws
// ft::Error (never crashes or throws anything else), and whatever it returns, written back with
// csv_field and parsed again, is the same table (records of one empty field aside, which blank-line
// skipping cannot tell from a blank line).
TEST(DatasetCsv, RandomInputsParseOrFailCleanlyAndRoundTrip) {
  const char alphabet[] = {',', '"', '\n', '\r', 'a', 'b', ' ', '\t', '\xC3', '\xA9'};
  std::mt19937_64 rng(77);
  int parsed = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text;
    const size_t n = rng() % 40;
    for (size_t i = 0; i < n; ++i) text += alphabet[rng() % sizeof alphabet];
    Table t;
    try {
      t = parse_delimited(text, ',', "random.csv");
    } catch (const Error&) {
      continue;
    }
    if (t.header == std::vector<std::string>{""}) continue;  // a lone quoted "" header: not a useful case
    ++parsed;
    std::string again;
    std::vector<std::vector<std::string>> rows = {t.header};
    for (const auto& r : t.records) rows.push_back(r.fields);
    std::vector<std::vector<std::string>> kept;
    for (const auto& r : rows) {
      if (r.size() == 1 && r[0].empty()) continue;
      kept.push_back(r);
      for (size_t k = 0; k < r.size(); ++k) {
        if (k) again += ',';
        again += csv_field(r[k]);
      }
      again += "\n";
    }
    if (kept.empty()) continue;
    Table u;
    ASSERT_NO_THROW(u = parse_delimited(again, ',', "again.csv")) << again;
    std::vector<std::vector<std::string>> back = {u.header};
    for (const auto& r : u.records) back.push_back(r.fields);
    EXPECT_EQ(back, kept) << "input: " << text;
  }
  EXPECT_GT(parsed, 300);  // the property was exercised, not skipped
}
