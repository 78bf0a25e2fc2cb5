// Gradient check of dropout in double: for a fixed spec the mask is fixed, so the op is linear in
// x and its backward must apply the same mask and scale.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

constexpr int64_t kN = 37;  // not a multiple of 4 (Philox blocks); cpu_dropout covers many task blocks

DropoutSpec spec() {
  DropoutSpec d;
  d.p = 0.3f; d.seed = 1234; d.stream = dropout_stream(2, DropoutSite::FfnOutput); d.step = 7;
  return d;
}

double dropout_loss(const std::vector<double>& x, const std::vector<double>& w) {
  auto y = x;
  DropoutArgs<double> a;
  a.n = kN; a.dropout = spec(); a.x = y.data();
  cpu::dropout_forward(a);
  return weighted_sum(w, y.data(), y.size());
}

TEST(GradcheckDropout, Input) {
  auto x = random_vector<double>(kN, 71);
  const auto w = random_vector<double>(kN, 72);
  auto dx = w;
  DropoutArgs<double> b;
  b.n = kN; b.dropout = spec(); b.x = dx.data();
  cpu::dropout_backward(b);
  expect_gradients_match([&] { return dropout_loss(x, w); }, {{"x", &x, dx}});
}

}  // namespace
}  // namespace ft::test
