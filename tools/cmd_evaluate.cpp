// ftengine evaluate: the regression metrics of a saved model on a labelled data file.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "model/train/inference.h"
#include "model/train/metrics.h"
#include "tools/commands.h"
#include "tools/data_options.h"
#include "tools/device_options.h"

namespace ft::tools {

namespace {

struct EvaluateFlags {
  InferenceSettings s;
  DataOptions data;
  std::string split, out, predictions;
};

// Keeps the rows of one split when a split column and --split are given.
std::vector<Example> select_split(const Dataset& data, const std::string& split) {
  if (split.empty()) return data.examples;
  Split want = Split::Unassigned;
  FT_CHECK(parse_split(split, &want), "--split \"", split, "\" is not train, valid or test");
  std::vector<Example> r;
  for (const Example& ex : data.examples)
    if (ex.split == want) r.push_back(ex);
  FT_CHECK(!r.empty(), data.source, ": no rows with split ", split_name(want));
  return r;
}

void run(EvaluateFlags& f) {
  FT_CHECK(f.split.empty() || !f.data.split_column.empty(), "--split needs --split-column");
  const Dataset data = read_dataset(f.data.data, f.data.columns(true), f.data.read_options());
  report_skipped_rows(data);
  const std::vector<Example> examples = select_split(data, f.split);
  const InferenceResult r = predict_examples(f.s, examples, data.source);
  std::vector<double> targets;
  for (const Example& ex : examples) targets.push_back(ex.target);
  const RegressionMetrics m = regression_metrics(r.predictions, targets, data.source);
  std::printf("%s%s: %lld examples on %s, max length %d, %.1f s\n", data.source.c_str(),
              f.split.empty() ? "" : (" [" + f.split + "]").c_str(), static_cast<long long>(m.count), r.device.c_str(),
              r.max_length, r.seconds);
  std::printf("MSE %.4f  RMSE %.4f  MAE %.4f  R^2 %.4f  Pearson r %.4f\n", m.mse, m.rmse, m.mae, m.r2, m.pearson);
  if (!f.out.empty()) {
    nlohmann::json j = metrics_json(m);
    j["model"] = f.s.model;
    j["data"] = data.source;
    j["split"] = f.split.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.split);
    j["max_length"] = r.max_length;
    write_file_atomically(f.out, j.dump(2) + "\n");
    std::printf("metrics written to %s\n", f.out.c_str());
  }
  if (!f.predictions.empty()) {
    write_predictions_csv(f.predictions, {&examples}, {&r.predictions}, !f.data.split_column.empty(), true);
    std::printf("predictions written to %s\n", f.predictions.c_str());
  }
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("evaluate",
                                 "Regression metrics (MSE, RMSE, MAE, R^2, Pearson r) of a saved model on a data file");
  auto f = std::make_shared<EvaluateFlags>();
  cmd->add_option("--model", f->s.model, "Model directory (e.g. runs/demo/best)")->required();
  f->data.add(*cmd, "Data file with texts and targets (CSV, TSV or JSONL)", "Column holding the numeric target");
  cmd->get_option("--data")->required();
  cmd->add_option("--split", f->split, "Evaluate only the rows of this split (train, valid or test; needs --split-column)");
  add_inference_options(*cmd, f->s);
  cmd->add_option("--out", f->out, "Also write the metrics as JSON to this file");
  cmd->add_option("--predictions", f->predictions, "Also write the predictions as CSV to this file");
  cmd->callback([f] { run(*f); });
}

}  // namespace ft::tools
