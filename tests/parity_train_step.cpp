// One whole training step of a small BERT regressor (forward with dropout, backward, gradient
// clipping, AdamW) on the CUDA backend against the CPU backend in fp64 (BertRegressor<double>), in
// fp32 and in bf16. The batch has very different lengths (padding, masked keys, [CLS] pooling).
//
// The weights are random with BERT-like scale (matrices std 0.03, LayerNorm weights near 1), so the
// step is well conditioned and the comparison measures the kernels.
//
// Tolerances (whole-model, so looser than one op's):
//  - fp32: the CPU fp32 backend is ~1e-7 from fp64 on predictions and gradients and ~7e-6 on the
//    update (lr g / (|g| + eps) magnifies the relative error of gradients near eps). Each CUDA op
//    is within 1e-5 of fp64 (the op tests) and ~25 ops chain per layer and direction: bounds 2e-5
//    for predictions and loss, 1e-4 for the gradient vector and the update.
//  - bf16: twice the error of a plain bf16 implementation (tests/support/bf16_rounding_backend.h:
//    the fp32 CPU backend with every bf16-stored result rounded), measured on this same step,
//    separately for predictions/loss and for gradients/update (~1e-3 and ~5e-3 here).
//  - The parameters after the step are compared through the update (after - before), which is
//    lr * g / (|g| + eps) elementwise in AdamW's first step, so any error in a gradient shows.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "model/bert_regressor.h"
#include "tests/model_fixtures.h"
#include "tests/support/bf16_rounding_backend.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

struct StepResult {
  std::vector<double> pred;
  double loss = 0.0;
  std::vector<std::string> grad_names;
  std::vector<std::vector<double>> grads;  // per tensor
  std::vector<double> update;              // params after - before, all tensors
};

BertConfig step_config() {
  BertConfig c = test::tiny_bert_config(/*layers=*/2, /*hidden=*/96, /*heads=*/3, /*intermediate=*/200, /*vocab=*/211,
                                        /*max_positions=*/48);
  c.hidden_dropout_prob = 0.1f;
  c.attention_probs_dropout_prob = 0.1f;
  return c;
}

// The initial parameters; for a bf16 comparison rounded to bf16, so that every run (fp64, the
// emulated plain bf16 and CUDA) starts from the same values.
StateDict initial_params(bool bf16_values) {
  const BertParamLayout layout = bert_param_layout(step_config());
  StateDict init = test::random_bert_params(layout, 11);
  // matrices and tables (the decayed tensors) from std 0.3 down to 0.03
  for (size_t k = 0; k < init.tensors.size(); ++k)
    if (layout.specs[k].decay) {
      Tensor& t = init.tensors[k].second;
      for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] *= 0.1f;
    }
  if (bf16_values)
    for (auto& [name, t] : init.tensors) test::Bf16RoundingBackend::round(t.data<float>(), t.numel());
  return init;
}

template <class Real>
StepResult train_step(Backend<Real>& be, const StateDict& init) {
  const BertConfig config = step_config();
  const BertParamLayout layout = bert_param_layout(config);
  BertRegressor<Real> model(be, config, test::groups_from(layout, "all"));
  model.load_params(init);
  const ModelBatch batch = test::random_batch({40, 3, 17, 29, 1, 40}, config.vocab_size, 12);
  const auto out = model.forward(batch, /*training=*/true, DropoutRates::from_config(config), /*seed=*/1234,
                                 /*step=*/5);
  model.backward(1.0f);
  StepResult r;
  r.pred.assign(out.pred.begin(), out.pred.end());
  r.loss = out.loss;
  for (const auto& [name, t] : model.grads_to_host().tensors) {
    r.grad_names.push_back(name);
    r.grads.emplace_back(t.template data<float>(), t.template data<float>() + t.numel());
  }
  const double norm = model.grad_norm();
  const float clip = static_cast<float>(std::min(1.0, 1.0 / (norm + 1e-6)));  // max_grad_norm = 1
  AdamWSettings settings;
  settings.weight_decay = 0.01f;
  // A large eps keeps the first update continuous in g (lr * g / (|g| + eps)) instead of ~lr * sign(g):
  // gradients that are zero in exact arithmetic (the key bias) are noise whose sign no two
  // implementations share.
  settings.eps = 1e-3f;
  model.optimizer_step(settings, 1e-3f, clip);
  const StateDict after = model.params_to_host();
  for (size_t k = 0; k < after.tensors.size(); ++k) {
    const Tensor& a = after.tensors[k].second;
    const Tensor& b = init.tensors[k].second;
    for (int64_t i = 0; i < a.numel(); ++i)
      r.update.push_back(static_cast<double>(a.data<float>()[i]) - static_cast<double>(b.data<float>()[i]));
  }
  return r;
}

