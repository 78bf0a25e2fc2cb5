// Gradient check of linear (y = x W^T + b) in double, plus its accumulate flags and null skips.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

struct LinearCase {
  int N = 7, in = 5, out = 6;  // odd sizes, in != out
  std::vector<double> x = random_vector<double>(static_cast<size_t>(N) * in, 11);  // (N, in)
  std::vector<double> w = random_vector<double>(static_cast<size_t>(out) * in, 12);  // (out, in)
  std::vector<double> b = random_vector<double>(static_cast<size_t>(out), 13);  // (out)
  std::vector<double> dy = random_vector<double>(static_cast<size_t>(N) * out, 14);  // (N, out) = loss weights

  double loss(bool bias) {
    auto y = poisoned_vector<double>(static_cast<size_t>(N) * out);  // (N, out)
    LinearForwardArgs<double> a;
    a.N = N; a.in = in; a.out = out;
    a.x = x.data(); a.w = w.data(); a.b = bias ? b.data() : nullptr; a.y = y.data();
    cpu::linear_forward(a);
    return weighted_sum(dy, y.data(), y.size());
  }

  // Runs the backward with dout = dy into the given buffers (any may be null).
  void backward(double* dx, bool dx_accumulate, double* dw, double* db) {
    LinearBackwardArgs<double> a;
    a.N = N; a.in = in; a.out = out;
    a.x = x.data(); a.w = w.data(); a.dy = dy.data();
    a.dx = dx; a.dx_accumulate = dx_accumulate; a.dw = dw; a.db = db;
    cpu::linear_backward(a);
  }
};

TEST(GradcheckLinear, AllInputsAndParameters) {
  LinearCase t;
  auto dx = poisoned_vector<double>(t.x.size());
  std::vector<double> dw(t.w.size(), 0.0), db(t.b.size(), 0.0);
  t.backward(dx.data(), false, dw.data(), db.data());
  expect_gradients_match([&] { return t.loss(true); },
                         {{"x", &t.x, dx}, {"w", &t.w, dw}, {"b", &t.b, db}});
}

TEST(GradcheckLinear, WithoutBias) {
  LinearCase t;
  auto dx = poisoned_vector<double>(t.x.size());
  std::vector<double> dw(t.w.size(), 0.0);
  t.backward(dx.data(), false, dw.data(), nullptr);
  expect_gradients_match([&] { return t.loss(false); }, {{"x", &t.x, dx}, {"w", &t.w, dw}});
}

TEST(GradcheckLinear, GradientsAccumulateWhereTheContractSays) {
  LinearCase t;
  auto dx = poisoned_vector<double>(t.x.size());
  std::vector<double> dw(t.w.size(), 0.0), db(t.b.size(), 0.0);
  t.backward(dx.data(), false, dw.data(), db.data());
  // Parameter gradients always accumulate; dx accumulates only with dx_accumulate.
  const auto dx0 = random_vector<double>(t.x.size(), 21);
  const auto dw0 = random_vector<double>(t.w.size(), 22);
  const auto db0 = random_vector<double>(t.b.size(), 23);
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
  LinearCase t;
  auto dx = poisoned_vector<double>(t.x.size());
  std::vector<double> dw(t.w.size(), 0.0), db(t.b.size(), 0.0);
  t.backward(dx.data(), false, dw.data(), db.data());
  auto dx1 = poisoned_vector<double>(t.x.size());
  t.backward(dx1.data(), false, nullptr, nullptr);
  EXPECT_EQ(dx1, dx);
  std::vector<double> dw1(t.w.size(), 0.0), db1(t.b.size(), 0.0);
  t.backward(nullptr, false, dw1.data(), nullptr);
  EXPECT_EQ(dw1, dw);
  t.backward(nullptr, false, nullptr, db1.data());
  EXPECT_EQ(db1, db);
}

}  // namespace
}  // namespace ft::test
