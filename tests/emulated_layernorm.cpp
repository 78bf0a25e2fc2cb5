// The CUDA layernorm kernels (cuda/layernorm.cu) run on the CPU by the emulator, against the CPU
// backend's layernorm on the same inputs (tests/support/emulated.h for the method and tolerances;
// cases: tests/cases/layernorm.h).
#define FT_CUDA_EMULATE 1
#include "cuda/column_sums.cu"
#include "cuda/layernorm.cu"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/layernorm.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::HostBuffers;
using cases::LayerNormCase;

// offset: elements by which every device pointer is moved off its 16-byte alignment.
template <class T>
void forward_case(const LayerNormCase& c, int offset) {
  std::vector<std::string> outputs = {"out", "mean", "rstd"};
  if (c.residual) outputs.push_back("sum");
  expect_emulated_matches_cpu<T>(
      {.what = c.forward_name(), .outputs = outputs, .offset = offset,
       .tolerances = {{"mean", 1e-5}, {"rstd", 1e-5}, {"sum", 0.0}}},
      [&](HostBuffers& b, const cuda::Context& ctx) {
        cuda::layernorm_forward(cases::layernorm_forward_args<T>(c, b), ctx);
      },
      // The reference normalises the sum the device stores: x + residual rounded to T.
      [&](HostBuffers& b) {
        LayerNormForwardArgs<float> a = cases::layernorm_forward_args<float>(c, b);
        if (c.residual) {
          std::vector<double> sum = b.values("x");
          for (size_t i = 0; i < sum.size(); ++i) sum[i] = round_to<T>(sum[i] + b.values("residual")[i]);
          a.x = b.put<float>("x + residual", sum);
          a.residual = nullptr;
          a.sum = nullptr;
          std::vector<float>& expected_sum = b.host<float>("sum");
          for (size_t i = 0; i < sum.size(); ++i) expected_sum[i] = static_cast<float>(sum[i]);
        }
        cpu::layernorm_forward(a);
      });
}

template <class T>
void backward_case(const LayerNormCase& c) {
  std::vector<std::string> outputs;
  if (c.din) outputs.push_back("din");
  if (c.params) outputs.insert(outputs.end(), {"dgamma", "dbeta"});
  expect_emulated_matches_cpu<T>(
      {.what = c.backward_name(), .outputs = outputs},
      [&](HostBuffers& b, const cuda::Context& ctx) {
        cuda::layernorm_backward(cases::layernorm_backward_args<T>(c, b), ctx);
      },
      [&](HostBuffers& b) { cpu::layernorm_backward(cases::layernorm_backward_args<float>(c, b)); });
}

TEST(EmulatedLayerNorm, Forward) {
  for (LayerNormCase c : cases::layernorm_emulated_shapes()) {
    c.residual = false;
    forward_case<float>(c, 0);
    c.residual = true;
    forward_case<float>(c, 0);
    forward_case<bf16>(c, 0);
  }
  forward_case<float>({.N = 9, .C = 256}, 1);
  forward_case<bf16>({.N = 9, .C = 256, .residual = false}, 3);
}

TEST(EmulatedLayerNorm, Backward) {
  for (const LayerNormCase& c : cases::layernorm_emulated_shapes()) {
    backward_case<float>(c);
    backward_case<bf16>(c);
  }
  backward_case<float>({.N = 21, .C = 96, .accumulate = true});
  backward_case<float>({.N = 21, .C = 96, .din = false});
  backward_case<float>({.N = 21, .C = 96, .params = false});
  backward_case<float>({.N = 4500, .C = 24});  // more rows than one stride of the grid
}

}  // namespace
}  // namespace ft::test