double rel_l2(const std::vector<double>& got, const std::vector<double>& ref) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += (got[i] - ref[i]) * (got[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}

struct Errors {
  double pred = 0, loss = 0, grad = 0, update = 0;
};

Errors errors(const StepResult& got, const StepResult& ref) {
  std::vector<double> all_got, all_ref;
  for (size_t k = 0; k < ref.grads.size(); ++k) {
    all_got.insert(all_got.end(), got.grads[k].begin(), got.grads[k].end());
    all_ref.insert(all_ref.end(), ref.grads[k].begin(), ref.grads[k].end());
  }
  return {rel_l2(got.pred, ref.pred), std::fabs(got.loss - ref.loss) / std::fabs(ref.loss), rel_l2(all_got, all_ref),
          rel_l2(got.update, ref.update)};
}

// fp32: fixed bounds (file comment). bf16: twice the emulated plain bf16 implementation's error.
template <class DevReal>
void check_step(double grad_tol, double pred_tol) {
  constexpr bool kBf16 = std::is_same_v<DevReal, bf16>;
  const StateDict init = initial_params(kBf16);
  auto cpu = make_backend<double>(DeviceSpec{});
  const StepResult ref = train_step(*cpu, init);
  auto device = test::device_backend<DevReal>();
  const StepResult got = train_step(*device, init);
  if constexpr (kBf16) {
    test::Bf16RoundingBackend plain_backend;
    const Errors plain = errors(train_step(plain_backend, init), ref);
    std::printf("[parity] train_step plain bf16 baseline: pred %.3g loss %.3g grads %.3g update %.3g\n", plain.pred,
                plain.loss, plain.grad, plain.update);
    pred_tol = 2.0 * std::max({plain.pred, plain.loss, 1e-3});
    grad_tol = 2.0 * std::max({plain.grad, plain.update, 1e-3});
  }

  ASSERT_EQ(got.pred.size(), ref.pred.size());
  for (double p : got.pred) ASSERT_TRUE(std::isfinite(p)) << "non-finite prediction";
  const double e_pred = rel_l2(got.pred, ref.pred);
  const double e_loss = std::fabs(got.loss - ref.loss) / std::fabs(ref.loss);
  std::printf("[parity] train_step pred rel_l2 %.3g, loss rel %.3g (tol %.3g)\n", e_pred, e_loss, pred_tol);
  EXPECT_LE(e_pred, pred_tol) << "predictions";
  EXPECT_LE(e_loss, pred_tol) << "loss " << got.loss << " vs " << ref.loss;

  ASSERT_EQ(got.grads.size(), ref.grads.size());
  std::vector<double> all_got, all_ref;
  for (size_t k = 0; k < ref.grads.size(); ++k) {
    ASSERT_EQ(got.grad_names[k], ref.grad_names[k]);
    size_t bad = 0;
    for (double g : got.grads[k]) bad += !std::isfinite(g);
    EXPECT_EQ(bad, 0u) << got.grad_names[k] << ": non-finite gradients";
    std::printf("[parity]   grad %-58s rel_l2 %.3g\n", ref.grad_names[k].c_str(), rel_l2(got.grads[k], ref.grads[k]));
    all_got.insert(all_got.end(), got.grads[k].begin(), got.grads[k].end());
    all_ref.insert(all_ref.end(), ref.grads[k].begin(), ref.grads[k].end());
  }
  const double e_grad = rel_l2(all_got, all_ref);
  const double e_update = rel_l2(got.update, ref.update);
  std::printf("[parity] train_step gradients rel_l2 %.3g, update rel_l2 %.3g (tol %.3g)\n", e_grad, e_update,
              grad_tol);
  EXPECT_LE(e_grad, grad_tol) << "all gradients together";
  EXPECT_LE(e_update, grad_tol) << "the AdamW update (params after - before)";
}

TEST(ParityTrainStep, Fp32) {
  FT_REQUIRE_DEVICE(float);
  check_step<float>(1e-4, 2e-5);
}

TEST(ParityTrainStep, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  check_step<bf16>(0.0, 0.0);  // the bounds come from the plain bf16 baseline
}

}  // namespace
}  // namespace ft
