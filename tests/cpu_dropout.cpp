// Dropout on the CPU: the mask is exactly core/philox.h's dropout_keep of each element index, kept
// elements are scaled by exactly Real(1) / (Real(1) - Real(p)), backward applies the same mask,
// and the mask changes with seed, stream and step.
#include <gtest/gtest.h>

#include <cmath>

#include "core/cpu/ops.h"
#include "core/philox.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

DropoutSpec spec(float p, uint64_t seed = 42, uint32_t stream = 3, uint32_t step = 9) {
  DropoutSpec d;
  d.p = p; d.seed = seed; d.stream = stream; d.step = step;
  return d;
}

template <class Real>
void expect_mask_is_philox(float p, int64_t n) {
  const DropoutSpec d = spec(p);
  const auto x0 = random_vector<Real>(static_cast<size_t>(n), 201);
  auto x = x0;
  DropoutArgs<Real> a;
  a.n = n; a.dropout = d; a.x = x.data();
  cpu::dropout_forward(a);
  const Real scale = Real(1) / (Real(1) - Real(p));
  int64_t kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = dropout_keep(d.seed, d.stream, d.step, static_cast<uint64_t>(i), d.p);
    kept += keep;
    ASSERT_EQ(x[i], keep ? x0[i] * scale : Real(0)) << "element " << i;
  }
  // The kept count is Binomial(n, 1 - p); 6 standard deviations is a bound no correct mask exceeds
  // in practice (probability ~2e-9), while a mask with the wrong p is off by far more at this n.
  const double mean = n * (1.0 - p), sd = std::sqrt(n * p * (1.0 - p));
  EXPECT_NEAR(static_cast<double>(kept), mean, 6.0 * sd);
}

TEST(CpuDropout, MaskIsPhiloxAndScaleIsExactFloat) { expect_mask_is_philox<float>(0.1f, 100003); }
TEST(CpuDropout, MaskIsPhiloxAndScaleIsExactDouble) { expect_mask_is_philox<double>(0.37f, 50001); }

TEST(CpuDropout, BackwardAppliesTheForwardMask) {
  const int64_t n = 9999;
  const auto x0 = random_vector<float>(static_cast<size_t>(n), 202);
  auto fwd = x0, bwd = x0;
  DropoutArgs<float> a;
  a.n = n; a.dropout = spec(0.5f);
  a.x = fwd.data();
  cpu::dropout_forward(a);
  a.x = bwd.data();
  cpu::dropout_backward(a);
  EXPECT_EQ(fwd, bwd);
}

TEST(CpuDropout, InactiveIsIdentity) {
  const auto x0 = random_vector<float>(1000, 203);
  auto x = x0;
  DropoutArgs<float> a;
  a.n = 1000; a.dropout = spec(0.0f); a.x = x.data();
  cpu::dropout_forward(a);
  EXPECT_EQ(x, x0);
}

TEST(CpuDropout, MaskDependsOnSeedStreamAndStep) {
  const int64_t n = 4096;
  auto run = [&](DropoutSpec d) {
    std::vector<float> x(static_cast<size_t>(n), 1.0f);
    DropoutArgs<float> a;
    a.n = n; a.dropout = d; a.x = x.data();
    cpu::dropout_forward(a);
    return x;
  };
  const auto base = run(spec(0.5f));
  EXPECT_EQ(run(spec(0.5f)), base);
  EXPECT_NE(run(spec(0.5f, 43)), base);
  EXPECT_NE(run(spec(0.5f, 42, 4)), base);
  EXPECT_NE(run(spec(0.5f, 42, 3, 10)), base);
}

// The CUDA attention kernels test the raw Philox word against an integer threshold made on the
// host; that must be exactly uniform24(word) >= p, for every 24-bit draw and every rate, edges
// included (a rate that is a multiple of 2^-24, the smallest and the largest below 1).
TEST(CpuDropout, IntegerThresholdIsExactlyTheFloatTest) {
  for (const float p : {0.1f, 0.5f, 0.25f, 0.3333333f, 1e-7f, 0x1p-24f, 3 * 0x1p-24f, std::nextafter(1.0f, 0.0f), 0.0f}) {
    const uint32_t threshold = dropout_keep_threshold(p);
    int64_t mismatches = 0;
    for (uint32_t u = 0; u < (1u << 24); ++u) {
      for (const uint32_t low : {0u, 255u}) {  // the 8 bits uniform24 drops must not matter
        const uint32_t word = (u << 8) | low;
        mismatches += (uniform24(word) >= p) != (word >= threshold);
      }
    }
    EXPECT_EQ(mismatches, 0) << "p = " << p;
  }
}

}  // namespace
}  // namespace ft::test
