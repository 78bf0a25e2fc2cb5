// The CUDA pooler launchers (cuda/pooler.cu, the bias gradient through cuda/column_sums.cu) run on
// the CPU by the emulator, against the CPU backend's pooler on the same inputs
// (tests/support/emulated.h for the method and tolerances; cases: tests/cases/pooler.h). cuBLASLt
// is replaced by a reference GEMM that checks the leading dimensions (tests/support/emulated_libraries.h).
#define FT_CUDA_EMULATE 1
#include "cuda/column_sums.cu"
#include "cuda/pooler.cu"
#include "tests/support/emulated_libraries.h"

#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/pooler.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::HostBuffers;
using cases::PoolerCase;

template <class T>
void forward_case(const PoolerCase& c) {
  expect_emulated_matches_cpu<T>(
      {.what = c.forward_name(), .outputs = {"pooled"}},
      [&](HostBuffers& b, const cuda::Context& ctx) { cuda::pooler_forward(cases::pooler_forward_args<T>(c, b), ctx); },
      [&](HostBuffers& b) { cpu::pooler_forward(cases::pooler_forward_args<float>(c, b)); });
}

// The backward of a forward that just ran on each side (its pooled feeds tanh'), as the model
// chains them; the forward's buffers are its own (their names are the backward's too).
template <class T, class Forward, class Backward>
void chained_backward(const PoolerCase& c, HostBuffers& bwd, Forward&& forward, Backward&& backward) {
  HostBuffers fwd(bwd.seed(), bwd.rounding());
  const PoolerForwardArgs<T> f = cases::pooler_forward_args<T>(c, fwd);
  forward(f);
  PoolerBackwardArgs<T> a = cases::pooler_backward_args<T>(c, bwd);
  cases::chain_pooler_backward(a, f);
  backward(a);
}

template <class T>
void backward_case(const PoolerCase& c) {
  expect_emulated_matches_cpu<T>(
      {.what = c.backward_name(), .outputs = cases::pooler_backward_outputs(c)},
      [&](HostBuffers& b, const cuda::Context& ctx) {
        chained_backward<T>(
            c, b, [&](const auto& f) { cuda::pooler_forward(f, ctx); }, [&](const auto& a) { cuda::pooler_backward(a, ctx); });
      },
      [&](HostBuffers& b) {
        chained_backward<float>(
            c, b, [](const auto& f) { cpu::pooler_forward(f); }, [](const auto& a) { cpu::pooler_backward(a); });
      });
}

TEST(EmulatedPooler, Forward) {
  for_each_case(cases::pooler_emulated_shapes(), cases::pooler_emulated_bf16_shapes(),
                []<class T>(const PoolerCase& c) { forward_case<T>(c); });
}

TEST(EmulatedPooler, Backward) {
  for_each_case(cases::pooler_emulated_shapes(), cases::pooler_emulated_bf16_shapes(),
                []<class T>(const PoolerCase& c) { backward_case<T>(c); });
}

}  // namespace
}  // namespace ft::test
