// Which parameters a run touches: the paper's restricted run (head only) and unrestricted run (all),
// partial configurations, and the cached-encoder path giving the same model as the full forward.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <set>

#include "model/trainer.h"
#include "tests/trainer_support.h"

namespace fs = std::filesystem;
using namespace ft;
using namespace ft::test;

namespace {

// The group of a canonical parameter name (bert_params.h).
std::string group_of(const std::string& name) {
  if (name.rfind("bert.embeddings.", 0) == 0) return "embeddings";
  if (name.rfind("bert.encoder.layer.", 0) == 0) {
    const size_t start = std::string("bert.encoder.layer.").size();
    return "encoder." + name.substr(start, name.find('.', start) - start);
  }
  if (name.rfind("bert.pooler.", 0) == 0) return "pooler";
  return "head";
}

// Trains on the toy task and returns, per tensor of the saved last model, whether it differs from
// the initial checkpoint's.
std::map<std::string, bool> changed_tensors(const std::string& train, const std::string& freeze, TrainSettings* out = nullptr) {
  ScratchDir dir("groups");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 80, 11));
  TrainSettings s = tiny_settings(dir / "run");
  s.train_groups = train;
  s.freeze_groups = freeze;
  s.epochs = 1;
  if (out) *out = s;
  train_regressor(s, data);
  const auto before = read_tensors((tiny_checkpoint_dir() / "model.safetensors").string());
  const auto after = read_tensors(dir / "run/last/model.safetensors");
  std::map<std::string, bool> changed;
  for (const auto& [hf_name, values] : after) {
    // The saved model uses HF names, which for BertForSequenceClassification are the canonical ones.
    const auto it = before.find(hf_name);
    EXPECT_NE(it, before.end()) << hf_name;
    if (it == before.end()) continue;
    EXPECT_EQ(values.size(), it->second.size());
    // Bitwise: memcmp, not ==, so that even a -0.0 / +0.0 flip counts as touching the tensor.
    changed[hf_name] = values.size() != it->second.size() ||
                       std::memcmp(values.data(), it->second.data(), values.size() * sizeof(float)) != 0;
  }
  return changed;
}

void expect_exactly(const std::map<std::string, bool>& changed, const std::set<std::string>& trained_groups) {
  ASSERT_FALSE(changed.empty());
  for (const auto& [name, did_change] : changed) {
    const bool should = trained_groups.count(group_of(name)) > 0;
    EXPECT_EQ(did_change, should) << name << (should ? " should have changed" : " is frozen but changed");
  }
}

}  // namespace

TEST(TrainerFrozenGroups, RestrictedTouchesOnlyTheHead) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  expect_exactly(changed_tensors("head", ""), {"head"});
}

TEST(TrainerFrozenGroups, UnrestrictedTouchesEverything) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  expect_exactly(changed_tensors("all", ""), {"embeddings", "encoder.0", "encoder.1", "pooler", "head"});
}

TEST(TrainerFrozenGroups, RangesAndFreeze) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  expect_exactly(changed_tensors("encoder.1-1,pooler,head", ""), {"encoder.1", "pooler", "head"});
  expect_exactly(changed_tensors("all", "embeddings"), {"encoder.0", "encoder.1", "pooler", "head"});
}

// With no dropout below the head, caching the encoder's outputs is an optimisation only: the same
// updates in the same order through the same ops, so the same bits as running the full forward
// every step. Covered for the head alone and for pooler + head, with dropout on the head's input
// and gradient accumulation.
class TrainerFeatureCache : public ::testing::TestWithParam<const char*> {};

TEST_P(TrainerFeatureCache, SameModelAsTheFullForward) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  ScratchDir dir("cache");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 100, 12));
  std::map<std::string, std::vector<float>> models[2];
  std::vector<nlohmann::json> logs[2];
  for (int cached = 0; cached < 2; ++cached) {
    TrainSettings s = tiny_settings(dir / ("run" + std::to_string(cached)));
    s.train_groups = GetParam();
    s.hidden_dropout = 0.0f;
    s.attention_dropout = 0.0f;
    s.classifier_dropout = 0.2f;
    s.grad_accum = 2;
    s.lr = 3e-3;
    s.epochs = 3;
    s.feature_cache = cached == 1;
    train_regressor(s, data);
    const auto config = nlohmann::json::parse(read_file(dir / ("run" + std::to_string(cached) + "/run_config.json")));
    EXPECT_EQ(config["feature_cache"].get<bool>(), cached == 1);
    models[cached] = read_tensors(dir / ("run" + std::to_string(cached) + "/last/model.safetensors"));
    logs[cached] = read_jsonl(dir / ("run" + std::to_string(cached) + "/train_log.jsonl"));
  }
  ASSERT_EQ(models[0].size(), models[1].size());
  for (const auto& [name, values] : models[0]) {
    const auto& other = models[1].at(name);
    ASSERT_EQ(values.size(), other.size());
    EXPECT_EQ(std::memcmp(values.data(), other.data(), values.size() * sizeof(float)), 0) << name;
  }
  ASSERT_EQ(logs[0].size(), logs[1].size());
  for (size_t i = 0; i < logs[0].size(); ++i) {
    EXPECT_EQ(logs[0][i]["train_loss"], logs[1][i]["train_loss"]) << "record " << i;
    EXPECT_EQ(logs[0][i]["valid_loss"], logs[1][i]["valid_loss"]) << "record " << i;
    EXPECT_EQ(logs[0][i]["grad_norm"], logs[1][i]["grad_norm"]) << "record " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Groups, TrainerFeatureCache, ::testing::Values("head", "pooler,head"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param) == "head" ? "Head" : "PoolerAndHead";
                         });

// Frozen-layer dropout off: the cache is used even though the config's encoder dropout is 0.1.
TEST(TrainerFeatureCacheFrozenDropoutOff, UsesTheCacheAndTouchesOnlyTheHead) {
  FT_REQUIRE_PATH(tiny_checkpoint_dir() / "model.safetensors");
  ScratchDir dir("frozen_off");
  const DataSplits data = read_toy(write_toy_csv(dir / "toy.csv", 80, 13));
  TrainSettings s = tiny_settings(dir / "run");
  s.train_groups = "head";
  s.frozen_dropout = false;
  s.epochs = 1;
  train_regressor(s, data);
  EXPECT_TRUE(nlohmann::json::parse(read_file(dir / "run/run_config.json"))["feature_cache"].get<bool>());
  const auto before = read_tensors((tiny_checkpoint_dir() / "model.safetensors").string());
  const auto after = read_tensors(dir / "run/last/model.safetensors");
  for (const auto& [name, values] : after) {
    const bool same = std::memcmp(values.data(), before.at(name).data(), values.size() * sizeof(float)) == 0;
    EXPECT_EQ(same, group_of(name) != "head") << name;
  }
}
