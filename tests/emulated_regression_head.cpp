// The CUDA regression head kernels (cuda/regression_head.cu) run on the CPU by the emulator, against
// the CPU backend's regression head on the same inputs (tests/support/emulated.h for the method and
// tolerances; cases: tests/cases/regression_head.h).
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/regression_head.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/regression_head.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::HostBuffers;
using cases::RegressionHeadCase;

template <class T>
void head_case(const RegressionHeadCase& c) {
  const std::string what = c.name() + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  const std::vector<std::string> outputs = {"pred", "loss", "dpooled", "dw", "db"};
  HostBuffers got = run_both_orders(what, outputs, [&] {
    Emu e;
    HostBuffers b(1, rounding);
    const RegressionHeadForwardArgs<T> f = cases::regression_head_forward_args<T>(c, b);
    cuda::regression_head_forward(f, e.ctx);
    cuda::regression_head_backward(cases::regression_head_backward_args<T>(c, b, f), e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  const RegressionHeadForwardArgs<float> f = cases::regression_head_forward_args<float>(c, want);
  cpu::regression_head_forward(f);
  cpu::regression_head_backward(cases::regression_head_backward_args<float>(c, want, f));
  // Predictions and the loss are fp32 in every precision.
  for (const std::string& name : outputs)
    expect_close(what + " " + name, got.read(name), want.read(name),
                 name == "pred" || name == "loss" ? 1e-5 : emulated_tolerance<T>());
}

TEST(EmulatedRegressionHead, ForwardAndBackward) {
  const std::vector<RegressionHeadCase> shapes = cases::regression_head_emulated_shapes();
  for (const RegressionHeadCase& c : shapes) head_case<float>(c);
  head_case<bf16>(shapes[1]);
}

}  // namespace
}  // namespace ft::test

#else
TEST(EmulatedRegressionHead, NeedsTheCudaHeaders) {
  GTEST_SKIP() << "the CUDA headers are not available in this build";
}
#endif
