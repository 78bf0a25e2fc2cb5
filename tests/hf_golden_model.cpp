// The float CPU model against Hugging Face's BertForSequenceClassification (num_labels = 1, MSE)
// trained like HF Trainer: tests/golden/model/ (written by tools/golden/model.py; see there) holds
// a tiny random config, its parameters, three padded batches, and what HF computed: predictions,
// losses, every gradient, the gradient norms, and the parameters after 3 AdamW steps with
// clipping (max norm 1) and the linear schedule (warmup 1 of 5 steps, so the first step has lr 0).
// Once with every parameter trainable, once with only the classifier.
//
// Tolerances (float32 everywhere, on both sides):
//  - loss: relative 1e-6. Both sides round differently (OpenBLAS vs PyTorch's GEMMs, other
//    summation orders) at float's 6e-8 per operation; through 2 layers of ~100-term sums the
//    predictions agree to a few 1e-7 relative, and the MSE of 4 targets keeps that.
//  - gradients: each tensor norm-wise relative 1e-5. HF's own float32 gradients differ from its
//    float64 ones by 1e-7 .. 6e-7 norm-wise on this model (measured), so two float32 computations
//    sit well inside 1e-5.
//  - parameters after 3 steps: each tensor norm-wise relative 1e-5. Adam divides the moment
//    estimates, so an update inherits the gradient's relative error (~1e-6) times lr (1e-3):
//    the parameters differ by ~1e-9 absolute against norms of 0.1..10.
//  - the exception, attention key biases: their exact gradient is zero (softmax does not change
//    when every score of a row moves by the same q.b_k), so both sides hold rounding noise
//    (~1e-9, 1e-8 of the key weight's gradient). We require ours to be noise of that size too, and
//    since Adam normalises even noise to steps of up to ~lr per element, the key biases after the
//    steps may differ by up to 2 * lr per step with lr > 0 (2 of the 3): 2 * (1e-3 + 7.5e-4).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/backend_registry.h"
#include "core/safetensors.h"
#include "model/train/schedule.h"
#include "model_fixtures.h"
#include "support/test_data.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

fs::path golden() { return test::golden_dir() / "model"; }

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return nlohmann::json::parse(in);
}

StateDict read_tensors(const fs::path& path) {
  StateDict d;
  d.tensors = read_safetensors(path.string()).tensors;
  return d;
}

std::vector<ModelBatch> read_batches() {
  std::vector<ModelBatch> batches;
  for (const auto& j : read_json(golden() / "batches.json")) {
    ModelBatch b;
    const auto ids = j.at("input_ids").get<std::vector<std::vector<int32_t>>>();
    const auto types = j.at("token_type_ids").get<std::vector<std::vector<int32_t>>>();
    b.B = static_cast<int>(ids.size());
    b.T = static_cast<int>(ids.at(0).size());
    for (int s = 0; s < b.B; ++s) {
      b.input_ids.insert(b.input_ids.end(), ids[s].begin(), ids[s].end());
      b.token_type_ids.insert(b.token_type_ids.end(), types[s].begin(), types[s].end());
    }
    b.lengths = j.at("lengths").get<std::vector<int32_t>>();
    b.targets = j.at("targets").get<std::vector<float>>();
    batches.push_back(std::move(b));
  }
  return batches;
}

bool is_key_bias(const std::string& name) { return name.find("attention.self.key.bias") != std::string::npos; }

std::string key_weight_of(const std::string& key_bias) {
  return key_bias.substr(0, key_bias.size() - 4) + "weight";
}

double norm(const Tensor& t) {
  double s = 0.0;
  for (int64_t i = 0; i < t.numel(); ++i) s += static_cast<double>(t.data<float>()[i]) * t.data<float>()[i];
  return std::sqrt(s);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(static_cast<double>(a.data<float>()[i]) - b.data<float>()[i]));
  return m;
}

