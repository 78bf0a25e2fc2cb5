// The CUDA linear launchers (cuda/linear.cu, the bias gradient through cuda/column_sums.cu) run on
// the CPU by the emulator, against the CPU backend's linear on the same inputs
// (tests/support/emulated.h for the method and tolerances; cases: tests/cases/linear.h). cuBLASLt
// is replaced by a reference column-major GEMM that also checks the leading dimensions
// (tests/support/emulated_libraries.h), so this checks the GEMM argument mapping.
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/column_sums.cu"
#include "cuda/linear.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/linear.h"
#include "tests/support/emulated.h"
#include "tests/support/emulated_libraries.h"

namespace ft::test {
namespace {

using cases::HostBuffers;
using cases::LinearCase;

template <class T>
void forward_case(const LinearCase& c) {
  const std::string what = c.forward_name() + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  HostBuffers got = run_both_orders(what, {"y"}, [&] {
    Emu e;
    HostBuffers b(1, rounding);
    cuda::linear_forward(cases::linear_forward_args<T>(c, b), e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  cpu::linear_forward(cases::linear_forward_args<float>(c, want));
  expect_close(what + " y", got.read("y"), want.read("y"), emulated_tolerance<T>());
}

template <class T>
void backward_case(const LinearCase& c) {
  const std::string what = c.backward_name() + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  const std::vector<std::string> outputs = cases::linear_backward_outputs(c);
  HostBuffers got = run_both_orders(what, outputs, [&] {
    Emu e;
    HostBuffers b(1, rounding);
    cuda::linear_backward(cases::linear_backward_args<T>(c, b), e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  cpu::linear_backward(cases::linear_backward_args<float>(c, want));
  for (const std::string& name : outputs)
    expect_close(what + " " + name, got.read(name), want.read(name), emulated_tolerance<T>());
}

TEST(EmulatedLinear, Forward) {
  for (const LinearCase& c : cases::linear_emulated_shapes()) forward_case<float>(c);
  for (const LinearCase& c : cases::linear_emulated_bf16_shapes()) forward_case<bf16>(c);
}

TEST(EmulatedLinear, Backward) {
  for (const LinearCase& c : cases::linear_emulated_shapes()) backward_case<float>(c);
  for (const LinearCase& c : cases::linear_emulated_bf16_shapes()) backward_case<bf16>(c);
}

}  // namespace
}  // namespace ft::test

#else
TEST(EmulatedLinear, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
