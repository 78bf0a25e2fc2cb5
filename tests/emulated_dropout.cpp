// The CUDA dropout kernel (cuda/dropout.cu) run on the CPU by the emulator, against the CPU
// backend's dropout on the same inputs and mask spec (tests/support/emulated.h for the method and
// tolerances; cases: tests/cases/dropout.h).
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/dropout.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <string>

#include "core/cpu/ops.h"
#include "tests/cases/dropout.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::DropoutCase;
using cases::HostBuffers;

// offset: elements by which the pointer is moved off its 16-byte alignment.
template <class T>
void forward_case(const DropoutCase& c, int offset) {
  const std::string what = c.forward_name() + (offset ? " misaligned " : " ") + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  HostBuffers got = run_both_orders(what, {"x"}, [&] {
    Emu e;
    HostBuffers b(1, rounding, offset);
    cuda::dropout_forward(cases::dropout_forward_args<T>(c, b), e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  cpu::dropout_forward(cases::dropout_forward_args<float>(c, want));
  expect_close(what, got.read("x"), want.read("x"), emulated_tolerance<T>());
}

TEST(EmulatedDropout, Forward) {
  for (const DropoutCase& c : cases::dropout_emulated_cases()) {
    forward_case<float>(c, 0);
    forward_case<bf16>(c, 0);
  }
  forward_case<float>({.n = 1001, .p = 0.3f}, 1);
  forward_case<bf16>({.n = 1001, .p = 0.3f}, 3);
}

}  // namespace
}  // namespace ft::test

#else
TEST(EmulatedDropout, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
