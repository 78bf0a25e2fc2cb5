// The CUDA grad_norm_squared kernels (cuda/grad_norm.cu) run on the CPU by the emulator, against the
// CPU backend's grad_norm_squared on the same gradients (tests/support/emulated.h for the method;
// cases: tests/cases/grad_norm.h). Both sum squares in fp64: only the order of additions differs
// (relative ~1e-16), so the tolerance is 1e-12.
#define FT_CUDA_EMULATE 1
#include "cuda/grad_norm.cu"

#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/grad_norm.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::GradNormCase;
using cases::HostBuffers;

// The result is a host double: kept as a one-element buffer so that both orders can be compared.
template <class T>
void norm_case(const GradNormCase& c) {
  expect_emulated_matches_cpu<T>(
      {.what = c.name(), .outputs = {"sum of squares"}, .tolerances = {{"sum of squares", 1e-12}}},
      [&](HostBuffers& b, const cuda::Context& ctx) {
        const cases::GradNormArgs<T> a = cases::grad_norm_args<T>(c, b);
        b.put<double>("sum of squares", {cuda::grad_norm_squared(a.grads, a.n, ctx)});
      },
      [&](HostBuffers& b) {
        const cases::GradNormArgs<float> a = cases::grad_norm_args<float>(c, b);
        b.put<double>("sum of squares", {cpu::grad_norm_squared(a.grads, a.n)});
      });
}

TEST(EmulatedGradNorm, SumOfSquares) {
  for (const GradNormCase& c : cases::grad_norm_emulated_shapes()) {
    norm_case<float>(c);
    norm_case<bf16>(c);
  }
}

}  // namespace
}  // namespace ft::test
