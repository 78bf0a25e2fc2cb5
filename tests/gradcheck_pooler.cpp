// Gradient check of the pooler (tanh(hidden[:, 0] W^T + b)) in double: every element of hidden
// (rows t > 0 must get exactly zero), W and b; plus the accumulate and null rules.
// Cases: tests/cases/pooler.h.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/pooler.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

using cases::PoolerCase;

// The forward and the backward chained (the backward reads the forward's pooled);
// loss = sum(dpooled * pooled).
struct Chained : ChainedOp<PoolerForwardArgs<double>, PoolerBackwardArgs<double>> {
  PoolerCase c;
  explicit Chained(PoolerCase pc)
      : ChainedOp(111, cpu::pooler_forward, &PoolerForwardArgs<double>::pooled, "dpooled", pc.np()), c(pc) {
    set(cases::pooler_forward_args<double>(c, inputs), cases::pooler_backward_args<double>(c, backward_inputs),
        cases::chain_pooler_backward<double>);
  }
  // Backward from the state of the last forward into the given buffers (any may be null).
  void backward(double* dhidden, double* dw, double* db) {
    PoolerBackwardArgs<double> a = bwd;
    a.dhidden = dhidden;
    a.dw = dw;
    a.db = db;
    cpu::pooler_backward(a);
  }
};

TEST(GradcheckPooler, AllInputsAndParameters) {
  const PoolerCase c = cases::pooler_gradcheck_cases()[0];
  Chained t(c);
  t.loss();
  auto dhidden = poisoned_vector<double>(c.nh());
  std::vector<double> dw(c.nw(), 0.0), db(c.C, 0.0);
  t.backward(dhidden.data(), dw.data(), db.data());
  expect_gradients_match([&] { return t.loss(); },
                         {{"hidden", &t.input("hidden"), dhidden}, {"w", &t.input("w"), dw}, {"b", &t.input("b"), db}});
  for (int bb = 0; bb < c.B; ++bb)
    for (int tt = 1; tt < c.T; ++tt)
      for (int k = 0; k < c.C; ++k)
        EXPECT_EQ(dhidden[(static_cast<size_t>(bb) * c.T + tt) * c.C + k], 0.0) << "row (" << bb << ", " << tt << ")";
}

TEST(GradcheckPooler, ParameterGradientsAccumulateAndNullsSkip) {
  const PoolerCase c = cases::pooler_gradcheck_cases()[0];
  Chained t(c);
  t.loss();
  auto dhidden = poisoned_vector<double>(c.nh());
  std::vector<double> dw(c.nw(), 0.0), db(c.C, 0.0);
  t.backward(dhidden.data(), dw.data(), db.data());
  const auto dw0 = random_vector<double>(c.nw(), 121), db0 = random_vector<double>(c.C, 122);
  auto dw2 = dw0, db2 = db0;
  t.backward(nullptr, dw2.data(), db2.data());
  expect_accumulated("dw", dw2, dw0, dw);
  expect_accumulated("db", db2, db0, db);
  auto dhidden2 = poisoned_vector<double>(c.nh());
  t.backward(dhidden2.data(), nullptr, nullptr);
  EXPECT_EQ(dhidden2, dhidden);
}

}  // namespace
}  // namespace ft::test
