// The CUDA embedding kernels (cuda/embedding.cu, with the LayerNorm row kernels of
// cuda/layernorm.cu and CUB's sort replaced by tests/support/emulated_libraries.h) run on the CPU by
// the emulator, against the CPU backend's embedding on the same inputs: the gather, the sorted
// scatter of the table gradients, the dropout masks, and the report of an id outside the vocabulary
// (tests/support/emulated.h for the method and tolerances; cases: tests/cases/embedding.h).
#define FT_CUDA_EMULATE 1
#include "cuda/embedding.cu"
#include "cuda/layernorm.cu"
#include "tests/support/emulated_libraries.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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
  expect_emulated_matches_cpu<T>(
      {.what = c.name("embedding"),
       .outputs = {"out", "mean", "rstd", "dword", "dpos", "dtype", "dgamma", "dbeta"},
       .seed = seed,
       .tolerances = {{"mean", 1e-5}, {"rstd", 1e-5}}},
      [&](HostBuffers& b, const cuda::Context& ctx) {
        const EmbeddingForwardArgs<T> f = cases::embedding_forward_args<T>(c, b);
        cuda::embedding_forward(f, ctx);
        cuda::embedding_backward(cases::embedding_backward_args<T>(c, b, f), ctx);
      },
      [&](HostBuffers& b) {
        const EmbeddingForwardArgs<float> f = cases::embedding_forward_args<float>(c, b);
        cpu::embedding_forward(f);
        cpu::embedding_backward(cases::embedding_backward_args<float>(c, b, f));
      });
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
