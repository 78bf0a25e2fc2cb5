// GELU (exact erf) forward and backward: the CUDA backend against the CPU backend
// (tests/support/parity.h for the method and the tolerances; each element is one erf and one exp,
// accurate to a few fp32 ulps on both sides). Cases (tests/cases/gelu.h) hit the 128-bit path, its
// scalar tail, the scalar path of misaligned arrays, and in-place use.
#include <string>

#include "core/ops.h"
#include "tests/cases/gelu.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::BackendBuffers;
using cases::GeluCase;
using test::Outputs;

// offset: elements by which every pointer is moved off its 16-byte alignment (0 or 1).
template <class DevReal>
void check(const GeluCase& c, int offset, uint64_t seed) {
  const auto rounding = cases::rounding_of<DevReal>();
  auto forward = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, rounding, offset);
    be.gelu_forward(cases::gelu_forward_args<R>(c, b));
    return Outputs{{"y", b.read(c.y()), test::Stored::Real}};
  };
  auto backward = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, rounding, offset);
    be.gelu_backward(cases::gelu_backward_args<R>(c, b));
    return Outputs{{"dx", b.read(c.dx()), test::Stored::Real}};
  };
  const std::string misaligned = offset ? " misaligned" : "";
  test::expect_parity<DevReal>(c.forward_name() + misaligned, forward);
  test::expect_parity<DevReal>(c.backward_name() + misaligned, backward);
}

template <class DevReal>
void all_cases() {
  uint64_t seed = 3000;
  for (const GeluCase& c : cases::gelu_parity_cases(test::quick_mode())) check<DevReal>(c, 0, seed += 10);
  check<DevReal>({.n = 4099, .in_place = true}, 0, seed += 10);
  check<DevReal>({.n = 4099}, 1, seed += 10);
}

TEST(ParityGelu, Fp32) {
  FT_REQUIRE_DEVICE(float);
  all_cases<float>();
}
TEST(ParityGelu, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  all_cases<bf16>();
}

}  // namespace
}  // namespace ft