// Runs the three HF Trainer steps and compares everything the golden recorded for `part`
// ("all" or "head").
void check_training(const std::string& part, const std::string& train) {
  const fs::path dir = golden();
  FT_REQUIRE_PATH(dir / "initial.safetensors");
  const BertConfig config = load_bert_config((dir / "config.json").string());
  const nlohmann::json log = read_json(dir / (part + ".json"));
  const std::vector<ModelBatch> batches = read_batches();
  const StateDict initial = read_tensors(dir / "initial.safetensors");
  const StateDict hf_grads = read_tensors(dir / (part + "_grads.safetensors"));
  const StateDict hf_final = read_tensors(dir / (part + "_step3.safetensors"));

  auto backend = make_backend<float>(DeviceSpec{});
  const BertParamLayout layout = bert_param_layout(config);
  BertRegressor<float> model(*backend, config, parse_trainable(layout, train, ""));
  model.load_params(initial);

  const DropoutRates rates = DropoutRates::from_config(config);
  ASSERT_EQ(rates.hidden, 0.0f);
  ASSERT_EQ(rates.attention, 0.0f);
  ASSERT_EQ(rates.classifier, 0.0f);
  AdamWSettings adamw;
  adamw.weight_decay = log.at("weight_decay").get<float>();
  const double base_lr = log.at("lr").get<double>();
  const int64_t warmup = log.at("warmup_steps").get<int64_t>(), total = log.at("total_steps").get<int64_t>();
  const double max_norm = log.at("max_grad_norm").get<double>();

  const auto& steps = log.at("steps");
  ASSERT_EQ(steps.size(), 3u);
  for (size_t k = 0; k < steps.size(); ++k) {
    const auto& expect = steps[k];
    model.zero_grad();
    const auto out = model.forward(batches[k], /*training=*/true, rates, 42, static_cast<uint32_t>(k));
    const double hf_loss = expect.at("loss").get<double>();
    const double loss_err = std::abs(out.loss - hf_loss) / std::abs(hf_loss);
    EXPECT_LE(loss_err, 1e-6) << part << " step " << k << ": loss " << out.loss << " vs HF " << hf_loss;
    const auto hf_pred = expect.at("pred").get<std::vector<float>>();
    ASSERT_EQ(out.pred.size(), hf_pred.size());
    const double pred_err = test::relative_error(out.pred.data(), hf_pred.data(), static_cast<int64_t>(hf_pred.size()));
    EXPECT_LE(pred_err, 1e-6) << part << " step " << k;
    std::printf("[%s] step %zu: loss rel err %.2e, prediction rel err %.2e\n", part.c_str(), k, loss_err, pred_err);

    model.backward(1.0f);
    if (k == 0) {
      const StateDict ours = model.grads_to_host();
      ASSERT_EQ(ours.tensors.size(), hf_grads.tensors.size()) << "trainable tensors";
      double worst = 0.0;
      std::string worst_name;
      for (const auto& [name, hf] : hf_grads.tensors) {
        const Tensor* mine = ours.find(name);
        ASSERT_TRUE(mine) << "no gradient for " << name;
        ASSERT_EQ(mine->shape(), hf.shape()) << name;
        if (is_key_bias(name)) {
          const double scale = norm(*hf_grads.find(key_weight_of(name)));
          EXPECT_LE(norm(*mine), 1e-6 * scale) << name << ": its exact gradient is 0";
          EXPECT_LE(norm(hf), 1e-6 * scale) << name << " (HF's own)";
          std::printf("[%s] %s: gradient norm %.2e (HF %.2e), key weight's %.2e\n", part.c_str(), name.c_str(),
                      norm(*mine), norm(hf), scale);
          continue;
        }
        const double err = test::relative_error(mine->data<float>(), hf.data<float>(), hf.numel());
        EXPECT_LE(err, 1e-5) << part << ": gradient of " << name;
        if (err > worst) worst = err, worst_name = name;
      }
      std::printf("[%s] gradients: worst norm-wise rel err %.2e (%s)\n", part.c_str(), worst, worst_name.c_str());
    }

    const double grad_norm = model.grad_norm();
    const double hf_norm = expect.at("grad_norm").get<double>();
    EXPECT_LE(std::abs(grad_norm - hf_norm) / hf_norm, 1e-5) << part << " step " << k << ": gradient norm";
    const double lr = linear_schedule_lr(base_lr, static_cast<int64_t>(k), warmup, total);
    EXPECT_DOUBLE_EQ(lr, expect.at("lr").get<double>()) << "step " << k;
    const double coef = clip_coefficient(grad_norm, max_norm);
    ASSERT_LT(coef, 1.0) << "the golden is meant to exercise clipping";
    model.optimizer_step(adamw, static_cast<float>(lr), static_cast<float>(coef));
  }

  // Parameters after the 3 steps: trainable ones against HF, frozen ones bitwise unchanged.
  const StateDict after = model.params_to_host();
  double worst = 0.0;
  std::string worst_name;
  for (const auto& [name, mine] : after.tensors) {
    const Tensor* hf = hf_final.find(name);
    if (!hf) {
      const Tensor* init = initial.find(name);
      ASSERT_TRUE(init) << name;
      EXPECT_TRUE(test::bitwise_equal(mine, *init)) << name << " is frozen but changed";
      continue;
    }
    ASSERT_EQ(mine.shape(), hf->shape()) << name;
    if (is_key_bias(name)) {
      EXPECT_LE(max_abs_diff(mine, *hf), 2.0 * (1e-3 + 7.5e-4)) << name;
      std::printf("[%s] %s after 3 steps: max abs diff %.2e\n", part.c_str(), name.c_str(), max_abs_diff(mine, *hf));
      continue;
    }
    const double err = test::relative_error(mine.data<float>(), hf->data<float>(), hf->numel());
    EXPECT_LE(err, 1e-5) << part << ": parameter after 3 steps " << name;
    if (err > worst) worst = err, worst_name = name;
  }
  std::printf("[%s] parameters after 3 steps: worst norm-wise rel err %.2e (%s)\n", part.c_str(), worst,
              worst_name.c_str());
}

TEST(HfGoldenModel, AllParametersTrainable) { check_training("all", "all"); }

TEST(HfGoldenModel, OnlyHeadTrainable) { check_training("head", "head"); }

// HF's initial parameters, loaded and read back, are bit-identical (the layout loses nothing).
TEST(HfGoldenModel, ParametersRoundTrip) {
  const fs::path dir = golden();
  FT_REQUIRE_PATH(dir / "initial.safetensors");
  const BertConfig config = load_bert_config((dir / "config.json").string());
  const StateDict initial = read_tensors(dir / "initial.safetensors");
  auto backend = make_backend<float>(DeviceSpec{});
  BertRegressor<float> model(*backend, config, parse_trainable(bert_param_layout(config), "all", ""));
  model.load_params(initial);
  const StateDict back = model.params_to_host();
  ASSERT_EQ(back.tensors.size(), initial.tensors.size());
  for (const auto& [name, t] : back.tensors) {
    const Tensor* src = initial.find(name);
    ASSERT_TRUE(src) << name;
    EXPECT_TRUE(test::bitwise_equal(t, *src)) << name;
  }
}

}  // namespace
}  // namespace ft
