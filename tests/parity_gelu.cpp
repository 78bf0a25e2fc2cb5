// GELU (exact erf) forward and backward: the CUDA backend against the CPU backend
// (tests/support/parity.h for the method and the tolerances; each element is one erf and one exp,
// accurate to a few fp32 ulps on both sides). Sizes hit the 128-bit path, its scalar tail, the
// scalar path of misaligned arrays, and in-place use.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

std::vector<int64_t> sizes() {
  if (test::quick_mode()) return {1, 13, 4099};
  return {1, 3, 4, 7, 8, 9, 1000, 4099, (1 << 20) + 3};
}

template <class DevReal>
void check(int64_t n, bool in_place, int offset, uint64_t seed) {
  const auto x = test::round_to<DevReal>(test::random_values(static_cast<size_t>(n), seed, -5.0, 5.0));
  const auto dy = test::round_to<DevReal>(test::random_values(static_cast<size_t>(n), seed + 1));
  auto pad = [&](const std::vector<double>& v) {
    std::vector<double> p(offset, 0.5);
    p.insert(p.end(), v.begin(), v.end());
    return p;
  };
  auto forward = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    GeluForwardArgs<R> a;
    a.n = n;
    R* xp = d.template upload<R>(pad(x)) + offset;
    a.x = xp;
    a.y = in_place ? xp : d.template nan<R>(static_cast<size_t>(n) + offset) + offset;
    be.gelu_forward(a);
    return Outputs{d.real("y", a.y, static_cast<size_t>(n))};
  };
  auto backward = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    GeluBackwardArgs<R> a;
    a.n = n;
    a.x = d.template upload<R>(pad(x)) + offset;
    R* dyp = d.template upload<R>(pad(dy)) + offset;
    a.dy = dyp;
    a.dx = in_place ? dyp : d.template nan<R>(static_cast<size_t>(n) + offset) + offset;
    be.gelu_backward(a);
    return Outputs{d.real("dx", a.dx, static_cast<size_t>(n))};
  };
  const std::string tag =
      " n=" + std::to_string(n) + (in_place ? " in-place" : "") + (offset ? " misaligned" : "");
  test::expect_parity<DevReal>("gelu_forward" + tag, forward);
  test::expect_parity<DevReal>("gelu_backward" + tag, backward);
}

template <class DevReal>
void cases() {
  uint64_t seed = 3000;
  for (int64_t n : sizes()) check<DevReal>(n, false, 0, seed += 10);
  check<DevReal>(4099, true, 0, seed += 10);
  check<DevReal>(4099, false, 1, seed += 10);
}

TEST(ParityGelu, Fp32) {
  FT_REQUIRE_DEVICE(float);
  cases<float>();
}
TEST(ParityGelu, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  cases<bf16>();
}

}  // namespace
}  // namespace ft
