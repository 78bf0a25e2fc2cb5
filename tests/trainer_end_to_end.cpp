// ftengine train end to end on the CPU backend with the tiny golden checkpoint: the outputs, the
// saved model reloading to the same predictions, learning, early stopping, settings errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "model/train/inference.h"
#include "model/train/metrics.h"
#include "model/train/trainer.h"
#include "tests/trainer_support.h"

namespace fs = std::filesystem;
using namespace ft;
using namespace ft::test;

namespace {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// predictions.csv as rows of fields.
std::vector<std::vector<std::string>> read_csv_rows(const std::string& path) {
  const Table t = parse_delimited(read_file(path), ',', path);
  std::vector<std::vector<std::string>> rows;
  rows.push_back(t.header);
  for (const auto& r : t.records) rows.push_back(r.fields);
  return rows;
}

}  // namespace

TEST(TrainerEndToEnd, WritesEveryOutputAndTheSavedModelPredictsTheSame) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  ScratchDir dir("e2e");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 120, 1));
  TrainSettings s = tiny_settings(dir / "run");
  s.log_every = 3;
  const TrainResult r = train_regressor(s, data);

  // 84 training rows in batches of 8: 11 micro-batches, 11 steps per epoch, 22 in all.
  EXPECT_EQ(r.steps, 22);
  for (const char* f : {"best/model.safetensors", "best/config.json", "best/vocab.txt", "best/ftengine_training.json",
                        "last/model.safetensors", "last/config.json", "train_log.jsonl", "metrics.json",
                        "predictions.csv", "loss_curves.svg", "run_config.json"})
    EXPECT_TRUE(fs::is_regular_file(dir / ("run/" + std::string(f)))) << f;

  // The log: steps 3, 6, 9, 10 (eval), 11 (epoch end, eval), ... 22; each record complete.
  const auto log = read_jsonl(dir / "run/train_log.jsonl");
  std::vector<int64_t> steps;
  for (const auto& rec : log) {
    steps.push_back(rec["step"].get<int64_t>());
    for (const char* k : {"epoch", "lr", "train_loss", "valid_loss", "grad_norm", "tokens_per_s"})
      EXPECT_TRUE(rec.contains(k)) << k;
    EXPECT_TRUE(rec["train_loss"].is_number());
    EXPECT_GT(rec["tokens_per_s"].get<double>(), 0.0);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{3, 6, 9, 10, 11, 12, 15, 18, 20, 21, 22}));
  EXPECT_TRUE(log[3]["valid_loss"].is_number());   // step 10: eval_every
  EXPECT_TRUE(log[4]["valid_loss"].is_number());   // step 11: epoch end
  EXPECT_TRUE(log[0]["valid_loss"].is_null());     // step 3: training loss only
  EXPECT_DOUBLE_EQ(log[4]["epoch"].get<double>(), 1.0);

  // metrics.json agrees with the result, and with the best validation loss in the log.
  const auto metrics = nlohmann::json::parse(read_file(dir / "run/metrics.json"));
  EXPECT_EQ(metrics["evaluated_model"], "best");
  EXPECT_NEAR(metrics["test"]["mse"].get<double>(), r.test.mse, 1e-12);
  double best = INFINITY;
  for (const auto& rec : log)
    if (rec["valid_loss"].is_number()) best = std::min(best, rec["valid_loss"].get<double>());
  EXPECT_DOUBLE_EQ(metrics["best_valid_loss"].get<double>(), best);
  // The best model's validation MSE, recomputed at the end, is the logged best (same model, same data).
  EXPECT_NEAR(r.valid.mse, best, 1e-6 * best);

  // predictions.csv: valid then test rows; the reloaded best model predicts exactly these numbers.
  const auto rows = read_csv_rows(dir / "run/predictions.csv");
  ASSERT_EQ(rows[0], (std::vector<std::string>{"split", "row", "line", "id", "target", "prediction"}));
  ASSERT_EQ(rows.size(), 1 + data.valid.size() + data.test.size());
  InferenceSettings is;
  is.model = dir / "run/best";
  is.device = "cpu";
  is.verbose = false;
  const InferenceResult again = predict_examples(is, data.test, "test");
  EXPECT_EQ(again.max_length, 32);  // taken from ftengine_training.json
  std::vector<double> test_pred;
  for (size_t i = 0; i < data.test.size(); ++i) {
    const auto& row = rows[1 + data.valid.size() + i];
    EXPECT_EQ(row[0], "test");
    EXPECT_EQ(row[3], data.test[i].id);
    const float saved = std::stof(row[5]);
    EXPECT_EQ(saved, static_cast<float>(again.predictions[i])) << "row " << i;
    test_pred.push_back(saved);
  }
  std::vector<double> targets;
  for (const auto& ex : data.test) targets.push_back(ex.target);
  EXPECT_NEAR(regression_metrics(test_pred, targets).mse, r.test.mse, 1e-6);
}

