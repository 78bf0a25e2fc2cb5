// A small CSV reader for the tokenizer tests and benchmark: one column of a UTF-8 file, read the way
// Python's csv.DictReader reads it (which is how tools/golden/tokenizer.py read the same rows):
// RFC 4180 quoting with doubled quotes, line breaks kept inside quoted fields, records ended by
// \n, \r\n or \r, blank records skipped.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ft::test {

inline std::vector<std::vector<std::string>> read_csv_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, field_started = false;
  auto end_field = [&] {
    record.push_back(field);
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    end_field();
    if (!(record.size() == 1 && record[0].empty())) records.push_back(record);
    record.clear();
  };
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < data.size() && data[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      end_record();
    } else {
      field += c;
      field_started = true;
    }
  }
  if (field_started || !field.empty() || !record.empty()) end_record();
  return records;
}

// The values of one column (by header name), one per data record.
inline std::vector<std::string> read_csv_column(const std::string& path, const std::string& column) {
  const auto records = read_csv_records(path);
  if (records.empty()) throw std::runtime_error(path + ": empty");
  size_t index = records[0].size();
  for (size_t k = 0; k < records[0].size(); ++k)
    if (records[0][k] == column) index = k;
  if (index == records[0].size()) throw std::runtime_error(path + ": no column " + column);
  std::vector<std::string> values;
  for (size_t r = 1; r < records.size(); ++r) values.push_back(index < records[r].size() ? records[r][index] : "");
  return values;
}

}  // namespace ft::test
