// Gradient check of linear (y = x W^T + b) in double, plus its accumulate flags and null skips.
// Cases: tests/cases/linear.h.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/linear.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

using cases::LinearCase;

// The forward and the backward chained; loss = sum(dy * y).
struct Chained : ChainedOp<LinearForwardArgs<double>, LinearBackwardArgs<double>> {
  LinearCase c;
  explicit Chained(LinearCase lc)
      : ChainedOp(11, cpu::linear_forward, &LinearForwardArgs<double>::y, "dy", lc.ny()), c(lc) {
    set(cases::linear_forward_args<double>(c, inputs), cases::linear_backward_args<double>(c, backward_inputs),
        cases::chain_linear_backward<double>);
  }
  // Runs the backward with dout = dy into the given buffers (any may be null).
  void backward(double* dx, bool dx_accumulate, double* dw, double* db) {
    LinearBackwardArgs<double> a = bwd;
    a.dx = dx;
    a.dx_accumulate = dx_accumulate;
    a.dw = dw;
    a.db = db;
    cpu::linear_backward(a);
  }
};

TEST(GradcheckLinear, AllInputsAndParameters) {
  const LinearCase c = cases::linear_gradcheck_cases()[0];
  Chained t(c);
  auto dx = poisoned_vector<double>(c.nx());
  std::vector<double> dw(c.nw(), 0.0), db(c.out, 0.0);
  t.backward(dx.data(), false, dw.data(), db.data());
  expect_gradients_match([&] { return t.loss(); },
                         {{"x", &t.input("x"), dx}, {"w", &t.input("w"), dw}, {"b", &t.input("b"), db}});
}

TEST(GradcheckLinear, WithoutBias) {
  LinearCase c = cases::linear_gradcheck_cases()[0];
  c.bias = false;
  Chained t(c);
  auto dx = poisoned_vector<double>(c.nx());
  std::vector<double> dw(c.nw(), 0.0);
  t.backward(dx.data(), false, dw.data(), nullptr);
  expect_gradients_match([&] { return t.loss(); }, {{"x", &t.input("x"), dx}, {"w", &t.input("w"), dw}});
}

TEST(GradcheckLinear, GradientsAccumulateWhereTheContractSays) {
  const LinearCase c = cases::linear_gradcheck_cases()[0];
  Chained t(c);
  auto dx = poisoned_vector<double>(c.nx());
  std::vector<double> dw(c.nw(), 0.0), db(c.out, 0.0);
  t.backward(dx.data(), false, dw.data(), db.data());
  // Parameter gradients always accumulate; dx accumulates only with dx_accumulate.
  const auto dx0 = random_vector<double>(c.nx(), 21);
  const auto dw0 = random_vector<double>(c.nw(), 22);
  const auto db0 = random_vector<double>(c.out, 23);
  auto dx2 = dx0, dw2 = dw0, db2 = db0;
  t.backward(dx2.data(), true, dw2.data(), db2.data());
  expect_accumulated("dx", dx2, dx0, dx);
  expect_accumulated("dw", dw2, dw0, dw);
  expect_accumulated("db", db2, db0, db);
  auto dx3 = dx0;
  t.backward(dx3.data(), false, nullptr, nullptr);
  EXPECT_EQ(dx3, dx) << "dx must be overwritten without dx_accumulate";
}

TEST(GradcheckLinear, NullGradientsAreSkipped) {
  const LinearCase c = cases::linear_gradcheck_cases()[0];
  Chained t(c);
  auto dx = poisoned_vector<double>(c.nx());
  std::vector<double> dw(c.nw(), 0.0), db(c.out, 0.0);
  t.backward(dx.data(), false, dw.data(), db.data());
  auto dx1 = poisoned_vector<double>(c.nx());
  t.backward(dx1.data(), false, nullptr, nullptr);
  EXPECT_EQ(dx1, dx);
  std::vector<double> dw1(c.nw(), 0.0), db1(c.out, 0.0);
  t.backward(nullptr, false, dw1.data(), nullptr);
  EXPECT_EQ(dw1, dw);
  t.backward(nullptr, false, nullptr, db1.data());
  EXPECT_EQ(db1, db);
}

}  // namespace
}  // namespace ft::test
