#include "model/data/dataset.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text_file.h"
#include "model/data/permutation.h"

namespace ft {

namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string read_whole_file(const std::string& path) { return read_text_file(path, "data file"); }

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// A short, printable rendering of a field for error messages.
std::string show_field(std::string_view s) {
  std::string r = "\"";
  size_t shown = 0;
  for (char c : s) {
    if (++shown > 40) {
      r += "...";
      break;
    }
    if (c == '\n') r += "\\n";
    else if (c == '\r') r += "\\r";
    else if (c == '\t') r += "\\t";
    else r += c;
  }
  return r + "\"";
}

}  // namespace

TableFormat parse_table_format(const std::string& name) {
  const std::string n = lower(name);
  if (n == "auto") return TableFormat::Auto;
  if (n == "csv") return TableFormat::Csv;
  if (n == "tsv") return TableFormat::Tsv;
  if (n == "jsonl" || n == "ndjson") return TableFormat::Jsonl;
  FT_THROW("data format \"", name, "\" is not one of auto, csv, tsv, jsonl");
}

const char* table_format_name(TableFormat format) {
  switch (format) {
    case TableFormat::Auto: return "auto";
    case TableFormat::Csv: return "csv";
    case TableFormat::Tsv: return "tsv";
    case TableFormat::Jsonl: return "jsonl";
  }
  return "?";
}

TableFormat resolve_table_format(const std::string& path, TableFormat requested) {
  if (requested != TableFormat::Auto) return requested;
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  const std::string ext = (dot == std::string::npos || (slash != std::string::npos && dot < slash))
                              ? std::string()
                              : lower(path.substr(dot + 1));
  if (ext == "csv") return TableFormat::Csv;
  if (ext == "tsv" || ext == "tab") return TableFormat::Tsv;
  if (ext == "jsonl" || ext == "ndjson") return TableFormat::Jsonl;
  FT_THROW(path, ": cannot tell the data format from the extension \"", ext,
           "\"; name the file .csv, .tsv or .jsonl, or pass --format csv|tsv|jsonl");
}

