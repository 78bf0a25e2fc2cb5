// Gradient check of the regression head and MSE loss in double. The backward starts from the loss
// (dpred = 2 (pred - y) / B * loss_scale), so the checked scalar is the loss itself, with
// loss_scale = 1: d loss / d pooled, w and b, without and with dropout on pooled. Cases:
// tests/cases/regression_head.h.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/regression_head.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

using cases::RegressionHeadCase;

// The forward and the backward chained on one set of host buffers.
struct Chained : ChainedOp<RegressionHeadForwardArgs<double>, RegressionHeadBackwardArgs<double>> {
  RegressionHeadCase c;
  // The checked scalar is the loss itself (loss() below), not a weighted output.
  explicit Chained(RegressionHeadCase rc)
      : ChainedOp(31, cpu::regression_head_forward, &RegressionHeadForwardArgs<double>::pred, "pred", 0), c(rc) {
    fwd = cases::regression_head_forward_args<double>(c, inputs);
    bwd = cases::regression_head_backward_args<double>(c, inputs, fwd);
  }
  size_t n() const { return c.n(); }
  double loss() {
    // Poisoned before every forward: each must write the predictions and the loss anew.
    poison(input("pred"));
    poison(input("loss"));
    cpu::regression_head_forward(fwd);
    return fwd.loss[0];
  }
  void backward(float loss_scale, double* dpooled, double* dw, double* db) {
    RegressionHeadBackwardArgs<double> a = bwd;
    a.loss_scale = loss_scale;
    a.dpooled = dpooled;
    a.dw = dw;
    a.db = db;
    cpu::regression_head_backward(a);
  }
};

void check_all_gradients(RegressionHeadCase c) {
  Chained t(c);
  t.loss();
  auto dpooled = poisoned_vector<double>(t.n());
  std::vector<double> dw(c.C, 0.0), db(1, 0.0);
  t.backward(1.0f, dpooled.data(), dw.data(), db.data());
  expect_gradients_match([&] { return t.loss(); },
                         {{"pooled", &t.input("pooled"), dpooled}, {"w", &t.input("w"), dw}, {"b", &t.input("b"), db}});
}

TEST(GradcheckRegressionHead, WithoutDropout) { check_all_gradients(cases::regression_head_gradcheck_cases()[0]); }

TEST(GradcheckRegressionHead, WithDropout) { check_all_gradients(cases::regression_head_gradcheck_cases()[1]); }

TEST(GradcheckRegressionHead, LossScaleScalesEveryGradient) {
  const RegressionHeadCase c = cases::regression_head_gradcheck_cases()[0];
  Chained t(c);
  t.loss();
  auto dp1 = poisoned_vector<double>(t.n()), dp4 = poisoned_vector<double>(t.n());
  std::vector<double> dw1(c.C, 0.0), db1(1, 0.0), dw4(c.C, 0.0), db4(1, 0.0);
  t.backward(1.0f, dp1.data(), dw1.data(), db1.data());
  t.backward(0.25f, dp4.data(), dw4.data(), db4.data());
  // Scaling by a power of two is exact.
  for (size_t i = 0; i < dp1.size(); ++i) EXPECT_EQ(dp4[i], 0.25 * dp1[i]);
  for (size_t i = 0; i < dw1.size(); ++i) EXPECT_EQ(dw4[i], 0.25 * dw1[i]);
  EXPECT_EQ(db4[0], 0.25 * db1[0]);
}

TEST(GradcheckRegressionHead, ParameterGradientsAccumulateAndNullsSkip) {
  const RegressionHeadCase c = cases::regression_head_gradcheck_cases()[0];
  Chained t(c);
  t.loss();
  auto dpooled = poisoned_vector<double>(t.n());
  std::vector<double> dw(c.C, 0.0), db(1, 0.0);
  t.backward(1.0f, dpooled.data(), dw.data(), db.data());
  const auto dw0 = random_vector<double>(dw.size(), 141), db0 = random_vector<double>(1, 142);
  auto dw2 = dw0, db2 = db0;
  t.backward(1.0f, nullptr, dw2.data(), db2.data());
  expect_accumulated("dw", dw2, dw0, dw);
  expect_accumulated("db", db2, db0, db);
  auto dpooled2 = poisoned_vector<double>(t.n());
  t.backward(1.0f, dpooled2.data(), nullptr, nullptr);
  EXPECT_EQ(dpooled2, dpooled);
}

}  // namespace
}  // namespace ft::test
