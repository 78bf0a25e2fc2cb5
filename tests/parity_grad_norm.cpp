// grad_norm_squared: the CUDA backend against the CPU backend (tests/support/parity.h). Both sum
// squares in fp64, so the only difference is the order of additions (relative ~1e-16): the fp32
// bound is loose here. Also: two runs give the same bits (the two-stage reduction is fixed). Cases:
// tests/cases/grad_norm.h.
#include <string>
#include <vector>

#include "tests/cases/grad_norm.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::BackendBuffers;
using cases::GradNormCase;
using test::Outputs;

template <class DevReal>
void check(const GradNormCase& c, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
    const cases::GradNormArgs<R> a = cases::grad_norm_args<R>(c, b);
    return Outputs{{"sum of squares", {be.grad_norm_squared(a.grads, a.n)}, test::Stored::Fp32}};
  };
  test::expect_parity<DevReal>(c.name(), run);
  test::expect_deterministic<DevReal>(c.name(), run);
}

template <class DevReal>
void all_cases() {
  uint64_t seed = 7000;
  for (const GradNormCase& c : cases::grad_norm_parity_shapes(test::quick_mode())) check<DevReal>(c, ++seed);
  check<DevReal>({.n = 4099, .offset = 1}, ++seed);
}

TEST(ParityGradNorm, Fp32) {
  FT_REQUIRE_DEVICE(float);
  all_cases<float>();
}
TEST(ParityGradNorm, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  all_cases<bf16>();
}

}  // namespace
}  // namespace ft
