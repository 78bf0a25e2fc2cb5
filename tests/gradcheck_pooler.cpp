// Gradient check of the pooler (tanh(hidden[:, 0] W^T + b)) in double: every element of hidden
// (rows t > 0 must get exactly zero), W and b; plus the accumulate and null rules.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

struct PoolerCase {
  int B = 3, T = 4, C = 5;
  std::vector<double> hidden = random_vector<double>(static_cast<size_t>(B) * T * C, 111);  // (B, T, C)
  std::vector<double> w = random_vector<double>(static_cast<size_t>(C) * C, 112, 0.7);      // (C, C)
  std::vector<double> b = random_vector<double>(static_cast<size_t>(C), 113);               // (C)
  std::vector<double> dpooled = random_vector<double>(static_cast<size_t>(B) * C, 114);     // (B, C)
  std::vector<double> pooled;  // saved by the last forward

  double loss() {
    pooled = poisoned_vector<double>(dpooled.size());
    PoolerForwardArgs<double> a;
    a.B = B; a.T = T; a.C = C; a.hidden = hidden.data(); a.w = w.data(); a.b = b.data(); a.pooled = pooled.data();
    cpu::pooler_forward(a);
    return weighted_sum(dpooled, pooled.data(), pooled.size());
  }

  void backward(double* dhidden, double* dw, double* db) {
    PoolerBackwardArgs<double> a;
    a.B = B; a.T = T; a.C = C; a.hidden = hidden.data(); a.w = w.data(); a.pooled = pooled.data();
    a.dpooled = dpooled.data(); a.dhidden = dhidden; a.dw = dw; a.db = db;
    cpu::pooler_backward(a);
  }
};

TEST(GradcheckPooler, AllInputsAndParameters) {
  PoolerCase t;
  t.loss();
  auto dhidden = poisoned_vector<double>(t.hidden.size());
  std::vector<double> dw(t.w.size(), 0.0), db(t.b.size(), 0.0);
  t.backward(dhidden.data(), dw.data(), db.data());
  expect_gradients_match([&] { return t.loss(); }, {{"hidden", &t.hidden, dhidden}, {"w", &t.w, dw}, {"b", &t.b, db}});
  for (int bb = 0; bb < t.B; ++bb)
    for (int tt = 1; tt < t.T; ++tt)
      for (int c = 0; c < t.C; ++c)
        EXPECT_EQ(dhidden[(static_cast<size_t>(bb) * t.T + tt) * t.C + c], 0.0) << "row (" << bb << ", " << tt << ")";
}

TEST(GradcheckPooler, ParameterGradientsAccumulateAndNullsSkip) {
  PoolerCase t;
  t.loss();
  auto dhidden = poisoned_vector<double>(t.hidden.size());
  std::vector<double> dw(t.w.size(), 0.0), db(t.b.size(), 0.0);
  t.backward(dhidden.data(), dw.data(), db.data());
  const auto dw0 = random_vector<double>(t.w.size(), 121), db0 = random_vector<double>(t.b.size(), 122);
  auto dw2 = dw0, db2 = db0;
  t.backward(nullptr, dw2.data(), db2.data());
  expect_accumulated("dw", dw2, dw0, dw);
  expect_accumulated("db", db2, db0, db);
  auto dhidden2 = poisoned_vector<double>(t.hidden.size());
  t.backward(dhidden2.data(), nullptr, nullptr);
  EXPECT_EQ(dhidden2, dhidden);
}

}  // namespace
}  // namespace ft::test
