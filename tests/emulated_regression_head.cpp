// The CUDA regression head kernels (cuda/regression_head.cu) run on the CPU by the emulator, against
// the CPU backend's regression head on the same inputs (tests/support/emulated.h for the method and
// tolerances; cases: tests/cases/regression_head.h).
#define FT_CUDA_EMULATE 1
#include "cuda/regression_head.cu"

#include <gtest/gtest.h>

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
  expect_emulated_matches_cpu<T>(
      {.what = c.name(),
       .outputs = {"pred", "loss", "dpooled", "dw", "db"},
       .tolerances = {{"pred", 1e-5}, {"loss", 1e-5}}},  // fp32 in every precision
      [&](HostBuffers& b, const cuda::Context& ctx) {
        const RegressionHeadForwardArgs<T> f = cases::regression_head_forward_args<T>(c, b);
        cuda::regression_head_forward(f, ctx);
        cuda::regression_head_backward(cases::regression_head_backward_args<T>(c, b, f), ctx);
      },
      [&](HostBuffers& b) {
        const RegressionHeadForwardArgs<float> f = cases::regression_head_forward_args<float>(c, b);
        cpu::regression_head_forward(f);
        cpu::regression_head_backward(cases::regression_head_backward_args<float>(c, b, f));
      });
}

TEST(EmulatedRegressionHead, ForwardAndBackward) {
  const std::vector<RegressionHeadCase> shapes = cases::regression_head_emulated_shapes();
  for (const RegressionHeadCase& c : shapes) head_case<float>(c);
  head_case<bf16>(shapes[1]);
}

}  // namespace
}  // namespace ft::test
