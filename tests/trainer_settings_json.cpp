// TrainSettings as JSON (model/train/train_settings_json.h): every field survives the round trip,
// floats are written as the decimals they were given, an unset dropout is null, and the settings a
// resumed run may change are real fields.
#include <gtest/gtest.h>

#include <string>

#include "model/train/train_settings_json.h"

namespace ft {
namespace {

TrainSettings unusual_settings() {
  TrainSettings s;
  s.model = "m"; s.model_config = "c.json"; s.tokenizer = "tok"; s.data_label = "label";
  s.device = "cuda:1"; s.precision = "bf16";
  s.max_length = 77; s.batch_size = 3; s.eval_batch_size = 5; s.grad_accum = 2;
  s.shuffle = false; s.bucket_by_length = true;
  s.epochs = 2.5; s.max_steps = 9; s.lr = 2e-5; s.warmup_ratio = 0.1; s.warmup_steps = 4;
  s.adamw = {.beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-7f, .weight_decay = 0.01f};
  s.max_grad_norm = 0.5;
  s.hidden_dropout = 0.2f; s.attention_dropout = std::nullopt; s.classifier_dropout = 0.3f;
  s.frozen_dropout = false; s.feature_cache = false;
  s.train_groups = "head"; s.freeze_groups = "embeddings"; s.seed = 7;
  s.eval_every = 11; s.log_every = 12; s.early_stopping_patience = 3; s.test_model = "last";
  s.output_dir = "out"; s.save_every = 13; s.keep_checkpoints = 2; s.resume = "ck"; s.overwrite = true;
  s.command_line = "ftengine train"; s.progress = ProgressMode::Bar; s.threads = 6;
  return s;
}

TEST(TrainerSettingsJson, EveryFieldSurvivesTheRoundTrip) {
  const TrainSettings s = unusual_settings();
  const nlohmann::json j = s;
  const TrainSettings r = j.get<TrainSettings>();
  EXPECT_EQ(nlohmann::json(r), j);
  EXPECT_EQ(r.model, s.model); EXPECT_EQ(r.model_config, s.model_config); EXPECT_EQ(r.tokenizer, s.tokenizer);
  EXPECT_EQ(r.data_label, s.data_label); EXPECT_EQ(r.device, s.device); EXPECT_EQ(r.precision, s.precision);
  EXPECT_EQ(r.max_length, s.max_length); EXPECT_EQ(r.batch_size, s.batch_size);
  EXPECT_EQ(r.eval_batch_size, s.eval_batch_size); EXPECT_EQ(r.grad_accum, s.grad_accum);
  EXPECT_EQ(r.shuffle, s.shuffle); EXPECT_EQ(r.bucket_by_length, s.bucket_by_length);
  EXPECT_EQ(r.epochs, s.epochs); EXPECT_EQ(r.max_steps, s.max_steps); EXPECT_EQ(r.lr, s.lr);
  EXPECT_EQ(r.warmup_ratio, s.warmup_ratio); EXPECT_EQ(r.warmup_steps, s.warmup_steps);
  EXPECT_EQ(r.adamw.beta1, s.adamw.beta1); EXPECT_EQ(r.adamw.beta2, s.adamw.beta2);
  EXPECT_EQ(r.adamw.eps, s.adamw.eps); EXPECT_EQ(r.adamw.weight_decay, s.adamw.weight_decay);
  EXPECT_EQ(r.max_grad_norm, s.max_grad_norm); EXPECT_EQ(r.hidden_dropout, s.hidden_dropout);
  EXPECT_EQ(r.attention_dropout, s.attention_dropout); EXPECT_EQ(r.classifier_dropout, s.classifier_dropout);
  EXPECT_EQ(r.frozen_dropout, s.frozen_dropout); EXPECT_EQ(r.feature_cache, s.feature_cache);
  EXPECT_EQ(r.train_groups, s.train_groups); EXPECT_EQ(r.freeze_groups, s.freeze_groups); EXPECT_EQ(r.seed, s.seed);
  EXPECT_EQ(r.eval_every, s.eval_every); EXPECT_EQ(r.log_every, s.log_every);
  EXPECT_EQ(r.early_stopping_patience, s.early_stopping_patience); EXPECT_EQ(r.test_model, s.test_model);
  EXPECT_EQ(r.output_dir, s.output_dir); EXPECT_EQ(r.save_every, s.save_every);
  EXPECT_EQ(r.keep_checkpoints, s.keep_checkpoints); EXPECT_EQ(r.resume, s.resume); EXPECT_EQ(r.overwrite, s.overwrite);
  EXPECT_EQ(r.command_line, s.command_line); EXPECT_EQ(r.progress, s.progress); EXPECT_EQ(r.threads, s.threads);
}

TEST(TrainerSettingsJson, FloatsAreTheDecimalsGiven) {
  const nlohmann::json j = unusual_settings();
  EXPECT_EQ(j["adamw"]["beta1"].dump(), "0.8");
  EXPECT_EQ(j["adamw"]["eps"].dump(), "1e-07");
  EXPECT_EQ(j["hidden_dropout"].dump(), "0.2");
  EXPECT_TRUE(j["attention_dropout"].is_null()) << "unset: the model's config decides";
  EXPECT_EQ(j["progress"], "bar");
}

TEST(TrainerSettingsJson, SettingsFreeOnResumeAreFields) {
  const nlohmann::json j = TrainSettings{};
  for (const char* key : kSettingsFreeOnResume) EXPECT_TRUE(j.contains(key)) << key;
}

TEST(TrainerSettingsJson, MissingKeysKeepTheirDefaults) {
  const TrainSettings r = nlohmann::json{{"lr", 0.5}}.get<TrainSettings>();
  EXPECT_EQ(r.lr, 0.5);
  EXPECT_EQ(r.batch_size, TrainSettings{}.batch_size);
  EXPECT_EQ(r.adamw.beta2, AdamWSettings{}.beta2);
}

}  // namespace
}  // namespace ft
