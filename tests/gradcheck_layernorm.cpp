// Gradient check of layernorm (with and without the residual add) in double, plus its accumulate
// flag and null skips. Cases: tests/cases/layernorm.h.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/layernorm.h"
#include "tests/support/gradcheck.h"

namespace ft::test {
namespace {

using cases::LayerNormCase;

// The forward and the backward chained; loss = sum(dout * out).
struct Chained : ChainedOp<LayerNormForwardArgs<double>, LayerNormBackwardArgs<double>> {
  LayerNormCase c;
  explicit Chained(LayerNormCase lc)
      : ChainedOp(31, cpu::layernorm_forward, &LayerNormForwardArgs<double>::out, "dout", lc.n()), c(lc) {
    set(cases::layernorm_forward_args<double>(c, inputs), cases::layernorm_backward_args<double>(c, backward_inputs),
        cases::chain_layernorm_backward<double>);
  }
  // The backward's outputs after one call with the current flags, from fresh starting values.
  void backward(double* din, bool accumulate, double* dgamma, double* dbeta) {
    LayerNormBackwardArgs<double> a = bwd;
    a.din = din;
    a.din_accumulate = accumulate;
    a.dgamma = dgamma;
    a.dbeta = dbeta;
    cpu::layernorm_backward(a);
  }
  // din, dgamma and dbeta of one backward (din written, the parameter gradients from zero).
  struct Gradients {
    std::vector<double> din, dgamma, dbeta;
  };
  Gradients gradients() {
    Gradients g{poisoned_vector<double>(c.n()), std::vector<double>(c.C, 0.0), std::vector<double>(c.C, 0.0)};
    backward(g.din.data(), false, g.dgamma.data(), g.dbeta.data());
    return g;
  }
};

void check_all_gradients(LayerNormCase c) {
  Chained t(c);
  t.loss();
  if (c.residual) {
    for (size_t i = 0; i < c.n(); ++i)
      ASSERT_EQ(t.fwd.sum[i], t.fwd.x[i] + t.fwd.residual[i]) << c.forward_name() << ": sum[" << i << "]";
  }
  const auto [din, dgamma, dbeta] = t.gradients();
  std::vector<Checked> checked = {{"x", &t.input("x"), din}, {"gamma", &t.input("gamma"), dgamma},
                                  {"beta", &t.input("beta"), dbeta}};
  // The sum's gradient is the gradient of both x and the residual.
  if (c.residual) checked.push_back({"residual", &t.input("residual"), din});
  expect_gradients_match([&] { return t.loss(); }, checked);
}

TEST(GradcheckLayerNorm, WithoutResidual) {
  LayerNormCase c = cases::layernorm_gradcheck_cases()[0];
  c.residual = false;
  check_all_gradients(c);
}

TEST(GradcheckLayerNorm, WithResidual) { check_all_gradients(cases::layernorm_gradcheck_cases()[0]); }

// Many rows across the fixed reduction chunks of the dgamma/dbeta sums.
TEST(GradcheckLayerNorm, ManyRowsAcrossReductionChunks) { check_all_gradients(cases::layernorm_gradcheck_cases()[1]); }

TEST(GradcheckLayerNorm, GradientsAccumulateWhereTheContractSays) {
  const LayerNormCase c = cases::layernorm_gradcheck_cases()[0];
  Chained t(c);
  t.loss();
  const auto [din, dgamma, dbeta] = t.gradients();
  const auto din0 = random_vector<double>(c.n(), 51);
  const auto dgamma0 = random_vector<double>(c.C, 52);
  const auto dbeta0 = random_vector<double>(c.C, 53);
  auto din2 = din0, dgamma2 = dgamma0, dbeta2 = dbeta0;
  t.backward(din2.data(), true, dgamma2.data(), dbeta2.data());
  expect_accumulated("din", din2, din0, din);
  expect_accumulated("dgamma", dgamma2, dgamma0, dgamma);
  expect_accumulated("dbeta", dbeta2, dbeta0, dbeta);
}

TEST(GradcheckLayerNorm, NullGradientsAreSkipped) {
  const LayerNormCase c = cases::layernorm_gradcheck_cases()[0];
  Chained t(c);
  t.loss();
  const auto [din, dgamma, dbeta] = t.gradients();
  auto din1 = poisoned_vector<double>(c.n());
  t.backward(din1.data(), false, nullptr, nullptr);
  EXPECT_EQ(din1, din);
  std::vector<double> dgamma1(c.C, 0.0), dbeta1(c.C, 0.0);
  t.backward(nullptr, false, dgamma1.data(), nullptr);
  t.backward(nullptr, false, nullptr, dbeta1.data());
  EXPECT_EQ(dgamma1, dgamma);
  EXPECT_EQ(dbeta1, dbeta);
}

}  // namespace
}  // namespace ft::test
