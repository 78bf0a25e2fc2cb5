// The CUDA grad_norm_squared kernels (cuda/grad_norm.cu) run on the CPU by the emulator, against the
// CPU backend's grad_norm_squared on the same gradients (tests/support/emulated.h for the method;
// cases: tests/cases/grad_norm.h). Both sum squares in fp64: only the order of additions differs
// (relative ~1e-16), so the tolerance is 1e-12.
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/grad_norm.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/grad_norm.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::GradNormCase;
using cases::HostBuffers;

template <class T>
void norm_case(const GradNormCase& c) {
  const std::string what = c.name() + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  // The result is a host double: kept as a one-element buffer so that both orders can be compared.
  HostBuffers got = run_both_orders(what, {"sum of squares"}, [&] {
    Emu e;
    HostBuffers b(1, rounding);
    const cases::GradNormArgs<T> a = cases::grad_norm_args<T>(c, b);
    b.put<double>("sum of squares", {cuda::grad_norm_squared(a.grads, a.n, e.ctx)});
    return b;
  });
  HostBuffers want(1, rounding);
  const cases::GradNormArgs<float> a = cases::grad_norm_args<float>(c, want);
  const std::vector<double> sum = {cpu::grad_norm_squared(a.grads, a.n)};
  expect_close(what, got.read("sum of squares"), sum, 1e-12);
}

TEST(EmulatedGradNorm, SumOfSquares) {
  for (const GradNormCase& c : cases::grad_norm_emulated_shapes()) {
    norm_case<float>(c);
    norm_case<bf16>(c);
  }
}

}  // namespace
}  // namespace ft::test

#else
TEST(EmulatedGradNorm, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
