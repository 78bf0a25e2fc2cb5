// Gradient check of exact GELU in double, including in-place use (y aliasing x, dx aliasing dy).
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

// Inputs in [-3, 3]: both tails of erf and the curved middle.
constexpr int64_t kN = 37;

double gelu_loss(const std::vector<double>& x, const std::vector<double>& w) {
  auto y = poisoned_vector<double>(x.size());
  GeluForwardArgs<double> a;
  a.n = kN; a.x = x.data(); a.y = y.data();
  cpu::gelu_forward(a);
  return weighted_sum(w, y.data(), y.size());
}

TEST(GradcheckGelu, Input) {
  auto x = random_vector<double>(kN, 61, 3.0);
  const auto w = random_vector<double>(kN, 62);
  auto dx = poisoned_vector<double>(kN);
  GeluBackwardArgs<double> b;
  b.n = kN; b.x = x.data(); b.dy = w.data(); b.dx = dx.data();
  cpu::gelu_backward(b);
  expect_gradients_match([&] { return gelu_loss(x, w); }, {{"x", &x, dx}});
}

TEST(GradcheckGelu, InPlaceMatchesOutOfPlace) {
  const auto x = random_vector<double>(kN, 63, 3.0);
  const auto dy = random_vector<double>(kN, 64);
  auto y = poisoned_vector<double>(kN);
  GeluForwardArgs<double> f;
  f.n = kN; f.x = x.data(); f.y = y.data();
  cpu::gelu_forward(f);
  auto inplace = x;
  f.x = inplace.data(); f.y = inplace.data();
  cpu::gelu_forward(f);
  EXPECT_EQ(inplace, y);
  auto dx = poisoned_vector<double>(kN);
  GeluBackwardArgs<double> b;
  b.n = kN; b.x = x.data(); b.dy = dy.data(); b.dx = dx.data();
  cpu::gelu_backward(b);
  auto dinplace = dy;
  b.dy = dinplace.data(); b.dx = dinplace.data();
  cpu::gelu_backward(b);
  EXPECT_EQ(dinplace, dx);
}

}  // namespace
}  // namespace ft::test
