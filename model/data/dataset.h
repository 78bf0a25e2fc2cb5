// Regression data sets from CSV, TSV and JSON Lines files (UTF-8): one text (or a pair of texts)
// and a numeric target per row, an optional split label and an optional identifier.
//
// CSV follows RFC 4180: fields separated by commas, records by CRLF or LF; a field in double
// quotes may hold commas, line breaks and doubled quotes (""). TSV is the same grammar with a tab
// as separator. Beyond the RFC, as Python's csv module and pandas do: a UTF-8 byte-order mark is
// skipped, blank lines are skipped, and a quote inside an unquoted field is an ordinary character.
// Structural faults (a quoted field never closed, text after a closing quote) stop the read with
// the file and line. The first record is the header; column names must be unique.
//
// JSON Lines: one JSON object per non-blank line; a column is a key. Strings are taken as they
// are; numbers are accepted for the target, split and id columns.
//
// A bad row (a missing column, an empty text, a target that is not a finite number, invalid UTF-8,
// an unknown split value, malformed JSON) is an error naming the file, the line (the first
// physical line of the record) and the fault; with skip_bad_rows it is skipped and counted.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ft {

enum class TableFormat { Auto, Csv, Tsv, Jsonl };

// "auto", "csv", "tsv", "jsonl" (the --format flag).
TableFormat parse_table_format(const std::string& name);
// Resolves Auto from the file name's extension (.csv; .tsv, .tab; .jsonl, .ndjson; any case). Any
// other extension is an error asking for --format: the format is never guessed from content.
TableFormat resolve_table_format(const std::string& path, TableFormat requested);
const char* table_format_name(TableFormat format);

// One parsed record of a CSV/TSV file.
struct TableRecord {
  int64_t line = 0;  // first physical line of the record (1-based)
  std::vector<std::string> fields;
};

struct Table {
  std::vector<std::string> header;
  int64_t header_line = 0;
  std::vector<TableRecord> records;
};

// Parses a complete CSV (delimiter ',') or TSV ('\t') text; `source` names it in errors.
Table parse_delimited(std::string_view text, char delimiter, const std::string& source);

// One CSV field as RFC 4180 writes it: quoted (with doubled quotes) when it holds a comma, quote,
// CR or LF, or starts or ends with a space; unchanged otherwise.
std::string csv_field(std::string_view field);

// Checks UTF-8 strictly (no overlong forms, no surrogates, nothing above U+10FFFF). On failure
// returns false and sets *bad_offset to the byte offset of the first invalid sequence.
bool is_valid_utf8(std::string_view s, size_t* bad_offset = nullptr);

struct DataColumns {
  std::string text = "text";
  std::string text_pair;         // empty: single texts
  std::string target = "target"; // empty: no target (prediction)
  std::string split;             // empty: no split column
  std::string id;                // empty: rows are identified by their index and line
};

enum class Split : uint8_t { Train, Valid, Test, Unassigned };
const char* split_name(Split split);
// "train"; "valid", "validation", "val", "dev"; "test" (case-insensitive, surrounding spaces
// ignored). Returns false for anything else.
bool parse_split(std::string_view value, Split* out);

struct Example {
  int64_t row = 0;   // 0-based index of the data row in its file (bad rows included)
  int64_t line = 0;  // first physical line of the row
  std::string id;
  std::string text, text_pair;
  double target = std::numeric_limits<double>::quiet_NaN();
  Split split = Split::Unassigned;
};

struct ReadOptions {
  TableFormat format = TableFormat::Auto;
  char delimiter = 0;  // CSV/TSV field separator; 0: the format's own (',' or tab)
  bool skip_bad_rows = false;
};

struct Dataset {
  std::string source;
  TableFormat format = TableFormat::Csv;
  std::vector<Example> examples;
  bool has_targets = false;
  int64_t rows = 0;                       // data rows read, bad ones included
  int64_t bad_rows_skipped = 0;
  std::vector<std::string> bad_row_messages;  // the first few skipped rows' faults
};

// Reads `path`. Columns named in `columns` must exist in the header (an error listing the columns
// found otherwise); an empty name is not read.
Dataset read_dataset(const std::string& path, const DataColumns& columns, const ReadOptions& options = {});

// The three parts of a training run.
struct DataSplits {
  std::vector<Example> train, valid, test;
  std::string how;  // a sentence for the log: where each part came from
};

// By the split column's labels (Unassigned rows are an error: read_dataset never leaves them when a
// split column is read).
DataSplits split_by_column(const Dataset& data);
// A random split with fractions (train, valid, test) summing to 1 (within 1e-6), drawn from seed;
// each part keeps file order. valid and test get round(n * fraction) rows, train the rest.
DataSplits split_by_ratios(const Dataset& data, double train, double valid, double test, uint64_t seed);
// Parses "0.8,0.1,0.1" (three non-negative numbers summing to 1).
std::vector<double> parse_split_ratios(const std::string& text);

}  // namespace ft
