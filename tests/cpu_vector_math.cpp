// The vectorisable float exp and erf of core/cpu/vector_math.h against libm in double, over every
// float in the ranges the ops use (sampled densely).
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "core/cpu/vector_math.h"

namespace ft::test {
namespace {

// ulp of the float nearest to v.
double float_ulp(double v) {
  const float f = static_cast<float>(v);
  return static_cast<double>(std::nextafter(std::fabs(f), INFINITY) - std::fabs(f));
}

// Cephes expf is documented at ~1 ulp (rounded polynomial plus one rounding of the scale
// multiply); 2 ulp is the bound, far below any structural error (a wrong reduction is off by
// orders of magnitude).
TEST(CpuVectorMath, ExpWithinTwoUlp) {
  double worst = 0.0;
  for (double x = -87.0; x <= 88.0; x += 1.0 / 1024.0 + 1e-7) {
    const float xf = static_cast<float>(x);
    const double exact = std::exp(static_cast<double>(xf));
    worst = std::max(worst, std::fabs(cpu::exp_f32(xf) - exact) / float_ulp(exact));
  }
  std::cout << "exp_f32: worst " << worst << " ulp\n";
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(cpu::exp_f32(0.0f), 1.0f);
  EXPECT_EQ(cpu::exp_f32(-100.0f), 0.0f);
  EXPECT_EQ(cpu::exp_f32(-1e30f), 0.0f);
  EXPECT_TRUE(std::isinf(cpu::exp_f32(100.0f)));
  EXPECT_TRUE(std::isnan(cpu::exp_f32(NAN)));
}

// The fits are ~2.5 ulp below 0.921875 and ~1 ulp above (docs/ops.md); 3 ulp relative and 1.5e-7
// absolute bound them (torch's own vectorised erf is off by up to 1.5e-7).
TEST(CpuVectorMath, ErfWithinThreeUlpAndTorchsAbsoluteError) {
  double worst_ulp = 0.0, worst_abs = 0.0;
  for (double x = -6.0; x <= 6.0; x += 1.0 / 4096.0 + 1e-8) {
    const float xf = static_cast<float>(x);
    if (xf == 0.0f) continue;
    const double exact = std::erf(static_cast<double>(xf));
    const double err = std::fabs(cpu::erf_f32(xf) - exact);
    worst_ulp = std::max(worst_ulp, err / float_ulp(exact));
    worst_abs = std::max(worst_abs, err);
  }
  std::cout << "erf_f32: worst " << worst_ulp << " ulp, " << worst_abs << " absolute\n";
  EXPECT_LE(worst_ulp, 3.0);
  EXPECT_LE(worst_abs, 1.5e-7);
  EXPECT_EQ(cpu::erf_f32(0.0f), 0.0f);
  EXPECT_EQ(cpu::erf_f32(10.0f), 1.0f);
  EXPECT_EQ(cpu::erf_f32(-10.0f), -1.0f);
  // tiny arguments: erf(x) ~ 2x / sqrt(pi)
  EXPECT_NEAR(cpu::erf_f32(1e-20f), 1.1283791670955126e-20, 3e-27);
}

}  // namespace
}  // namespace ft::test
