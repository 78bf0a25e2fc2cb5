// dropout forward and backward (the same in-place function): the CUDA backend against the CPU
// backend (tests/support/parity.h). The mask is a pure function of (seed, stream, step, index), so
// the kept set must match exactly; kept values are x / (1 - p) rounded once (exact up to one
// rounding of the product on every backend). Sizes hit the packed path, its tail, and the scalar
// path of a misaligned array; p = 0 must leave x alone.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

std::vector<int64_t> sizes() {
  if (test::quick_mode()) return {5, 4099};
  return {1, 2, 5, 8, 13, 1000, 4099, (1 << 20) + 7};
}

template <class DevReal>
void check(int64_t n, float p, bool backward, int offset, uint64_t seed) {
  const auto x = test::round_to<DevReal>(test::random_values(static_cast<size_t>(n), seed));
  const DropoutSpec spec{p, seed * 31 + 5, dropout_stream(3, DropoutSite::FfnOutput), static_cast<uint32_t>(seed % 97)};
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    std::vector<double> padded(offset, 0.5);
    padded.insert(padded.end(), x.begin(), x.end());
    DropoutArgs<R> a;
    a.n = n;
    a.dropout = spec;
    a.x = d.template upload<R>(padded) + offset;
    if (backward) be.dropout_backward(a);
    else be.dropout_forward(a);
    return Outputs{d.real("x", a.x, static_cast<size_t>(n))};
  };
  const std::string what = std::string(backward ? "dropout_backward" : "dropout_forward") + " n=" + std::to_string(n) +
                           " p=" + std::to_string(p).substr(0, 4) + (offset ? " misaligned" : "");
  test::expect_parity<DevReal>(what, run);
}

template <class DevReal>
void cases() {
  uint64_t seed = 4000;
  for (int64_t n : sizes())
    for (float p : {0.1f, 0.5f}) check<DevReal>(n, p, false, 0, ++seed);
  check<DevReal>(4099, 0.1f, true, 0, ++seed);
  check<DevReal>(4099, 0.3f, false, 1, ++seed);
  check<DevReal>(4099, 0.0f, false, 0, ++seed);
}

TEST(ParityDropout, Fp32) {
  FT_REQUIRE_DEVICE(float);
  cases<float>();
}
TEST(ParityDropout, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  cases<bf16>();
}

}  // namespace
}  // namespace ft