TEST(TrainerEndToEnd, LossDecreasesOnALearnableTask) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  ScratchDir dir("learn");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 240, 2));
  TrainSettings s = tiny_settings(dir / "run");
  s.epochs = 8;
  s.eval_every = 0;
  const TrainResult r = train_regressor(s, data);
  const auto log = read_jsonl(dir / "run/train_log.jsonl");
  ASSERT_EQ(log.size(), 8u);  // one record per epoch
  // Counting "tok7" is learnable: the validation MSE falls far below the targets' variance
  // (predicting the mean), and training loss falls by half from the first epoch to the last.
  EXPECT_GT(r.valid.r2, 0.5);
  EXPECT_GT(r.test.r2, 0.5);
  EXPECT_LT(log.back()["train_loss"].get<double>(), 0.5 * log.front()["train_loss"].get<double>());
}

TEST(TrainerEndToEnd, EarlyStoppingAndLastModel) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  ScratchDir dir("early");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 120, 3));
  TrainSettings s = tiny_settings(dir / "run");
  s.epochs = 50;
  s.lr = 1e-7;  // too small to improve anything much: validation stalls within noise
  s.eval_every = 1;
  s.early_stopping_patience = 2;
  s.test_model = "last";
  s.hidden_dropout = s.attention_dropout = s.classifier_dropout = 0.0f;
  const TrainResult r = train_regressor(s, data);
  EXPECT_TRUE(r.stopped_early);
  EXPECT_LT(r.steps, 50 * 11);
  EXPECT_EQ(r.evaluated_model, "last");
  const auto log = read_jsonl(dir / "run/train_log.jsonl");
  // The run ended at the second evaluation in a row without a new best.
  ASSERT_GE(log.size(), 3u);
  const double best = nlohmann::json::parse(read_file(dir / "run/metrics.json"))["best_valid_loss"].get<double>();
  EXPECT_GE(log[log.size() - 1]["valid_loss"].get<double>(), best);
  EXPECT_GE(log[log.size() - 2]["valid_loss"].get<double>(), best);
}

TEST(TrainerEndToEnd, SettingsErrorsAreClear) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  ScratchDir dir("errors");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 60, 4));
  TrainSettings s = tiny_settings(dir / "run");
  s.max_length = 65;
  EXPECT_NE(error_of([&] { train_regressor(s, data); }).find("max_position_embeddings"), std::string::npos);
  s = tiny_settings(dir / "run");
  s.frozen_dropout = false;  // with every group training there is no frozen encoder to cache
  EXPECT_NE(error_of([&] { train_regressor(s, data); }).find("--frozen-dropout off"), std::string::npos);
  s = tiny_settings(dir / "run");
  s.train_groups = "encoder.7";
  EXPECT_NE(error_of([&] { train_regressor(s, data); }).find("encoder"), std::string::npos);
  s = tiny_settings(dir / "run");
  s.precision = "bf16";
  EXPECT_NE(error_of([&] { train_regressor(s, data); }).find("bf16 needs a CUDA device"), std::string::npos);
  // A 30,522-token vocabulary cannot feed a model with 128 embedding rows.
  const fs::path big_vocab = shared_data_dir() / "vocab" / "bert-base-uncased-vocab.txt";
  if (fs::is_regular_file(big_vocab)) {
    fs::create_directories(dir / "bigtok");
    fs::copy_file(big_vocab, dir / "bigtok/vocab.txt");
    s = tiny_settings(dir / "run");
    s.tokenizer = dir / "bigtok";
    EXPECT_NE(error_of([&] { train_regressor(s, data); }).find("does not belong to this model"), std::string::npos);
  }
}
