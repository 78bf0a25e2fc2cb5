// The CUDA GELU kernels (cuda/gelu.cu) run on the CPU by the emulator, against the CPU backend's
// GELU on the same inputs (tests/support/emulated.h for the method and tolerances; cases:
// tests/cases/gelu.h).
#define FT_CUDA_EMULATE 1
#include "cuda/gelu.cu"

#include <gtest/gtest.h>

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
  expect_emulated_matches_cpu<T>(
      {.what = c.forward_name(), .outputs = {c.y()}, .offset = offset},
      [&](HostBuffers& b, const cuda::Context& ctx) { cuda::gelu_forward(cases::gelu_forward_args<T>(c, b), ctx); },
      [&](HostBuffers& b) { cpu::gelu_forward(cases::gelu_forward_args<float>(c, b)); });
}

template <class T>
void backward_case(const GeluCase& c, int offset) {
  expect_emulated_matches_cpu<T>(
      {.what = c.backward_name(), .outputs = {c.dx()}, .offset = offset},
      [&](HostBuffers& b, const cuda::Context& ctx) { cuda::gelu_backward(cases::gelu_backward_args<T>(c, b), ctx); },
      [&](HostBuffers& b) { cpu::gelu_backward(cases::gelu_backward_args<float>(c, b)); });
}

TEST(EmulatedGelu, Forward) {
  const std::vector<GeluCase> all = cases::gelu_emulated_cases();
  for_each_case(all, all, []<class T>(const GeluCase& c) { forward_case<T>(c, 0); });
  forward_case<float>({.n = 1001}, 1);
  forward_case<bf16>({.n = 1001}, 3);
}

TEST(EmulatedGelu, Backward) {
  const std::vector<GeluCase> all = cases::gelu_emulated_cases();
  for_each_case(all, all, []<class T>(const GeluCase& c) { backward_case<T>(c, 0); });
  backward_case<float>({.n = 1001}, 1);
  backward_case<bf16>({.n = 1001}, 3);
}

}  // namespace
}  // namespace ft::test
