// The CUDA pooler launchers (cuda/pooler.cu, the bias gradient through cuda/column_sums.cu) run on
// the CPU by the emulator, against the CPU backend's pooler on the same inputs
// (tests/support/emulated.h for the method and tolerances; cases: tests/cases/pooler.h). cuBLASLt
// is replaced by a reference column-major GEMM that also checks the leading dimensions
// (tests/support/emulated_libraries.h), so this checks the GEMM argument mapping over the [CLS]
// rows read in place.
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/column_sums.cu"
#include "cuda/pooler.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/pooler.h"
#include "tests/support/emulated.h"
#include "tests/support/emulated_libraries.h"

namespace ft::test {
namespace {

using cases::HostBuffers;
using cases::PoolerCase;

template <class T>
void forward_case(const PoolerCase& c) {
  const std::string what = c.forward_name() + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  HostBuffers got = run_both_orders(what, {"pooled"}, [&] {
    Emu e;
    HostBuffers b(1, rounding);
    cuda::pooler_forward(cases::pooler_forward_args<T>(c, b), e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  cpu::pooler_forward(cases::pooler_forward_args<float>(c, want));
  expect_close(what + " pooled", got.read("pooled"), want.read("pooled"), emulated_tolerance<T>());
}

// The backward of the forward that just ran on each side (its pooled feeds tanh'), as the model
// chains them: the forward's buffers live in `fwd`, the backward's are returned.
template <class T, class Forward, class Backward>
HostBuffers chained_backward(const PoolerCase& c, cases::Rounding rounding, Forward&& forward, Backward&& backward) {
  HostBuffers fwd(1, rounding), bwd(1, rounding);
  const PoolerForwardArgs<T> f = cases::pooler_forward_args<T>(c, fwd);
  forward(f);
  PoolerBackwardArgs<T> a = cases::pooler_backward_args<T>(c, bwd);
  cases::chain_pooler_backward(a, f);
  backward(a);
  return bwd;  // its outputs are its own buffers: fwd may go
}

template <class T>
void backward_case(const PoolerCase& c) {
  const std::string what = c.backward_name() + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  const std::vector<std::string> outputs = cases::pooler_backward_outputs(c);
  HostBuffers got = run_both_orders(what, outputs, [&] {
    Emu e;
    return chained_backward<T>(
        c, rounding, [&](const auto& f) { cuda::pooler_forward(f, e.ctx); },
        [&](const auto& a) { cuda::pooler_backward(a, e.ctx); });
  });
  HostBuffers want = chained_backward<float>(
      c, rounding, [](const auto& f) { cpu::pooler_forward(f); }, [](const auto& a) { cpu::pooler_backward(a); });
  for (const std::string& name : outputs)
    expect_close(what + " " + name, got.read(name), want.read(name), emulated_tolerance<T>());
}

TEST(EmulatedPooler, Forward) {
  for (const PoolerCase& c : cases::pooler_emulated_shapes()) forward_case<float>(c);
  for (const PoolerCase& c : cases::pooler_emulated_bf16_shapes()) forward_case<bf16>(c);
}

TEST(EmulatedPooler, Backward) {
  for (const PoolerCase& c : cases::pooler_emulated_shapes()) backward_case<float>(c);
  for (const PoolerCase& c : cases::pooler_emulated_bf16_shapes()) backward_case<bf16>(c);
}

}  // namespace
}  // namespace ft::test

#else
TEST(EmulatedPooler, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
