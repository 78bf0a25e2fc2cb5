// attention on the GPU: fused flash-style kernels, forward and backward, fp32 and bf16.
//
// Forward: one block of 4 warps per (64-query tile, head, sequence); the query tile stays in shared
// memory while key/value tiles of 64 rows stream through it (cp.async, double-buffered), only up to
// lengths[b] (padded key tiles are never read). Online softmax (running max and sum in fp32),
// dropout on the probabilities from the Philox stream (core/philox.h), out = P_dropped V normalised
// at the end; only the logsumexp is saved. bf16 uses mma.sync m16n8k16 with fp32 accumulation; fp32 uses FMA (no TF32).
// Backward (flash-attention-2, deterministic, no atomics): delta = rowsum(dout * out); one kernel
// per key tile accumulates dK and dV over all query tiles, one kernel per query tile accumulates dQ
// over the key tiles, each recomputing the probabilities from q, k and lse.
// The kernel bodies are in cuda/attention_kernels.cuh; docs/kernels.md ("attention") has the design
// notes, the napkin math and the resource usage.
#include <cmath>
#include <string>
#include <cstdint>
#include <type_traits>

#include "core/dtype.h"
#include "core/error.h"
#include "core/ops.h"
#include "cuda/attention_kernels.cuh"
#include "cuda/context.h"
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/shared_memory.h"

namespace ft::cuda {
namespace {

using attn::Params;

template <bool kBf16, int D>
__global__ void __launch_bounds__(attn::kThreads, 1) attention_forward_kernel(const Params p) {
  extern __shared__ __align__(16) unsigned char smem[];
  attn::forward_body<kBf16, D>(p, smem, threadIdx.x, blockIdx.x, blockIdx.y, blockIdx.z);
}

template <bool kBf16, int D>
__global__ void __launch_bounds__(attn::kThreads, 1) attention_delta_kernel(const Params p) {
  attn::delta_body<kBf16, D>(p, threadIdx.x, blockIdx.x);
}

template <bool kBf16, int D>
__global__ void __launch_bounds__(attn::kThreads, 1) attention_dq_kernel(const Params p) {
  extern __shared__ __align__(16) unsigned char smem[];
  attn::dq_body<kBf16, D>(p, smem, threadIdx.x, blockIdx.x, blockIdx.y, blockIdx.z);
}

template <bool kBf16, int D>
__global__ void __launch_bounds__(attn::kThreads, 1) attention_dkdv_kernel(const Params p) {
  extern __shared__ __align__(16) unsigned char smem[];
  attn::dkdv_body<kBf16, D>(p, smem, threadIdx.x, blockIdx.x, blockIdx.y, blockIdx.z);
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Launches a (tile, head, sequence) kernel with `smem` bytes of dynamic shared memory, opting in to
// more than the default 48 KiB where needed.
template <class Kernel>
void launch_tiles(Kernel kernel, const char* op, int tiles, const Params& p, int smem, const Context& ctx) {
  allow_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), static_cast<size_t>(smem), ctx,
                              (std::string(op) + ": the kernel for this head size").c_str());
  const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(p.H), static_cast<unsigned>(p.B));
  kernel<<<grid, attn::kThreads, smem, ctx.stream>>>(p);
  FT_CUDA_CHECK_LAUNCH();
}

// Checks what forward and backward share and fills the common part of Params.
template <class Real>
Params common_params(const char* op, int B, int T, int H, int D, const Real* qkv, const int32_t* lengths, float scale,
                     const DropoutSpec& dropout) {
  FT_CHECK(D == 32 || D == 64 || D == 128, op, ": head size D = ", D,
           " is not supported by the CUDA attention kernels (supported: 32, 64, 128)");
  FT_CHECK(qkv != nullptr, op, ": qkv is null");
  FT_CHECK(lengths != nullptr, op, ": lengths is null");
  FT_CHECK(aligned16(qkv), op, ": qkv is not 16-byte aligned");
  FT_CHECK(B <= 65535 && H <= 65535, op, ": B = ", B, " and H = ", H, " must be at most 65535 (grid limits)");
  FT_CHECK(std::isfinite(scale), op, ": scale ", scale, " is not finite");
  FT_CHECK(dropout.p >= 0.0f && dropout.p < 1.0f, op, ": dropout probability ", dropout.p, " is outside [0, 1)");
  return attn::make_params(B, T, H, D, qkv, lengths, scale, dropout.p, dropout.seed, dropout.stream, dropout.step);
}

int tiles_of(int rows) { return (rows + attn::kTile - 1) / attn::kTile; }