Table parse_delimited(std::string_view s, char delim, const std::string& source) {
  if (s.substr(0, kBom.size()) == kBom) s.remove_prefix(kBom.size());
  const size_t n = s.size();
  size_t i = 0;
  int64_t line = 1;
  std::vector<TableRecord> records;
  std::string field;
  while (i < n) {
    // Blank lines separate nothing: skip them (a one-column file's empty field is lost, as in pandas).
    if (s[i] == '\n') {
      ++i;
      ++line;
      continue;
    }
    if (s[i] == '\r' && (i + 1 == n || s[i + 1] == '\n')) {
      i += (i + 1 == n) ? 1 : 2;
      ++line;
      continue;
    }
    TableRecord rec;
    rec.line = line;
    for (;;) {
      field.clear();
      if (i < n && s[i] == '"') {
        const int64_t open_line = line;
        ++i;
        for (;;) {
          FT_CHECK(i < n, source, ": line ", open_line,
                   ": a quoted field is never closed (the file ends inside it; a quote inside a quoted field "
                   "must be doubled)");
          const char c = s[i];
          if (c == '"') {
            if (i + 1 < n && s[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        const bool at_end = i == n || s[i] == delim || s[i] == '\n' ||
                            (s[i] == '\r' && (i + 1 == n || s[i + 1] == '\n'));
        // A field that spans lines and then goes wrong most often began with a quote that was never
        // closed: name the line where it opened.
        FT_CHECK(at_end || open_line == line, source, ": line ", open_line, ": a quoted field opened here runs on to line ",
                 line, ", where its closing quote is followed by ", show_field(s.substr(i, 1)),
                 "; is the quote on line ", open_line, " unclosed? (a quote inside a quoted field must be doubled)");
        FT_CHECK(at_end, source, ": line ", line, ": unexpected character ", show_field(s.substr(i, 1)),
                 " after the closing quote of a quoted field (a quote inside a quoted field must be doubled)");
      } else {
        const size_t start = i;
        while (i < n && s[i] != delim && s[i] != '\n') ++i;
        size_t end = i;
        // CRLF: the CR belongs to the line break, not to the field.
        if (end > start && s[end - 1] == '\r' && (i == n || s[i] == '\n')) --end;
        field.assign(s.substr(start, end - start));
      }
      rec.fields.push_back(field);
      if (i < n && s[i] == delim) {
        ++i;
        continue;
      }
      if (i < n && s[i] == '\r') ++i;
      if (i < n && s[i] == '\n') {
        ++i;
        ++line;
      }
      break;
    }
    records.push_back(std::move(rec));
  }
  FT_CHECK(!records.empty(), source, ": the file is empty (no header line)");
  Table table;
  table.header = std::move(records.front().fields);
  table.header_line = records.front().line;
  std::map<std::string, int> seen;
  for (const auto& name : table.header) {
    FT_CHECK(seen.count(name) == 0, source, ": line ", table.header_line, ": the header names column \"", name,
             "\" twice");
    seen[name] = 1;
  }
  table.records.assign(std::make_move_iterator(records.begin() + 1), std::make_move_iterator(records.end()));
  return table;
}

std::string csv_field(std::string_view field) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) return std::string(field);
  std::string r = "\"";
  for (char c : field) {
    if (c == '"') r += '"';
    r += c;
  }
  return r + "\"";
}

bool is_valid_utf8(std::string_view s, size_t* bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len = 0;
    uint32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      if (bad_offset) *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

const char* split_name(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Valid: return "valid";
    case Split::Test: return "test";
    case Split::Unassigned: return "unassigned";
  }
  return "?";
}

bool parse_split(std::string_view value, Split* out) {
  const std::string v = lower(trim(value));
  if (v == "train") *out = Split::Train;
  else if (v == "valid" || v == "validation" || v == "val" || v == "dev") *out = Split::Valid;
  else if (v == "test") *out = Split::Test;
  else return false;
  return true;
}

namespace {

// A fault in one row: becomes an error or, with skip_bad_rows, a count.
struct BadRow {
  std::string fault;
};


void check_utf8(const std::string& value, const std::string& column) {
  size_t bad = 0;
  if (!is_valid_utf8(value, &bad))
    throw BadRow{"invalid UTF-8 in column \"" + column + "\" at byte " + std::to_string(bad) + " of the field"};
}

double parse_target(const std::string& value, const std::string& column) {
  const std::string_view v = trim(value);
  if (v.empty()) throw BadRow{"the target in column \"" + column + "\" is empty, not a finite number"};
  double x = 0.0;
  const char* first = v.data();
  if (*first == '+') ++first;  // from_chars rejects a leading '+'; "+1.5" is a fine number
  const auto [end, ec] = std::from_chars(first, v.data() + v.size(), x);
  const bool whole = ec == std::errc() && end == v.data() + v.size();
  if (!whole || !std::isfinite(x))
    throw BadRow{"the target " + show_field(v) + " in column \"" + column + "\" is not a finite number"};
  // The model computes in float: a target beyond float's range would become infinite there.
  if (std::fabs(x) > static_cast<double>(std::numeric_limits<float>::max()))
    throw BadRow{"the target " + show_field(v) + " in column \"" + column + "\" is outside float's range"};
  return x;
}

// Builds an Example from a row. `get(column)` returns the field or nullopt when absent.
template <class Get>
Example make_example(const DataColumns& cols, Get&& get) {
  Example ex;
  auto required = [&](const std::string& column) {
    std::optional<std::string> v = get(column);
    if (!v) throw BadRow{"column \"" + column + "\" is missing"};
    return *v;
  };
  ex.text = required(cols.text);
  check_utf8(ex.text, cols.text);
  if (trim(ex.text).empty()) throw BadRow{"the text in column \"" + cols.text + "\" is empty"};
  if (!cols.text_pair.empty()) {
    ex.text_pair = required(cols.text_pair);
    check_utf8(ex.text_pair, cols.text_pair);
    if (trim(ex.text_pair).empty()) throw BadRow{"the text in column \"" + cols.text_pair + "\" is empty"};
  }
  if (!cols.target.empty()) {
    const std::string t = required(cols.target);
    check_utf8(t, cols.target);
    ex.target = parse_target(t, cols.target);
  }
  if (!cols.split.empty()) {
    const std::string s = required(cols.split);
    check_utf8(s, cols.split);
    if (!parse_split(s, &ex.split))
      throw BadRow{"the split " + show_field(s) + " in column \"" + cols.split +
                   "\" is not train, valid (validation, val, dev) or test"};
  }
  if (!cols.id.empty()) {
    ex.id = required(cols.id);
    check_utf8(ex.id, cols.id);
  }
  return ex;
}

std::vector<std::string> needed_columns(const DataColumns& c) {
  std::vector<std::string> r;
  for (const std::string* s : {&c.text, &c.text_pair, &c.target, &c.split, &c.id})
    if (!s->empty()) r.push_back(*s);
  return r;
}

std::string join(const std::vector<std::string>& v) {
  std::string r;
  for (const auto& s : v) r += (r.empty() ? "\"" : ", \"") + s + "\"";
  return r;
}

class BadRowPolicy {
 public:
  BadRowPolicy(Dataset& data, bool skip) : data_(data), skip_(skip) {}
  void handle(int64_t line, const std::string& fault) {
    FT_CHECK(skip_, data_.source, ": line ", line, ": ", fault, " (pass --skip-bad-rows to skip such rows)");
    ++data_.bad_rows_skipped;
    if (data_.bad_row_messages.size() < 5) data_.bad_row_messages.push_back("line " + std::to_string(line) + ": " + fault);
  }

 private:
  Dataset& data_;
  bool skip_;
};

void read_delimited(Dataset& data, const std::string& bytes, char delim, const DataColumns& cols, bool skip) {
  const Table table = parse_delimited(bytes, delim, data.source);
  std::map<std::string, size_t> index;
  for (size_t k = 0; k < table.header.size(); ++k) index[table.header[k]] = k;
  for (const auto& c : needed_columns(cols)) {
    if (index.count(c)) continue;
    // One header field holding the names joined by another separator: say which, and what to pass.
    if (table.header.size() == 1) {
      for (const auto& [sep, name] : {std::pair{';', "semicolon"}, std::pair{'|', "pipe"}, std::pair{'\t', "tab"},
                                      std::pair{',', "comma"}}) {
        if (sep == delim || table.header[0].find(sep) == std::string::npos) continue;
        FT_THROW(data.source, ": no column \"", c, "\": the header ", join(table.header), " looks ", name,
                 "-delimited, but this file is read as ", delim == '\t' ? "tab" : delim == ',' ? "comma" : "other",
                 "-separated; pass --delimiter '", sep == '\t' ? std::string("\\t") : std::string(1, sep), "'",
                 sep == '\t' ? " (or --format tsv)" : "");
      }
    }
    FT_THROW(data.source, ": no column \"", c, "\" in the header (columns: ", join(table.header), ")");
  }
  BadRowPolicy policy(data, skip);
  const size_t width = table.header.size();
  for (const TableRecord& rec : table.records) {
    const int64_t row = data.rows++;
    try {
      if (rec.fields.size() != width) {
        std::string fault = "the row has " + std::to_string(rec.fields.size()) + " fields where the header has " +
                            std::to_string(width);
        for (const auto& c : needed_columns(cols))
          if (index[c] >= rec.fields.size()) {
            fault = "column \"" + c + "\" is missing (" + fault + ")";
            break;
          }
        throw BadRow{fault};
      }
      Example ex = make_example(cols, [&](const std::string& c) -> std::optional<std::string> {
        return rec.fields[index.at(c)];
      });
      ex.row = row;
      ex.line = rec.line;
      data.examples.push_back(std::move(ex));
    } catch (const BadRow& bad) {
      policy.handle(rec.line, bad.fault);
    }
  }
}

void read_jsonl(Dataset& data, std::string_view bytes, const DataColumns& cols, bool skip) {
  if (bytes.substr(0, kBom.size()) == kBom) bytes.remove_prefix(kBom.size());
  BadRowPolicy policy(data, skip);
  int64_t line = 0;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view text = bytes.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (trim(text).empty()) continue;
    const int64_t row = data.rows++;
    try {
      size_t bad = 0;
      if (!is_valid_utf8(text, &bad)) throw BadRow{"invalid UTF-8 at byte " + std::to_string(bad) + " of the line"};
      nlohmann::json obj;
      try {
        obj = nlohmann::json::parse(text);
      } catch (const nlohmann::json::exception& e) {
        throw BadRow{std::string("not valid JSON (") + e.what() + ")"};
      }
      if (!obj.is_object()) throw BadRow{"the line is JSON but not an object"};
      Example ex = make_example(cols, [&](const std::string& c) -> std::optional<std::string> {
        const auto it = obj.find(c);
        if (it == obj.end() || it->is_null()) return std::nullopt;
        if (it->is_string()) return it->get<std::string>();
        // Numbers stand for themselves (targets, numeric ids); texts must be strings.
        if (it->is_number() && c != cols.text && c != cols.text_pair) return it->dump();
        throw BadRow{"column \"" + c + "\" holds a JSON " + it->type_name() +
                     (c == cols.text || c == cols.text_pair ? ", not a string" : ", not a string or number")};
      });
      ex.row = row;
      ex.line = line;
      data.examples.push_back(std::move(ex));
    } catch (const BadRow& bad) {
      policy.handle(line, bad.fault);
    }
  }
}

}  // namespace

Dataset read_dataset(const std::string& path, const DataColumns& columns, const ReadOptions& options) {
  FT_CHECK(!columns.text.empty(), path, ": no text column named");
  Dataset data;
  data.source = path;
  data.format = resolve_table_format(path, options.format);
  data.has_targets = !columns.target.empty();
  const std::string bytes = read_whole_file(path);
  switch (data.format) {
    case TableFormat::Csv:
      read_delimited(data, bytes, options.delimiter ? options.delimiter : ',', columns, options.skip_bad_rows);
      break;
    case TableFormat::Tsv:
      read_delimited(data, bytes, options.delimiter ? options.delimiter : '\t', columns, options.skip_bad_rows);
      break;
    case TableFormat::Jsonl:
      FT_CHECK(options.delimiter == 0, path, ": --delimiter applies to CSV and TSV files, not to JSON Lines");
      read_jsonl(data, bytes, columns, options.skip_bad_rows);
      break;
    case TableFormat::Auto: FT_THROW("unreachable");
  }
  FT_CHECK(!data.examples.empty(), path, ": no usable rows (", data.rows, " data rows, ", data.bad_rows_skipped,
           " skipped as bad)");
  return data;
}

DataSplits split_by_column(const Dataset& data) {
  DataSplits s;
  for (const Example& ex : data.examples) {
    switch (ex.split) {
      case Split::Train: s.train.push_back(ex); break;
      case Split::Valid: s.valid.push_back(ex); break;
      case Split::Test: s.test.push_back(ex); break;
      case Split::Unassigned: FT_THROW(data.source, ": line ", ex.line, ": the row has no split label");
    }
  }
  s.how = data.source + " split by its split column";
  return s;
}

std::vector<double> parse_split_ratios(const std::string& text) {
  std::vector<double> r;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(',');
    const std::string_view part = trim(rest.substr(0, comma));
    double x = 0.0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), x);
    FT_CHECK(!part.empty() && ec == std::errc() && end == part.data() + part.size() && std::isfinite(x) && x >= 0.0,
             "split ratios \"", text, "\": \"", part, "\" is not a non-negative number");
    r.push_back(x);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  FT_CHECK(r.size() == 3, "split ratios \"", text, "\": give three fractions, train,valid,test (e.g. 0.8,0.1,0.1)");
  FT_CHECK(std::fabs(r[0] + r[1] + r[2] - 1.0) <= 1e-6, "split ratios \"", text, "\" sum to ", r[0] + r[1] + r[2],
           ", not 1");
  FT_CHECK(r[0] > 0.0, "split ratios \"", text, "\": the training fraction must be positive");
  return r;
}

