// Gradient check of the regression head and MSE loss in double. The backward starts from the loss
// (dpred = 2 (pred - y) / B * loss_scale), so the checked scalar is the loss itself, with
// loss_scale = 1: d loss / d pooled, w and b, without and with dropout on pooled.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

struct HeadCase {
  int B = 5, C = 7;
  std::vector<double> pooled = random_vector<double>(static_cast<size_t>(B) * C, 131);  // (B, C)
  std::vector<double> w = random_vector<double>(static_cast<size_t>(C), 132);           // (C)
  std::vector<double> b = random_vector<double>(1, 133);                                // (1)
  std::vector<double> targets = random_vector<double>(static_cast<size_t>(B), 134, 2.0);  // (B)
  DropoutSpec dropout;
  std::vector<double> pred;  // saved by the last forward

  double loss() {
    pred = poisoned_vector<double>(static_cast<size_t>(B));
    std::vector<double> l = poisoned_vector<double>(1);
    RegressionHeadForwardArgs<double> a;
    a.B = B; a.C = C; a.pooled = pooled.data(); a.w = w.data(); a.b = b.data(); a.dropout = dropout;
    a.targets = targets.data(); a.pred = pred.data(); a.loss = l.data();
    cpu::regression_head_forward(a);
    return l[0];
  }

  void backward(float loss_scale, double* dpooled, double* dw, double* db) {
    RegressionHeadBackwardArgs<double> a;
    a.B = B; a.C = C; a.pooled = pooled.data(); a.w = w.data(); a.dropout = dropout;
    a.targets = targets.data(); a.pred = pred.data(); a.loss_scale = loss_scale;
    a.dpooled = dpooled; a.dw = dw; a.db = db;
    cpu::regression_head_backward(a);
  }

  void check() {
    loss();
    auto dpooled = poisoned_vector<double>(pooled.size());
    std::vector<double> dw(w.size(), 0.0), db(1, 0.0);
    backward(1.0f, dpooled.data(), dw.data(), db.data());
    expect_gradients_match([&] { return loss(); }, {{"pooled", &pooled, dpooled}, {"w", &w, dw}, {"b", &b, db}});
  }
};

TEST(GradcheckRegressionHead, WithoutDropout) {
  HeadCase t;
  t.check();
}

TEST(GradcheckRegressionHead, WithDropout) {
  HeadCase t;
  t.dropout.p = 0.3f; t.dropout.seed = 77; t.dropout.stream = dropout_stream(0, DropoutSite::Classifier);
  t.dropout.step = 2;
  t.check();
}

TEST(GradcheckRegressionHead, LossScaleScalesEveryGradient) {
  HeadCase t;
  t.loss();
  auto dp1 = poisoned_vector<double>(t.pooled.size()), dp4 = poisoned_vector<double>(t.pooled.size());
  std::vector<double> dw1(t.w.size(), 0.0), db1(1, 0.0), dw4(t.w.size(), 0.0), db4(1, 0.0);
  t.backward(1.0f, dp1.data(), dw1.data(), db1.data());
  t.backward(0.25f, dp4.data(), dw4.data(), db4.data());
  // Scaling by a power of two is exact.
  for (size_t i = 0; i < dp1.size(); ++i) EXPECT_EQ(dp4[i], 0.25 * dp1[i]);
  for (size_t i = 0; i < dw1.size(); ++i) EXPECT_EQ(dw4[i], 0.25 * dw1[i]);
  EXPECT_EQ(db4[0], 0.25 * db1[0]);
}

TEST(GradcheckRegressionHead, ParameterGradientsAccumulateAndNullsSkip) {
  HeadCase t;
  t.loss();
  auto dpooled = poisoned_vector<double>(t.pooled.size());
  std::vector<double> dw(t.w.size(), 0.0), db(1, 0.0);
  t.backward(1.0f, dpooled.data(), dw.data(), db.data());
  const auto dw0 = random_vector<double>(t.w.size(), 141), db0 = random_vector<double>(1, 142);
  auto dw2 = dw0, db2 = db0;
  t.backward(1.0f, nullptr, dw2.data(), db2.data());
  expect_accumulated("dw", dw2, dw0, dw);
  expect_accumulated("db", db2, db0, db);
  auto dpooled2 = poisoned_vector<double>(t.pooled.size());
  t.backward(1.0f, dpooled2.data(), nullptr, nullptr);
  EXPECT_EQ(dpooled2, dpooled);
}

}  // namespace
}  // namespace ft::test
