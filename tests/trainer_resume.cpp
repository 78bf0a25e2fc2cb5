// Checkpoints and --resume: a run continued from any checkpoint ends bitwise identical to the run
// that was never interrupted (model, log, metrics), with dropout, shuffling and gradient
// accumulation all in play; mismatched settings are refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "model/train/train_state.h"
#include "model/train/trainer.h"
#include "tests/trainer_support.h"

namespace fs = std::filesystem;
using namespace ft;
using namespace ft::test;

namespace {

// Dropout everywhere, shuffling, accumulation of 2 micro-batches of 8: 84 training rows make 11
// micro-batches, 5 updates per epoch (the 11th micro-batch is left over), 15 updates in 3 epochs;
// evaluations every 3 updates and at epoch ends, checkpoints every 2.
TrainSettings resumable(const std::string& out, const std::string& train_groups = "all") {
  TrainSettings s = tiny_settings(out);
  s.grad_accum = 2;
  s.epochs = 3;
  s.eval_every = 3;
  s.log_every = 1;
  s.save_every = 2;
  s.keep_checkpoints = 100;
  s.warmup_ratio = 0.2;
  s.train_groups = train_groups;
  return s;
}

// The log without its wall-clock fields.
std::vector<nlohmann::json> log_without_timing(const std::string& path) {
  auto log = read_jsonl(path);
  for (auto& rec : log) {
    rec.erase("tokens_per_s");
    rec.erase("train_seconds");
  }
  return log;
}

void expect_same_run(const std::string& a, const std::string& b) {
  for (const char* f : {"/last/model.safetensors", "/best/model.safetensors", "/predictions.csv"})
    EXPECT_TRUE(read_file(a + f) == read_file(b + f)) << f << " differs";
  EXPECT_EQ(log_without_timing(a + "/train_log.jsonl"), log_without_timing(b + "/train_log.jsonl"));
  auto ma = nlohmann::json::parse(read_file(a + "/metrics.json")), mb = nlohmann::json::parse(read_file(b + "/metrics.json"));
  EXPECT_EQ(ma["test"], mb["test"]);
  EXPECT_EQ(ma["valid"], mb["valid"]);
  EXPECT_EQ(ma["best_step"], mb["best_step"]);
}

}  // namespace

class TrainerResume : public ::testing::TestWithParam<const char*> {};

TEST_P(TrainerResume, FromEveryKindOfCheckpointEqualsTheUninterruptedRun) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  ScratchDir dir("resume");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 120, 21));
  TrainSettings full = resumable(dir / "full", GetParam());
  if (std::string(GetParam()) != "all") full.frozen_dropout = false;  // the cached-encoder path
  const TrainResult r = train_regressor(full, data);
  ASSERT_EQ(r.steps, 15);
  for (int step : {2, 4, 6, 8, 10, 12, 14})
    ASSERT_TRUE(fs::is_regular_file(dir / ("full/checkpoint-" + std::to_string(step) + "/trainer_state.json"))) << step;
  EXPECT_FALSE(fs::exists(dir / "full/checkpoint-14.partial"));

  // Step 4: mid-epoch, before an evaluation; step 6: right after one (6 = eval_every x 2), with
  // the next epoch's micro-batch order to recompute; step 10: an epoch's end.
  for (int step : {4, 6, 10}) {
    SCOPED_TRACE("resumed from step " + std::to_string(step));
    const std::string out = dir / ("resumed" + std::to_string(step));
    fs::create_directories(out);
    TrainSettings s = full;
    s.output_dir = out;
    s.resume = dir / ("full/checkpoint-" + std::to_string(step));
    const TrainResult rr = train_regressor(s, data);
    EXPECT_EQ(rr.steps, 15);
    expect_same_run(dir / "full", out);
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, TrainerResume, ::testing::Values("all", "head"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == "all" ? "FullModel" : "CachedHead";
                         });

TEST(TrainerResumeErrors, OtherSettingsOrDataAreRefused) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  ScratchDir dir("resume_err");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 60, 22));
  TrainSettings s = resumable(dir / "run");
  s.epochs = 1;
  train_regressor(s, data);
  ASSERT_FALSE(latest_checkpoint(dir / "run").empty());

  const auto error_of = [&](const TrainSettings& t, const DataSplits& d) {
    try {
      train_regressor(t, d);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  TrainSettings other = s;
  other.resume = dir / "run";  // an output directory: its newest checkpoint
  other.lr = 2e-3;
  EXPECT_NE(error_of(other, data).find("cannot resume with lr"), std::string::npos);
  other = s;
  other.resume = dir / "run";
  DataSplits changed = data;
  changed.train[0].target += 1.0;
  EXPECT_NE(error_of(other, changed).find("train_data"), std::string::npos);
  // A fresh run into a directory with checkpoints must say what it means to do.
  EXPECT_NE(error_of(s, data).find("--overwrite"), std::string::npos);
  TrainSettings over = s;
  over.overwrite = true;
  over.save_every = 0;
  train_regressor(over, data);
  EXPECT_TRUE(latest_checkpoint(dir / "run").empty());
}

TEST(TrainState, PositionRoundTripsThroughJson) {
  TrainPosition p;
  p.global_step = 7;
  p.epoch = 2;
  p.update_in_epoch = 1;
  p.micro_step = 15;
  p.best_valid_loss = 0.123456789012345678;
  p.best_step = 6;
  p.evals_without_improvement = 1;
  p.interval_loss_sum = 1.0 / 3.0;
  p.interval_loss_count = 3;
  p.interval_tokens = 99;
  p.interval_seconds = 0.5;
  p.last_grad_norm = 2.5;
  p.log_history.push_back({{"step", 6}});
  const TrainPosition q = position_from_json(nlohmann::json::parse(position_to_json(p).dump()), "mem");
  EXPECT_EQ(q.global_step, 7);
  EXPECT_EQ(q.micro_step, 15u);
  EXPECT_EQ(q.best_valid_loss, p.best_valid_loss);  // bitwise through JSON text
  EXPECT_EQ(q.interval_loss_sum, p.interval_loss_sum);
  EXPECT_EQ(q.log_history, p.log_history);
  TrainPosition fresh;
  const TrainPosition f = position_from_json(nlohmann::json::parse(position_to_json(fresh).dump()), "mem");
  EXPECT_TRUE(std::isinf(f.best_valid_loss));
  EXPECT_TRUE(std::isnan(f.last_grad_norm));
}