DataSplits split_by_ratios(const Dataset& data, double train, double valid, double test, uint64_t seed) {
  FT_CHECK(train > 0.0 && valid >= 0.0 && test >= 0.0 && std::fabs(train + valid + test - 1.0) <= 1e-6,
           "split ratios ", train, ",", valid, ",", test, " must be non-negative, with train > 0, and sum to 1");
  const auto n = static_cast<int64_t>(data.examples.size());
  const auto n_valid = static_cast<int64_t>(std::llround(static_cast<double>(n) * valid));
  const auto n_test = static_cast<int64_t>(std::llround(static_cast<double>(n) * test));
  FT_CHECK(n - n_valid - n_test >= 1, data.source, ": ", n, " rows are too few for split ratios ", train, ",", valid,
           ",", test);
  const std::vector<int64_t> order = random_permutation(n, seed, kSplitStream, 0);
  std::vector<Split> assigned(static_cast<size_t>(n), Split::Train);
  for (int64_t k = 0; k < n_valid; ++k) assigned[static_cast<size_t>(order[static_cast<size_t>(k)])] = Split::Valid;
  for (int64_t k = n_valid; k < n_valid + n_test; ++k)
    assigned[static_cast<size_t>(order[static_cast<size_t>(k)])] = Split::Test;
  DataSplits s;
  for (int64_t i = 0; i < n; ++i) {
    Example ex = data.examples[static_cast<size_t>(i)];
    ex.split = assigned[static_cast<size_t>(i)];
    (ex.split == Split::Train ? s.train : ex.split == Split::Valid ? s.valid : s.test).push_back(std::move(ex));
  }
  std::ostringstream how;
  how << data.source << " split at random (seed " << seed << ") into " << train << " / " << valid << " / " << test;
  s.how = how.str();
  return s;
}

}  // namespace ft
