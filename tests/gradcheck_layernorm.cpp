// Gradient check of layernorm (with and without the residual add) in double, plus its accumulate
// flag and null skips.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

struct LayerNormCase {
  int N = 5, C = 6;
  std::vector<double> x = random_vector<double>(static_cast<size_t>(N) * C, 31);         // (N, C)
  std::vector<double> residual = random_vector<double>(static_cast<size_t>(N) * C, 32);  // (N, C)
  std::vector<double> gamma = random_vector<double>(static_cast<size_t>(C), 33);         // (C)
  std::vector<double> beta = random_vector<double>(static_cast<size_t>(C), 34);          // (C)
  std::vector<double> dout = random_vector<double>(static_cast<size_t>(N) * C, 35);      // (N, C) loss weights
  // Saved by the last forward:
  std::vector<double> sum, mean, rstd;

  double loss(bool with_residual) {
    auto out = poisoned_vector<double>(x.size());  // (N, C)
    sum = poisoned_vector<double>(x.size());        // (N, C)
    mean = poisoned_vector<double>(static_cast<size_t>(N));
    rstd = poisoned_vector<double>(static_cast<size_t>(N));
    LayerNormForwardArgs<double> a;
    a.N = N; a.C = C;
    a.x = x.data(); a.residual = with_residual ? residual.data() : nullptr;
    a.gamma = gamma.data(); a.beta = beta.data();
    a.sum = with_residual ? sum.data() : nullptr;
    a.out = out.data(); a.mean = mean.data(); a.rstd = rstd.data();
    cpu::layernorm_forward(a);
    return weighted_sum(dout, out.data(), out.size());
  }

  // Backward from the state of the last forward, dout as the output gradient.
  void backward(bool with_residual, double* din, bool accumulate, double* dgamma, double* dbeta) {
    LayerNormBackwardArgs<double> a;
    a.N = N; a.C = C;
    a.in = with_residual ? sum.data() : x.data();
    a.gamma = gamma.data(); a.mean = mean.data(); a.rstd = rstd.data(); a.dout = dout.data();
    a.din = din; a.din_accumulate = accumulate; a.dgamma = dgamma; a.dbeta = dbeta;
    cpu::layernorm_backward(a);
  }
};

TEST(GradcheckLayerNorm, WithoutResidual) {
  LayerNormCase t;
  t.loss(false);
  auto din = poisoned_vector<double>(t.x.size());
  std::vector<double> dgamma(t.gamma.size(), 0.0), dbeta(t.beta.size(), 0.0);
  t.backward(false, din.data(), false, dgamma.data(), dbeta.data());
  expect_gradients_match([&] { return t.loss(false); },
                         {{"x", &t.x, din}, {"gamma", &t.gamma, dgamma}, {"beta", &t.beta, dbeta}});
}

TEST(GradcheckLayerNorm, WithResidual) {
  LayerNormCase t;
  t.loss(true);
  for (size_t i = 0; i < t.x.size(); ++i) ASSERT_EQ(t.sum[i], t.x[i] + t.residual[i]) << "sum[" << i << "]";
  auto din = poisoned_vector<double>(t.x.size());
  std::vector<double> dgamma(t.gamma.size(), 0.0), dbeta(t.beta.size(), 0.0);
  t.backward(true, din.data(), false, dgamma.data(), dbeta.data());
  // The sum's gradient is the gradient of both x and the residual.
  expect_gradients_match([&] { return t.loss(true); }, {{"x", &t.x, din},
                                                        {"residual", &t.residual, din},
                                                        {"gamma", &t.gamma, dgamma},
                                                        {"beta", &t.beta, dbeta}});
}

// 200 rows span several fixed reduction chunks (64 rows each): the chunked dgamma/dbeta sums.
TEST(GradcheckLayerNorm, ManyRowsAcrossReductionChunks) {
  LayerNormCase t;
  t.N = 200; t.C = 7;
  t.x = random_vector<double>(static_cast<size_t>(t.N) * t.C, 41);
  t.residual = random_vector<double>(t.x.size(), 42);
  t.gamma = random_vector<double>(static_cast<size_t>(t.C), 43);
  t.beta = random_vector<double>(static_cast<size_t>(t.C), 44);
  t.dout = random_vector<double>(t.x.size(), 45);
  t.loss(true);
  auto din = poisoned_vector<double>(t.x.size());
  std::vector<double> dgamma(t.gamma.size(), 0.0), dbeta(t.beta.size(), 0.0);
  t.backward(true, din.data(), false, dgamma.data(), dbeta.data());
  expect_gradients_match([&] { return t.loss(true); }, {{"gamma", &t.gamma, dgamma}, {"beta", &t.beta, dbeta}});
}

TEST(GradcheckLayerNorm, GradientsAccumulateWhereTheContractSays) {
  LayerNormCase t;
  t.loss(true);
  auto din = poisoned_vector<double>(t.x.size());
  std::vector<double> dgamma(t.gamma.size(), 0.0), dbeta(t.beta.size(), 0.0);
  t.backward(true, din.data(), false, dgamma.data(), dbeta.data());
  const auto din0 = random_vector<double>(t.x.size(), 51);
  const auto dgamma0 = random_vector<double>(t.gamma.size(), 52);
  const auto dbeta0 = random_vector<double>(t.beta.size(), 53);
  auto din2 = din0, dgamma2 = dgamma0, dbeta2 = dbeta0;
  t.backward(true, din2.data(), true, dgamma2.data(), dbeta2.data());
  expect_accumulated("din", din2, din0, din);
  expect_accumulated("dgamma", dgamma2, dgamma0, dgamma);
  expect_accumulated("dbeta", dbeta2, dbeta0, dbeta);
}

TEST(GradcheckLayerNorm, NullGradientsAreSkipped) {
  LayerNormCase t;
  t.loss(true);
  auto din = poisoned_vector<double>(t.x.size());
  std::vector<double> dgamma(t.gamma.size(), 0.0), dbeta(t.beta.size(), 0.0);
  t.backward(true, din.data(), false, dgamma.data(), dbeta.data());
  auto din1 = poisoned_vector<double>(t.x.size());
  t.backward(true, din1.data(), false, nullptr, nullptr);
  EXPECT_EQ(din1, din);
  std::vector<double> dgamma1(t.gamma.size(), 0.0), dbeta1(t.beta.size(), 0.0);
  t.backward(true, nullptr, false, dgamma1.data(), nullptr);
  t.backward(true, nullptr, false, nullptr, dbeta1.data());
  EXPECT_EQ(dgamma1, dgamma);
  EXPECT_EQ(dbeta1, dbeta);
}

}  // namespace
}  // namespace ft::test
