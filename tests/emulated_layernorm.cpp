// The CUDA layernorm kernels (cuda/layernorm.cu) run on the CPU by the emulator, against the CPU
// backend's layernorm on the same inputs (tests/support/emulated.h for the method and tolerances;
// cases: tests/cases/layernorm.h).
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/column_sums.cu"
#include "cuda/layernorm.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/layernorm.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::HostBuffers;
using cases::LayerNormCase;

template <class T>
void forward_case(const LayerNormCase& c, int offset) {
  const std::string what = c.forward_name() + (offset ? " misaligned " : " ") + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  std::vector<std::string> outputs = {"out", "mean", "rstd"};
  if (c.residual) outputs.push_back("sum");
  HostBuffers got = run_both_orders(what, outputs, [&] {
    Emu e;
    HostBuffers b(1, rounding, offset);
    cuda::layernorm_forward(cases::layernorm_forward_args<T>(c, b), e.ctx);
    return b;
  });
  // CPU reference in fp32 on the (rounded) sum the device normalises.
  HostBuffers want(1, rounding);
  LayerNormForwardArgs<float> a = cases::layernorm_forward_args<float>(c, want);
  std::vector<double> sum = want.values("x");
  if (c.residual)
    for (size_t i = 0; i < sum.size(); ++i) sum[i] = round_to<T>(sum[i] + want.values("residual")[i]);
  a.x = want.put<float>("x + residual", sum);
  a.residual = nullptr;
  a.sum = nullptr;
  cpu::layernorm_forward(a);
  expect_close(what + " out", got.read("out"), want.read("out"), emulated_tolerance<T>());
  expect_close(what + " mean", got.read("mean"), want.read("mean"), 1e-5);
  expect_close(what + " rstd", got.read("rstd"), want.read("rstd"), 1e-5);
  if (c.residual) expect_close(what + " sum", got.read("sum"), sum, 0.0);
}

template <class T>
void backward_case(const LayerNormCase& c) {
  const std::string what = c.backward_name() + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  std::vector<std::string> outputs;
  if (c.din) outputs.push_back("din");
  if (c.params) outputs.insert(outputs.end(), {"dgamma", "dbeta"});
  HostBuffers got = run_both_orders(what, outputs, [&] {
    Emu e;
    HostBuffers b(1, rounding);
    cuda::layernorm_backward(cases::layernorm_backward_args<T>(c, b), e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  cpu::layernorm_backward(cases::layernorm_backward_args<float>(c, want));
  for (const std::string& name : outputs)
    expect_close(what + " " + name, got.read(name), want.read(name), emulated_tolerance<T>());
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

#else
TEST(EmulatedLayerNorm, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
