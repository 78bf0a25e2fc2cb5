// The data flags shared by `ftengine train`, `evaluate` and `predict`.
#pragma once

#include <iterator>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "model/data/dataset.h"

namespace ft::tools {

struct DataOptions {
  std::string data;
  std::string format = "auto";
  std::string delimiter;
  std::string text_column = "text";
  std::string text_pair_column;
  std::string target_column = "target";
  std::string split_column;
  std::string id_column;
  bool skip_bad_rows = false;

  // `target_help` says what the target column is for in this command.
  void add(CLI::App& cmd, const std::string& data_help, const std::string& target_help) {
    cmd.add_option("--data", data, data_help);
    cmd.add_option("--format", format, "Data format: auto (from the extension: .csv, .tsv, .jsonl), csv, tsv, jsonl")
        ->capture_default_str();
    cmd.add_option("--delimiter", delimiter,
                   "Field separator of a CSV/TSV file, one character (e.g. ';', '|', or '\\t' for a tab); default: "
                   "',' for CSV, tab for TSV");
    cmd.add_option("--text-column", text_column, "Column holding the text")->capture_default_str();
    cmd.add_option("--text-pair-column", text_pair_column,
                   "Column holding a second text, for pairs ([CLS] a [SEP] b [SEP], token types 0 and 1)");
    cmd.add_option("--target-column", target_column, target_help)->capture_default_str();
    cmd.add_option("--split-column", split_column,
                   "Column labelling each row train, valid (or validation, val, dev) or test");
    cmd.add_option("--id-column", id_column, "Column identifying rows; copied into predictions.csv");
    cmd.add_flag("--skip-bad-rows", skip_bad_rows,
                 "Skip rows with a missing column, an empty text, a non-finite target, invalid UTF-8 or an unknown "
                 "split label (and report how many) instead of stopping with an error");
  }

  // The columns to read; two roles naming the same column is an error naming both flags.
  DataColumns columns(bool with_target) const {
    const std::pair<const char*, const std::string*> roles[] = {
        {"--text-column", &text_column}, {"--text-pair-column", &text_pair_column},
        {"--target-column", with_target ? &target_column : nullptr}, {"--split-column", &split_column},
        {"--id-column", &id_column}};
    for (size_t i = 0; i < std::size(roles); ++i)
      for (size_t j = i + 1; j < std::size(roles); ++j)
        if (roles[i].second && roles[j].second && !roles[i].second->empty())
          FT_CHECK(*roles[i].second != *roles[j].second, roles[i].first, " and ", roles[j].first,
                   " both name the column \"", *roles[i].second, "\": each role needs its own column");
    DataColumns c;
    c.text = text_column;
    c.text_pair = text_pair_column;
    c.target = with_target ? target_column : "";
    c.split = split_column;
    c.id = id_column;
    return c;
  }

  ReadOptions read_options() const {
    ReadOptions r;
    r.format = parse_table_format(format);
    if (!delimiter.empty()) {
      const std::string d = delimiter == "\\t" || delimiter == "tab" ? "\t" : delimiter;
      FT_CHECK(d.size() == 1 && d[0] != '"' && d[0] != '\n' && d[0] != '\r', "--delimiter \"", delimiter,
               "\": must be one character other than a quote or a line break (\\t for a tab)");
      r.delimiter = d[0];
    }
    r.skip_bad_rows = skip_bad_rows;
    return r;
  }
};

// Prints how many bad rows were skipped, with the first few faults.
void report_skipped_rows(const Dataset& data);

}  // namespace ft::tools
