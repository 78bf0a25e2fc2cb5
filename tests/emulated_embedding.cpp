// The CUDA embedding kernels (cuda/embedding.cu, with the LayerNorm row kernels of
// cuda/layernorm.cu and CUB's sort replaced by tests/support/emulated_libraries.h) run on the CPU by
// the emulator, against the CPU backend's embedding on the same inputs: the gather, the sorted
// scatter of the table gradients, the dropout masks, and the report of an id outside the vocabulary
// (tests/support/emulated.h for the method and tolerances; cases: tests/cases/embedding.h).
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/embedding.cu"
#include "cuda/layernorm.cu"
#include "tests/support/emulated_libraries.h"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/embedding.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::EmbeddingCase;
using cases::HostBuffers;

// Forward, then the backward on the statistics it saved, as training chains them.
template <class T>
void embedding_case(const EmbeddingCase& c, uint64_t seed) {
  const std::string what = c.name("embedding") + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  const std::vector<std::string> outputs = {"out", "mean", "rstd", "dword", "dpos", "dtype", "dgamma", "dbeta"};
  HostBuffers got = run_both_orders(what, outputs, [&] {
    Emu e;
    HostBuffers b(seed, rounding);
    const EmbeddingForwardArgs<T> f = cases::embedding_forward_args<T>(c, b);
    cuda::embedding_forward(f, e.ctx);
    cuda::embedding_backward(cases::embedding_backward_args<T>(c, b, f), e.ctx);
    return b;
  });
  HostBuffers want(seed, rounding);
  const EmbeddingForwardArgs<float> f = cases::embedding_forward_args<float>(c, want);
  cpu::embedding_forward(f);
  cpu::embedding_backward(cases::embedding_backward_args<float>(c, want, f));
  for (const std::string& name : outputs) {
    const bool stat = name == "mean" || name == "rstd";
    expect_close(what + " " + name, got.read(name), want.read(name), stat ? 1e-5 : emulated_tolerance<T>());
  }
}

TEST(EmulatedEmbedding, ForwardAndBackward) {
  const std::vector<EmbeddingCase> shapes = cases::embedding_emulated_shapes();
  uint64_t seed = 0;
  for (const EmbeddingCase& c : shapes) embedding_case<float>(c, seed += 10);
  embedding_case<bf16>(shapes[2], seed += 10);
  embedding_case<bf16>({3, 70, 40, 40, 80, 2, true, 0.1f, 0.6}, seed += 10);  // bf16, C % 8 == 0
}

TEST(EmulatedEmbedding, BadIdIsReported) {
  // vocab 6: id 9 at (batch 1, position 1)
  const EmbeddingCase c{.B = 2, .T = 3, .C = 8, .vocab = 6, .max_positions = 6, .type_vocab = 1, .type_ids = false,
                        .ids = {1, 2, 3, 4, 9, 5}};
  Emu e;
  HostBuffers b;
  const EmbeddingForwardArgs<float> f = cases::embedding_forward_args<float>(c, b);
  // Zero rather than NaN, so that the NaN of the bad row is the kernel's.
  std::vector<float>& out = b.host<float>("out");
  std::fill(out.begin(), out.end(), 0.0f);
  cuda::embedding_forward(f, e.ctx);
  EXPECT_EQ(e.status.code, cuda::kFaultTokenId);
  EXPECT_EQ(e.status.batch, 1);
  EXPECT_EQ(e.status.position, 1);
  EXPECT_EQ(e.status.value, 9);
  EXPECT_EQ(e.status.limit, 6);
  EXPECT_TRUE(std::isnan(out[4 * c.C])) << "the bad row is poisoned";
  EXPECT_FALSE(std::isnan(out[3 * c.C])) << "good rows are normalised";
}

}  // namespace
}  // namespace ft::test

#else
TEST(EmulatedEmbedding, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
