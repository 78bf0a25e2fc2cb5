// Determinism of the CUDA backend: the same training run twice (fresh model, same seed, three
// steps with dropout, clipping and AdamW) must end with bitwise identical parameters and optimizer
// state, in fp32 and in bf16. Every reduction in the backend has a fixed order (no float atomics)
// and every GEMM shape runs one cached cuBLASLt algorithm, so nothing may differ.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "model/bert_regressor.h"
#include "tests/model_fixtures.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

struct RunResult {
  StateDict params;
  OptimizerState state;
  std::vector<double> losses;
};

template <class Real>
RunResult train(Backend<Real>& be) {
  BertConfig config = test::tiny_bert_config(2, 128, 4, 256, 300, 64);  // head size 32
  const BertParamLayout layout = bert_param_layout(config);
  BertRegressor<Real> model(be, config, test::groups_from(layout, "all"));
  model.load_params(test::random_bert_params(layout, 21));
  RunResult r;
  AdamWSettings settings;
  settings.weight_decay = 0.01f;
  for (uint32_t step = 0; step < 3; ++step) {
    // Many repeated ids (vocab 300, 6 x 64 tokens) exercise the embedding's grouped scatter.
    const ModelBatch batch = test::random_batch({64, 7, 33, 64, 2, 50}, config.vocab_size, 100 + step);
    const auto out = model.forward(batch, true, DropoutRates::from_config(config), 77, step);
    r.losses.push_back(out.loss);
    model.zero_grad();
    model.backward(1.0f);
    const double norm = model.grad_norm();
    model.optimizer_step(settings, 1e-3f, static_cast<float>(std::min(1.0, 1.0 / (norm + 1e-6))));
  }
  r.params = model.params_to_host();
  r.state = model.optimizer_state();
  return r;
}

template <class Real>
void check() {
  auto be = test::device_backend<Real>();
  const RunResult a = train(*be);
  const RunResult b = train(*be);
  ASSERT_EQ(a.params.tensors.size(), b.params.tensors.size());
  for (size_t k = 0; k < a.params.tensors.size(); ++k)
    EXPECT_TRUE(test::bitwise_equal(a.params.tensors[k].second, b.params.tensors[k].second))
        << a.params.tensors[k].first << " differs between two identical runs";
  EXPECT_EQ(0, std::memcmp(a.losses.data(), b.losses.data(), a.losses.size() * sizeof(double))) << "losses differ";
  ASSERT_EQ(a.state.m.size(), b.state.m.size());
  EXPECT_EQ(0, std::memcmp(a.state.m.data(), b.state.m.data(), a.state.m.size() * sizeof(double))) << "AdamW m differs";
  EXPECT_EQ(0, std::memcmp(a.state.v.data(), b.state.v.data(), a.state.v.size() * sizeof(double))) << "AdamW v differs";
  for (double l : a.losses) EXPECT_TRUE(std::isfinite(l));
}

TEST(ParityDeterminism, TrainingFp32) {
  FT_REQUIRE_DEVICE(float);
  check<float>();
}

TEST(ParityDeterminism, TrainingBf16) {
  FT_REQUIRE_DEVICE(bf16);
  check<bf16>();
}

}  // namespace
}  // namespace ft