template <bool kBf16, int D>
void forward_d(const Params& p, const Context& ctx) {
  launch_tiles(attention_forward_kernel<kBf16, D>, "attention_forward", tiles_of(p.T), p,
               attn::forward_smem_bytes<kBf16, D>(), ctx);
}

template <bool kBf16, int D>
void backward_d(const Params& p, const Context& ctx) {
  const int64_t rows = static_cast<int64_t>(p.B) * p.T * p.H;  // one warp per (b, i, h)
  const int64_t blocks = (rows + attn::kWarps - 1) / attn::kWarps;
  FT_CHECK(blocks <= 0x7fffffff, "attention_backward: B * T * H = ", rows, " is too large");
  attention_delta_kernel<kBf16, D><<<static_cast<unsigned>(blocks), attn::kThreads, 0, ctx.stream>>>(p);
  FT_CUDA_CHECK_LAUNCH();
  launch_tiles(attention_dq_kernel<kBf16, D>, "attention_backward", tiles_of(p.T), p, attn::dq_smem_bytes<kBf16, D>(),
               ctx);
  launch_tiles(attention_dkdv_kernel<kBf16, D>, "attention_backward", tiles_of(p.T), p,
               attn::dkdv_smem_bytes<kBf16, D>(), ctx);
}

}  // namespace

template <class Real>
void attention_forward(const AttentionForwardArgs<Real>& a, const Context& ctx) {
  constexpr bool kBf16 = std::is_same_v<Real, bf16>;
  FT_CHECK(a.B >= 0 && a.T >= 0 && a.H >= 0, "attention_forward: negative size (B ", a.B, ", T ", a.T, ", H ", a.H,
           ")");
  if (a.B == 0 || a.T == 0 || a.H == 0) return;
  Params p = common_params("attention_forward", a.B, a.T, a.H, a.D, a.qkv, a.lengths, a.scale, a.dropout);
  FT_CHECK(a.out != nullptr && a.lse != nullptr, "attention_forward: out or lse is null");
  FT_CHECK(reinterpret_cast<uintptr_t>(a.out) % (2 * sizeof(Real)) == 0,
           "attention_forward: out is not aligned to two elements");
  p.out = a.out;
  p.lse = a.lse;
  switch (a.D) {
    case 32: forward_d<kBf16, 32>(p, ctx); break;
    case 64: forward_d<kBf16, 64>(p, ctx); break;
    default: forward_d<kBf16, 128>(p, ctx); break;
  }
}

template <class Real>
void attention_backward(const AttentionBackwardArgs<Real>& a, const Context& ctx) {
  constexpr bool kBf16 = std::is_same_v<Real, bf16>;
  FT_CHECK(a.B >= 0 && a.T >= 0 && a.H >= 0, "attention_backward: negative size (B ", a.B, ", T ", a.T, ", H ", a.H,
           ")");
  if (a.B == 0 || a.T == 0 || a.H == 0) return;
  if (a.dqkv == nullptr) return;  // no gradient wanted below this layer
  Params p = common_params("attention_backward", a.B, a.T, a.H, a.D, a.qkv, a.lengths, a.scale, a.dropout);
  FT_CHECK(a.out != nullptr && a.lse != nullptr && a.dout != nullptr,
           "attention_backward: out, lse or dout is null");
  FT_CHECK(aligned16(a.dout), "attention_backward: dout is not 16-byte aligned");
  FT_CHECK(reinterpret_cast<uintptr_t>(a.dqkv) % (2 * sizeof(Real)) == 0,
           "attention_backward: dqkv is not aligned to two elements");
  FT_CHECK(ctx.scratch != nullptr, "attention_backward: the CUDA context has no scratch allocator");
  p.out_saved = a.out;
  p.lse_saved = a.lse;
  p.dout = a.dout;
  p.dqkv = a.dqkv;
  p.delta = static_cast<float*>(ctx.scratch->get(static_cast<size_t>(a.B) * a.H * a.T * sizeof(float)));  // (B, H, T)
  switch (a.D) {
    case 32: backward_d<kBf16, 32>(p, ctx); break;
    case 64: backward_d<kBf16, 64>(p, ctx); break;
    default: backward_d<kBf16, 128>(p, ctx); break;
  }
}

template void attention_forward<float>(const AttentionForwardArgs<float>&, const Context&);
template void attention_forward<bf16>(const AttentionForwardArgs<bf16>&, const Context&);
template void attention_backward<float>(const AttentionBackwardArgs<float>&, const Context&);
template void attention_backward<bf16>(const AttentionBackwardArgs<bf16>&, const Context&);

}  // namespace ft::cuda
