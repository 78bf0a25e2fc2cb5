// The CUDA GELU kernels (cuda/gelu.cu) run on the CPU by the emulator, against the CPU backend's
// GELU on the same inputs (tests/support/emulated.h for the method and tolerances; cases:
// tests/cases/gelu.h).
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/gelu.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <string>

#include "core/cpu/ops.h"
#include "tests/cases/gelu.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::GeluCase;
using cases::HostBuffers;

// offset: elements by which every pointer is moved off its 16-byte alignment.
template <class T>
void forward_case(const GeluCase& c, int offset) {
  const std::string what = c.forward_name() + (offset ? " misaligned " : " ") + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  HostBuffers got = run_both_orders(what, {c.y()}, [&] {
    Emu e;
    HostBuffers b(1, rounding, offset);
    cuda::gelu_forward(cases::gelu_forward_args<T>(c, b), e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  cpu::gelu_forward(cases::gelu_forward_args<float>(c, want));
  expect_close(what, got.read(c.y()), want.read(c.y()), emulated_tolerance<T>());
}

template <class T>
void backward_case(const GeluCase& c, int offset) {
  const std::string what = c.backward_name() + (offset ? " misaligned " : " ") + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  HostBuffers got = run_both_orders(what, {c.dx()}, [&] {
    Emu e;
    HostBuffers b(1, rounding, offset);
    cuda::gelu_backward(cases::gelu_backward_args<T>(c, b), e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  cpu::gelu_backward(cases::gelu_backward_args<float>(c, want));
  expect_close(what, got.read(c.dx()), want.read(c.dx()), emulated_tolerance<T>());
}

TEST(EmulatedGelu, Forward) {
  for (const GeluCase& c : cases::gelu_emulated_cases()) {
    forward_case<float>(c, 0);
    forward_case<bf16>(c, 0);
  }
  forward_case<float>({.n = 1001}, 1);
  forward_case<bf16>({.n = 1001}, 3);
}

TEST(EmulatedGelu, Backward) {
  for (const GeluCase& c : cases::gelu_emulated_cases()) {
    backward_case<float>(c, 0);
    backward_case<bf16>(c, 0);
  }
  backward_case<float>({.n = 1001}, 1);
  backward_case<bf16>({.n = 1001}, 3);
}

}  // namespace
}  // namespace ft::test

#else
TEST(EmulatedGelu, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
