// ftengine predict: a saved model's predictions for every row of a data file, as CSV.
#include <cstdio>
#include <memory>
#include <string>

#include "core/error.h"
#include "model/train/inference.h"
#include "model/train/metrics.h"
#include "tools/commands.h"
#include "tools/data_options.h"
#include "tools/device_options.h"

namespace ft::tools {

namespace {

struct PredictFlags {
  InferenceSettings s;
  DataOptions data;
  std::string out;
};

void run(CLI::App& cmd, PredictFlags& f) {
  // Targets are optional here: read (and reported in the CSV) only when --target-column is given.
  const bool with_target = cmd.count("--target-column") > 0;
  const Dataset data = read_dataset(f.data.data, f.data.columns(with_target), f.data.read_options());
  report_skipped_rows(data);
  const InferenceResult r = predict_examples(f.s, data.examples, data.source);
  write_predictions_csv(f.out, {&data.examples}, {&r.predictions}, !f.data.split_column.empty(), with_target);
  std::printf("%lld predictions on %s (max length %d, %.1f s) written to %s\n",
              static_cast<long long>(r.predictions.size()), r.device.c_str(), r.max_length, r.seconds, f.out.c_str());
}

}  // namespace

void add_predict_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "Predictions of a saved model for every row of a data file, as CSV");
  auto f = std::make_shared<PredictFlags>();
  cmd->add_option("--model", f->s.model, "Model directory (e.g. runs/demo/best)")->required();
  f->data.add(*cmd, "Data file with texts (CSV, TSV or JSONL)",
              "Column holding a target to copy beside the predictions (optional here)");
  cmd->get_option("--data")->required();
  cmd->add_option("--out", f->out, "CSV file to write: [split,]row,line[,id][,target],prediction")->required();
  add_inference_options(*cmd, f->s);
  cmd->callback([cmd, f] { run(*cmd, *f); });
}

}  // namespace ft::tools
