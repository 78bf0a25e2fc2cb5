// The CUDA linear launchers (cuda/linear.cu, the bias gradient through cuda/column_sums.cu) run on
// the CPU by the emulator, against the CPU backend's linear on the same inputs
// (tests/support/emulated.h for the method and tolerances; cases: tests/cases/linear.h). cuBLASLt
// is replaced by a reference column-major GEMM that also checks the leading dimensions
// (tests/support/emulated_libraries.h), so this checks the GEMM argument mapping.
#define FT_CUDA_EMULATE 1
#include "cuda/column_sums.cu"
#include "cuda/linear.cu"
#include "tests/support/emulated_libraries.h"

#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/linear.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::HostBuffers;
using cases::LinearCase;

template <class T>
void forward_case(const LinearCase& c) {
  expect_emulated_matches_cpu<T>(
      {.what = c.forward_name(), .outputs = {"y"}},
      [&](HostBuffers& b, const cuda::Context& ctx) { cuda::linear_forward(cases::linear_forward_args<T>(c, b), ctx); },
      [&](HostBuffers& b) { cpu::linear_forward(cases::linear_forward_args<float>(c, b)); });
}

template <class T>
void backward_case(const LinearCase& c) {
  expect_emulated_matches_cpu<T>(
      {.what = c.backward_name(), .outputs = cases::linear_backward_outputs(c)},
      [&](HostBuffers& b, const cuda::Context& ctx) { cuda::linear_backward(cases::linear_backward_args<T>(c, b), ctx); },
      [&](HostBuffers& b) { cpu::linear_backward(cases::linear_backward_args<float>(c, b)); });
}

TEST(EmulatedLinear, Forward) {
  for_each_case(cases::linear_emulated_shapes(), cases::linear_emulated_bf16_shapes(),
                []<class T>(const LinearCase& c) { forward_case<T>(c); });
}

TEST(EmulatedLinear, Backward) {
  for_each_case(cases::linear_emulated_shapes(), cases::linear_emulated_bf16_shapes(),
                []<class T>(const LinearCase& c) { backward_case<T>(c); });
}

}  // namespace
}  // namespace ft::test
