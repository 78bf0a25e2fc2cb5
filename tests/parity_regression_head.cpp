// regression head (dropout, dense C -> 1) with the MSE loss, forward and backward: the CUDA backend
// against the CPU backend (tests/support/parity.h; dot products of C <= 768 terms, summed in fp64 on
// both sides). Predictions and the loss are fp32 in every precision.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

struct Case {
  int B, C;
  float p;
  bool targets;
  float loss_scale;
};

std::vector<Case> cases() {
  if (test::quick_mode()) return {{3, 16, 0.1f, true, 1.0f}};
  return {{1, 1, 0.0f, true, 1.0f},   {3, 16, 0.1f, true, 1.0f},  {7, 33, 0.1f, false, 1.0f},
          {32, 384, 0.1f, true, 0.25f}, {64, 768, 0.0f, true, 0.5f}, {200, 100, 0.3f, true, 1.0f}};
}

template <class DevReal>
void check(const Case& k, uint64_t seed) {
  using test::round_to;
  const size_t n = static_cast<size_t>(k.B) * k.C;
  const auto pooled = round_to<DevReal>(test::random_values(n, seed, -0.99, 0.99));
  const auto w = round_to<DevReal>(test::random_values(k.C, seed + 1, -0.1, 0.1));
  const auto b = round_to<DevReal>(test::random_values(1, seed + 2));
  const auto y = test::random_values(k.B, seed + 3, -2.0, 2.0);
  const auto dpooled0 = round_to<DevReal>(test::random_values(n, seed + 4));
  const auto dw0 = round_to<DevReal>(test::random_values(k.C, seed + 5));
  const auto db0 = round_to<DevReal>(test::random_values(1, seed + 6));
  const DropoutSpec drop{k.p, 99, dropout_stream(0, DropoutSite::Classifier), 3};
  auto run = [&]<class R>(Backend<R>& be) {
    using Stat = stat_t<R>;
    Dev<R> d(be);
    RegressionHeadForwardArgs<R> f;
    f.B = k.B;
    f.C = k.C;
    f.pooled = d.template upload<R>(pooled);
    f.w = d.template upload<R>(w);
    f.b = d.template upload<R>(b);
    f.dropout = drop;
    f.targets = k.targets ? d.template upload<Stat>(y) : nullptr;
    f.pred = d.template nan<Stat>(k.B);
    f.loss = d.template nan<Stat>(1);
    be.regression_head_forward(f);
    Outputs o{d.fp32("pred", f.pred, k.B)};
    if (!k.targets) return o;
    o.push_back(d.fp32("loss", f.loss, 1));
    RegressionHeadBackwardArgs<R> a;
    a.B = k.B;
    a.C = k.C;
    a.pooled = f.pooled;
    a.w = f.w;
    a.dropout = drop;
    a.targets = f.targets;
    a.pred = f.pred;
    a.loss_scale = k.loss_scale;
    a.dpooled = d.template nan<R>(n);
    a.dw = d.template upload<R>(dw0);
    a.db = d.template upload<R>(db0);
    be.regression_head_backward(a);
    o.push_back(d.real("dpooled", a.dpooled, n));
    o.push_back(d.real("dw", a.dw, k.C));
    o.push_back(d.real("db", a.db, 1));
    return o;
  };
  const std::string what = "regression_head B=" + std::to_string(k.B) + " C=" + std::to_string(k.C) +
                           (k.p > 0 ? " dropout" : "") + (k.targets ? "" : " no-targets");
  test::expect_parity<DevReal>(what, run);
}

template <class DevReal>
void all_cases() {
  uint64_t seed = 6000;
  for (const Case& k : cases()) check<DevReal>(k, seed += 10);
}

TEST(ParityRegressionHead, Fp32) {
  FT_REQUIRE_DEVICE(float);
  all_cases<float>();
}
TEST(ParityRegressionHead, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  all_cases<bf16>();
}

}  // namespace
}  // namespace ft
