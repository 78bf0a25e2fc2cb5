// grad_norm_squared: the CUDA backend against the CPU backend (tests/support/parity.h). Both sum
// squares in fp64, so the only difference is the order of additions (relative ~1e-16): the fp32
// bound is loose here. Also: two runs give the same bits (the two-stage reduction is fixed).
#include <string>
#include <vector>

#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

std::vector<int64_t> sizes() {
  if (test::quick_mode()) return {1, 5000};
  return {1, 3, 8, 1000, 4099, (1 << 20) + 5, 30'000'001};
}

template <class DevReal>
void check(int64_t n, int offset, uint64_t seed) {
  const auto g = test::round_to<DevReal>(test::random_values(static_cast<size_t>(n), seed, -0.01, 0.01));
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    std::vector<double> padded(offset, 3.0);
    padded.insert(padded.end(), g.begin(), g.end());
    const R* p = d.template upload<R>(padded) + offset;
    return Outputs{{"sum of squares", {be.grad_norm_squared(p, n)}, test::Stored::Fp32}};
  };
  const std::string what = "grad_norm_squared n=" + std::to_string(n) + (offset ? " misaligned" : "");
  test::expect_parity<DevReal>(what, run);
  test::expect_deterministic<DevReal>(what, run);
}

template <class DevReal>
void cases() {
  uint64_t seed = 7000;
  for (int64_t n : sizes()) check<DevReal>(n, 0, ++seed);
  check<DevReal>(4099, 1, ++seed);
}

TEST(ParityGradNorm, Fp32) {
  FT_REQUIRE_DEVICE(float);
  cases<float>();
}
TEST(ParityGradNorm, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  cases<bf16>();
}

}  // namespace
}  // namespace ft
