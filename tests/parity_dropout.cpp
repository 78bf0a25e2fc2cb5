// dropout forward and backward (the same in-place function): the CUDA backend against the CPU
// backend (tests/support/parity.h). The mask is a pure function of (seed, stream, step, index), so
// the kept set must match exactly; kept values are x / (1 - p) rounded once (exact up to one
// rounding of the product on every backend). Cases (tests/cases/dropout.h) hit the packed path, its
// tail, and the scalar path of a misaligned array; p = 0 must leave x alone.
#include <string>

#include "core/ops.h"
#include "tests/cases/dropout.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::BackendBuffers;
using cases::DropoutCase;
using test::Outputs;

// offset: elements by which the pointer is moved off its 16-byte alignment (0 or 1).
template <class DevReal>
void check(const DropoutCase& c, bool backward, int offset, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>(), offset);
    if (backward) {
      be.dropout_backward(cases::dropout_backward_args<R>(c, b));
      return Outputs{{"dx", b.read("dy"), test::Stored::Real}};  // dx overwrote dy in place
    }
    be.dropout_forward(cases::dropout_forward_args<R>(c, b));
    return Outputs{test::real_output(b, "x")};
  };
  test::expect_parity<DevReal>((backward ? c.backward_name() : c.forward_name()) + (offset ? " misaligned" : ""), run);
}

template <class DevReal>
void all_cases() {
  uint64_t seed = 4000;
  for (const DropoutCase& c : cases::dropout_parity_cases(test::quick_mode())) check<DevReal>(c, false, 0, ++seed);
  check<DevReal>({.n = 4099, .p = 0.1f}, true, 0, ++seed);
  check<DevReal>({.n = 4099, .p = 0.3f}, false, 1, ++seed);
  check<DevReal>({.n = 4099, .p = 0.0f}, false, 0, ++seed);
}

TEST(ParityDropout, Fp32) {
  FT_REQUIRE_DEVICE(float);
  all_cases<float>();
}
TEST(ParityDropout, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  all_cases<bf16>();
}

}  // namespace
}  // namespace ft
