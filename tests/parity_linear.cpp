// linear forward and backward (cuBLASLt with the bias epilogue, our deterministic bias gradient):
// the CUDA backend against the CPU backend (tests/support/parity.h for the method and the
// tolerances; fp32 GEMMs run without TF32, so the fp32 bound holds: K <= 1152 products per output).
// Cases: tests/cases/linear.h, plus misaligned pointers, dx accumulation and null gradient pointers.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/linear.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::BackendBuffers;
using cases::LinearCase;
using test::Outputs;

// offset: elements by which every pointer is moved off its 16-byte alignment (0 or 1).
template <class DevReal>
void check_forward(const LinearCase& c, int offset, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>(), offset);
    be.linear_forward(cases::linear_forward_args<R>(c, b));
    return Outputs{test::real_output(b, "y")};
  };
  test::expect_parity<DevReal>(c.forward_name() + (offset ? " misaligned" : ""), run);
}

template <class DevReal>
void check_backward(const LinearCase& c, int offset, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>(), offset);
    be.linear_backward(cases::linear_backward_args<R>(c, b));
    Outputs o;
    for (const std::string& name : cases::linear_backward_outputs(c)) o.push_back(test::real_output(b, name));
    return o;
  };
  test::expect_parity<DevReal>(c.backward_name() + (offset ? " misaligned" : ""), run);
}

template <class DevReal>
void forward_cases() {
  uint64_t seed = 1000;
  for (LinearCase c : cases::linear_parity_shapes(test::quick_mode()))
    for (bool bias : {true, false}) {
      c.bias = bias;
      check_forward<DevReal>(c, 0, seed += 10);
    }
  check_forward<DevReal>({.N = 19, .in = 64, .out = 40}, 1, seed += 10);
}

template <class DevReal>
void backward_cases() {
  uint64_t seed = 2000;
  for (const LinearCase& c : cases::linear_parity_shapes(test::quick_mode())) check_backward<DevReal>(c, 0, seed += 10);
  check_backward<DevReal>({.N = 37, .in = 96, .out = 80, .dx_accumulate = true}, 0, seed += 10);
  check_backward<DevReal>({.N = 37, .in = 96, .out = 80, .dx = false}, 0, seed += 10);
  check_backward<DevReal>({.N = 37, .in = 96, .out = 80, .dw = false, .db = false}, 0, seed += 10);
  check_backward<DevReal>({.N = 37, .in = 96, .out = 80, .dx = false, .dw = false}, 0, seed += 10);
  check_backward<DevReal>({.N = 19, .in = 64, .out = 40, .dx_accumulate = true}, 1, seed += 10);
}

TEST(ParityLinear, ForwardFp32) {
  FT_REQUIRE_DEVICE(float);
  forward_cases<float>();
}
TEST(ParityLinear, ForwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  forward_cases<bf16>();
}
TEST(ParityLinear, BackwardFp32) {
  FT_REQUIRE_DEVICE(float);
  backward_cases<float>();
}
TEST(ParityLinear, BackwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  backward_cases<bf16>();
}

// The bias gradient over many rows (several chunks of the two-stage reduction): same bits twice.
TEST(ParityLinear, BackwardDeterministic) {
  FT_REQUIRE_DEVICE(float);
  const LinearCase c{.N = test::quick_mode() ? 600 : 4096, .in = 256, .out = 384};
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, 1, cases::Rounding::Fp32);
    be.linear_backward(cases::linear_backward_args<R>(c, b));
    return Outputs{test::real_output(b, "dx"), test::real_output(b, "dw"), test::real_output(b, "db")};
  };
  test::expect_deterministic<float>(c.backward_name(), run);
}

}  // namespace
}  // namespace ft
