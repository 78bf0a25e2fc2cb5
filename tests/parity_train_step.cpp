// One whole training step of a small BERT regressor (forward with dropout, backward, gradient
// clipping, AdamW) on the CUDA backend against the CPU backend in fp64 (BertRegressor<double>), in
// fp32 and in bf16. The batch has very different lengths (padding, masked keys, [CLS] pooling).
//
// Tolerances (whole-model, so looser than one op's; argued from the per-op bounds):
//  - fp32: the step chains ~25 ops per layer direction; each op's fp32 error is ~1e-7 relative
//    (the CPU fp32 backend's error in the op tests) and at most 1e-5 (the op bound), and LayerNorm
//    and softmax backward can amplify an input error by a few times. Errors of independent ops add
//    in quadrature: sqrt(50) * 1e-5 * 3 ~ 2e-4 is the worst plausible case, so predictions, loss
//    and the gradient vector must be within 2e-4 relative (typically ~1e-6).
//  - bf16: every op rounds its output to bf16 (unit roundoff 2^-8 = 3.9e-3, ~2e-3 relative rms).
//    Through ~25 ops forward and as many backward, independent roundings give ~sqrt(50) * 2e-3
//    ~ 1.4e-2 relative; the bound is 5e-2 for the gradient vector and 3e-2 for predictions.
//  - The parameters after the step are compared through the update (after - before), which is
//    lr * g / (|g| + eps) elementwise in AdamW's first step, so any error in a gradient shows; same
//    bounds.
#include <cmath>
#include <string>
#include <vector>

#include "model/bert_regressor.h"
#include "tests/model_fixtures.h"
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

template <class Real>
StepResult train_step(Backend<Real>& be) {
  const BertConfig config = step_config();
  const BertParamLayout layout = bert_param_layout(config);
  BertRegressor<Real> model(be, config, test::groups_from(layout, "all"));
  const StateDict init = test::random_bert_params(layout, 11);
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

template <class DevReal>
void check_step(double grad_tol, double pred_tol) {
  auto cpu = make_backend<double>(DeviceSpec{});
  const StepResult ref = train_step(*cpu);
  auto device = test::device_backend<DevReal>();
  const StepResult got = train_step(*device);

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
  check_step<float>(2e-4, 2e-4);
}

TEST(ParityTrainStep, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  check_step<bf16>(5e-2, 3e-2);
}

}  // namespace
}  // namespace ft
