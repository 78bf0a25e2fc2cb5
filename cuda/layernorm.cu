// layernorm: sum = x + residual (when given); out = (sum - mean) * rstd * gamma + beta per row of C,
// biased variance, eps inside the square root (torch.nn.LayerNorm). Also the row kernels of the
// embedding (cuda/layernorm_rows.cuh), which differ only in where a row comes from.
//
// Forward: one warp per row, four rows per block. Three passes over the row (mean, variance of
// x - mean, output), all in fp32; for C <= 1024 the row stays in registers (32 floats per lane),
// wider rows are re-read from L1/L2. 128-bit loads and stores when C is a multiple of the pack
// (4 floats, 8 bf16) and every row pointer is 16-byte aligned; a scalar path otherwise.
//
// Backward: one warp per row computes din in two passes (the two row means, then din); the same
// pass accumulates dout * xhat and dout into a per-warp slice of shared memory (each lane owns fixed
// columns, so no atomics). The block then adds its warps' slices in warp order into one partial row
// per block in scratch, and a second kernel adds the block partials in block order (in fp64) to
// dgamma and dbeta. The row-to-warp assignment depends only on N and C, so results are bitwise
// reproducible.
#include <algorithm>
#include <string>

#include "core/error.h"
#include "cuda/layernorm_rows.cuh"
#include "cuda/ops.h"
#include "cuda/shared_memory.h"

namespace ft::cuda {

namespace {

constexpr int kFwdWarps = 4;          // rows per block in the forward
constexpr int kBwdMaxWarps = 8;       // rows in flight per block in the backward
constexpr int kBwdMaxBlocks = 512;    // fixed cap: the partial-sum layout depends on N and C only
constexpr int kCacheFloats = 32;      // floats of a row held per lane in the cached kernels
constexpr size_t kDefaultSmem = 48 * 1024;

// Records the first bad token (type) id of the batch; the backend reports it at its next sync.
__device__ void report_fault(DeviceStatus* status, int code, int row, int seq_len, int value, int limit) {
  if (!status) return;
  if (atomicCAS(&status->code, 0, code) == 0) {
    status->batch = row / seq_len;
    status->position = row % seq_len;
    status->value = value;
    status->limit = limit;
  }
}

// The (up to three) addend rows of row `row`; false when an id is out of range (then reported).
template <class T>
__device__ __forceinline__ bool row_addends(const LnRowSource<T>& s, int row, int C, int lane, DeviceStatus* status,
                                            const T*& a, const T*& b, const T*& c) {
  if (!s.ids) {
    const int64_t off = static_cast<int64_t>(row) * C;
    a = s.x + off;
    b = s.residual ? s.residual + off : nullptr;
    c = nullptr;
    return true;
  }
  const int id = s.ids[row];
  const int tt = s.type_ids ? s.type_ids[row] : 0;
  const bool id_ok = id >= 0 && id < s.vocab;
  const bool tt_ok = tt >= 0 && tt < s.type_vocab;
  if (!id_ok || !tt_ok) {
    if (lane == 0) {
      if (!id_ok) report_fault(status, kFaultTokenId, row, s.seq_len, id, s.vocab);
      else report_fault(status, kFaultTokenTypeId, row, s.seq_len, tt, s.type_vocab);
    }
    return false;
  }
  a = s.word + static_cast<int64_t>(id) * C;  // HF's order: (word + type) + position
  b = s.type + static_cast<int64_t>(tt) * C;
  c = s.pos + static_cast<int64_t>(row % s.seq_len) * C;
  return true;
}

// v = a[col..] (+ b[col..]) (+ c[col..]) in fp32, left to right.
template <int V, class T>
__device__ __forceinline__ void load_row_sum(const T* a, const T* b, const T* c, int col, float (&v)[V]) {
  load_floats<V>(a + col, v);
  if (b) {
    float t[V];
    load_floats<V>(b + col, t);
FT_UNROLL
    for (int i = 0; i < V; ++i) v[i] += t[i];
  }
  if (c) {
    float t[V];
    load_floats<V>(c + col, t);
FT_UNROLL
    for (int i = 0; i < V; ++i) v[i] += t[i];
  }
}

// Rounds to T and back: the value a saved T tensor holds.
template <class T, int V>
__device__ __forceinline__ void round_to(float (&v)[V]) {
FT_UNROLL
  for (int i = 0; i < V; ++i) v[i] = to_float(from_float<T>(v[i]));
}

// V: elements per load (the 128-bit pack, or 1). kCache: packs per lane kept in registers (the
// whole row when C <= 32 * V * kCache; 0 re-reads the row on every pass).
template <class T, int V, int kCache>
__global__ void __launch_bounds__(kFwdWarps * 32)
    ln_rows_forward_kernel(const LnRowsForward<T> p, DeviceStatus* status) {
  const int lane = threadIdx.x & 31;
  const int row = blockIdx.x * kFwdWarps + (threadIdx.x >> 5);
  if (row >= p.N) return;  // whole warps leave together
  const int C = p.C;
  const int64_t off = static_cast<int64_t>(row) * C;
  const T *a, *b, *c;
  if (!row_addends(p.src, row, C, lane, status, a, b, c)) {
    // A bad id: poison the row so nothing downstream looks valid; the backend throws at its next sync.
    for (int col = lane; col < C; col += 32) p.out[off + col] = from_float<T>(__int_as_float(0x7fc00000));
    if (lane == 0) p.mean[row] = p.rstd[row] = __int_as_float(0x7fc00000);
    return;
  }
  T* sum_row = p.src.residual ? p.sum + off : nullptr;  // the saved x + residual

  float cache[kCache > 0 ? kCache : 1][V];
  constexpr int kStride = 32 * V;

  // pass 1: the (rounded, saved) sum and its mean
  float acc = 0.0f;
FT_UNROLL
  for (int k = 0; k < kCache; ++k) {
    const int col = k * kStride + lane * V;
    if (col < C) {
      load_row_sum<V>(a, b, c, col, cache[k]);
      if (sum_row) {
        round_to<T>(cache[k]);
        store_floats<V>(sum_row + col, cache[k]);
      }
FT_UNROLL
      for (int i = 0; i < V; ++i) acc += cache[k][i];
    }
  }
  for (int col = kCache * kStride + lane * V; col < C; col += kStride) {
    float v[V];
    load_row_sum<V>(a, b, c, col, v);
    if (sum_row) {
      round_to<T>(v);
      store_floats<V>(sum_row + col, v);
    }
FT_UNROLL
    for (int i = 0; i < V; ++i) acc += v[i];
  }
  const float mean = warp_sum(acc) / static_cast<float>(C);

  // pass 2: biased variance of x - mean
  acc = 0.0f;
FT_UNROLL
  for (int k = 0; k < kCache; ++k) {
    const int col = k * kStride + lane * V;
    if (col < C) {
FT_UNROLL
      for (int i = 0; i < V; ++i) {
        const float d = cache[k][i] - mean;
        acc += d * d;
      }
    }
  }
  for (int col = kCache * kStride + lane * V; col < C; col += kStride) {
    float v[V];
    load_row_sum<V>(a, b, c, col, v);
    if (sum_row) round_to<T>(v);
FT_UNROLL
    for (int i = 0; i < V; ++i) {
      const float d = v[i] - mean;
      acc += d * d;
    }
  }
  const float var = warp_sum(acc) / static_cast<float>(C);
  const float rstd = 1.0f / sqrtf(var + p.eps);
  if (lane == 0) {
    p.mean[row] = mean;
    p.rstd[row] = rstd;
  }

  // pass 3: normalise, scale and shift, dropout
  const bool drop = p.dropout.p > 0.0f;
  const float scale = 1.0f / (1.0f - p.dropout.p);
  auto emit = [&](int col, float (&v)[V]) {
    float g[V], be[V];
    load_floats<V>(p.gamma + col, g);
    load_floats<V>(p.beta + col, be);
FT_UNROLL
    for (int i = 0; i < V; ++i) v[i] = (v[i] - mean) * rstd * g[i] + be[i];
    if (drop) {
      bool keep[V];
      dropout_bits<V>(p.dropout, static_cast<uint64_t>(off + col), keep);
FT_UNROLL
      for (int i = 0; i < V; ++i) v[i] = keep[i] ? v[i] * scale : 0.0f;
    }
    store_floats<V>(p.out + off + col, v);
  };
FT_UNROLL
  for (int k = 0; k < kCache; ++k) {
    const int col = k * kStride + lane * V;
    if (col < C) emit(col, cache[k]);
  }
  for (int col = kCache * kStride + lane * V; col < C; col += kStride) {
    float v[V];
    load_row_sum<V>(a, b, c, col, v);
    if (sum_row) round_to<T>(v);
    emit(col, v);
  }
}

// One warp per row, blockDim.x / 32 warps per block, rows strided by the whole grid's warps.
// Dynamic shared memory: (warps, 2, C) floats of dgamma/dbeta partials when wanted.
template <class T, int V, int kCache>
__global__ void __launch_bounds__(kBwdMaxWarps * 32)
    ln_rows_backward_kernel(const LnRowsBackward<T> p, float* block_partials, DeviceStatus* status) {
  FT_DYNAMIC_SHARED(float, smem);
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  const int C = p.C;
  const bool params = p.dgamma || p.dbeta;
  float* sg = smem + static_cast<size_t>(warp) * 2 * C;  // (C) this warp's sum of dout * xhat
  float* sb = sg + C;                                    // (C) this warp's sum of dout
  if (params) {
    for (int col = lane; col < C; col += 32) sg[col] = sb[col] = 0.0f;
    __syncwarp();
  }
  const bool drop = p.dropout.p > 0.0f;
  const float scale = 1.0f / (1.0f - p.dropout.p);
  constexpr int kStride = 32 * V;
  const int64_t warps_total = static_cast<int64_t>(gridDim.x) * warps;

  for (int64_t row = static_cast<int64_t>(blockIdx.x) * warps + warp; row < p.N; row += warps_total) {
    const int64_t off = row * C;
    const T *a, *b, *c;
    if (!row_addends(p.src, static_cast<int>(row), C, lane, status, a, b, c)) {
      if (p.din_f32)  // a bad id contributes nothing to the tables
        for (int col = lane; col < C; col += 32) p.din_f32[off + col] = 0.0f;
      continue;
    }
    const float m = p.mean[row], r = p.rstd[row];
    float xh_cache[kCache > 0 ? kCache : 1][V];  // xhat
    float g_cache[kCache > 0 ? kCache : 1][V];   // dout * gamma

    // xhat, g = dout * gamma, and the parameter partials of one pack
    auto pass1 = [&](int col, float (&xh)[V], float (&g)[V], float& sum_g, float& sum_gx) {
      float d[V], ga[V];
      load_row_sum<V>(a, b, c, col, xh);
      load_floats<V>(p.dout + off + col, d);
      load_floats<V>(p.gamma + col, ga);
      if (drop) {
        bool keep[V];
        dropout_bits<V>(p.dropout, static_cast<uint64_t>(off + col), keep);
FT_UNROLL
        for (int i = 0; i < V; ++i) d[i] = keep[i] ? d[i] * scale : 0.0f;
      }
FT_UNROLL
      for (int i = 0; i < V; ++i) {
        xh[i] = (xh[i] - m) * r;
        g[i] = d[i] * ga[i];
        sum_g += g[i];
        sum_gx += g[i] * xh[i];
        if (params) {
          sg[col + i] += d[i] * xh[i];
          sb[col + i] += d[i];
        }
      }
    };
    float sum_g = 0.0f, sum_gx = 0.0f;
FT_UNROLL
    for (int k = 0; k < kCache; ++k) {
      const int col = k * kStride + lane * V;
      if (col < C) pass1(col, xh_cache[k], g_cache[k], sum_g, sum_gx);
    }
    for (int col = kCache * kStride + lane * V; col < C; col += kStride) {
      float xh[V], g[V];
      pass1(col, xh, g, sum_g, sum_gx);
    }
    const float mean_g = warp_sum(sum_g) / static_cast<float>(C);
    const float mean_gx = warp_sum(sum_gx) / static_cast<float>(C);
    if (!p.din && !p.din_f32) continue;

    // din = rstd * (g - mean(g) - xhat * mean(g * xhat))
    auto pass2 = [&](int col, const float (&xh)[V], const float (&g)[V]) {
      float dv[V];
FT_UNROLL
      for (int i = 0; i < V; ++i) dv[i] = r * (g[i] - mean_g - xh[i] * mean_gx);
      if (p.din_f32) {
FT_UNROLL
        for (int i = 0; i < V; ++i) p.din_f32[off + col + i] = dv[i];
      } else {
        if (p.din_accumulate) {
          float prev[V];
          load_floats<V>(p.din + off + col, prev);
FT_UNROLL
          for (int i = 0; i < V; ++i) dv[i] += prev[i];
        }
        store_floats<V>(p.din + off + col, dv);
      }
    };
FT_UNROLL
    for (int k = 0; k < kCache; ++k) {
      const int col = k * kStride + lane * V;
      if (col < C) pass2(col, xh_cache[k], g_cache[k]);
    }
    for (int col = kCache * kStride + lane * V; col < C; col += kStride) {
      // re-derive xhat and g (the parameter partials were taken in pass 1)
      float xh[V], g[V], d[V], ga[V];
      load_row_sum<V>(a, b, c, col, xh);
      load_floats<V>(p.dout + off + col, d);
      load_floats<V>(p.gamma + col, ga);
      if (drop) {
        bool keep[V];
        dropout_bits<V>(p.dropout, static_cast<uint64_t>(off + col), keep);
FT_UNROLL
        for (int i = 0; i < V; ++i) d[i] = keep[i] ? d[i] * scale : 0.0f;
      }
FT_UNROLL
      for (int i = 0; i < V; ++i) {
        xh[i] = (xh[i] - m) * r;
        g[i] = d[i] * ga[i];
      }
      pass2(col, xh, g);
    }
  }

  if (!params) return;  // uniform over the grid
  __syncthreads();
  // The block's partial: its warps' slices added in warp order.
  float* out = block_partials + static_cast<size_t>(blockIdx.x) * 2 * C;
  for (int col = threadIdx.x; col < C; col += blockDim.x) {
    float g = 0.0f, be = 0.0f;
    for (int w = 0; w < warps; ++w) {
      g += smem[static_cast<size_t>(w) * 2 * C + col];
      be += smem[static_cast<size_t>(w) * 2 * C + C + col];
    }
    out[col] = g;
    out[C + col] = be;
  }
}

// dgamma[c] += sum over blocks of partial[k][0][c]; dbeta[c] += ... [k][1][c]. Block (32, 8): each
// of the 8 rows of threads sums a fixed stride of blocks in fp64, then row 0 adds the 8 in order.
template <class T>
__global__ void __launch_bounds__(256)
    ln_param_grads_kernel(const float* partials, int blocks, int C, T* dgamma, T* dbeta) {
  __shared__ double sh[2][8][32];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int col = blockIdx.x * 32 + tx;
  double g = 0.0, b = 0.0;
  if (col < C)
    for (int k = ty; k < blocks; k += 8) {
      g += static_cast<double>(partials[static_cast<size_t>(k) * 2 * C + col]);
      b += static_cast<double>(partials[static_cast<size_t>(k) * 2 * C + C + col]);
    }
  sh[0][ty][tx] = g;
  sh[1][ty][tx] = b;
  __syncthreads();
  if (ty != 0 || col >= C) return;
  g = 0.0;
  b = 0.0;
  for (int w = 0; w < 8; ++w) {
    g += sh[0][w][tx];
    b += sh[1][w][tx];
  }
  if (dgamma) dgamma[col] = from_float<T>(to_float(dgamma[col]) + static_cast<float>(g));
  if (dbeta) dbeta[col] = from_float<T>(to_float(dbeta[col]) + static_cast<float>(b));
}

template <class T>
bool source_aligned(const LnRowSource<T>& s) {
  if (s.ids) return aligned16(s.word) && aligned16(s.pos) && aligned16(s.type);
  return aligned16(s.x) && (!s.residual || aligned16(s.residual));
}

// Warps per backward block: as many as fit (2 C floats each) in the default 48 KiB of shared memory.
int backward_warps(int C, bool params) {
  if (!params) return kBwdMaxWarps;
  const size_t per_warp = static_cast<size_t>(2) * C * sizeof(float);
  return static_cast<int>(std::clamp<size_t>(kDefaultSmem / per_warp, 1, kBwdMaxWarps));
}

int backward_blocks(int N, int warps) {
  return static_cast<int>(std::min<int64_t>(ceil_div(N, warps), kBwdMaxBlocks));
}

}  // namespace

template <class T>
void launch_ln_rows_forward(const LnRowsForward<T>& p, const Context& ctx) {
  if (p.N == 0) return;
  FT_CHECK(p.C > 0, "layernorm: hidden size ", p.C, " must be positive");
  FT_CHECK(!p.src.residual || p.sum, "layernorm_forward: a residual needs a sum buffer to save x + residual into");
  constexpr int V = kPack<T>;
  const bool vec = p.C % V == 0 && source_aligned(p.src) && aligned16(p.gamma) && aligned16(p.beta) &&
                   aligned16(p.out) && (!p.src.residual || aligned16(p.sum));
  const dim3 grid(static_cast<unsigned>(ceil_div(p.N, kFwdWarps)));
  const dim3 block(kFwdWarps * 32);
  if (vec && p.C <= 32 * kCacheFloats)
    FT_LAUNCH(grid, block, 0, ctx.stream, ln_rows_forward_kernel<T, V, kCacheFloats / V>)(p, ctx.status);
  else if (vec)
    FT_LAUNCH(grid, block, 0, ctx.stream, ln_rows_forward_kernel<T, V, 0>)(p, ctx.status);
  else
    FT_LAUNCH(grid, block, 0, ctx.stream, ln_rows_forward_kernel<T, 1, 0>)(p, ctx.status);
  FT_CUDA_CHECK_LAUNCH();
}

template <class T>
size_t ln_rows_backward_scratch_bytes(const LnRowsBackward<T>& p, const Context&) {
  const bool params = p.dgamma || p.dbeta;
  if (!params || p.N == 0) return 0;
  const int warps = backward_warps(p.C, params);
  return static_cast<size_t>(backward_blocks(p.N, warps)) * 2 * p.C * sizeof(float);
}

template <class T>
void launch_ln_rows_backward(const LnRowsBackward<T>& p, void* scratch, const Context& ctx) {
  const bool params = p.dgamma || p.dbeta;
  if (p.N == 0 || (!params && !p.din && !p.din_f32)) return;
  FT_CHECK(p.C > 0, "layernorm: hidden size ", p.C, " must be positive");
  constexpr int V = kPack<T>;
  const bool vec = p.C % V == 0 && source_aligned(p.src) && aligned16(p.gamma) && aligned16(p.dout) &&
                   (!p.din || aligned16(p.din)) && (!p.din_f32 || aligned16(p.din_f32));
  const int warps = backward_warps(p.C, params);
  const int blocks = backward_blocks(p.N, warps);
  const size_t smem = params ? static_cast<size_t>(warps) * 2 * p.C * sizeof(float) : 0;
  float* partials = static_cast<float*>(scratch);
  FT_CHECK(!params || partials, "layernorm_backward: no scratch for the dgamma/dbeta partial sums");

  auto launch = [&](auto kernel) {
    // Rows wider than 6144: one warp per block needs more than the default shared memory.
    if (smem > kDefaultSmem)
      allow_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), smem, ctx,
                                  ("layernorm_backward: hidden size " + std::to_string(p.C)).c_str());
    FT_LAUNCH(blocks, warps * 32, smem, ctx.stream, kernel)(p, partials, ctx.status);
    FT_CUDA_CHECK_LAUNCH();
  };
  if (vec && p.C <= 32 * kCacheFloats)
    launch(ln_rows_backward_kernel<T, V, kCacheFloats / V>);
  else if (vec)
    launch(ln_rows_backward_kernel<T, V, 0>);
  else
    launch(ln_rows_backward_kernel<T, 1, 0>);

  if (params) {
    const dim3 grid(static_cast<unsigned>(ceil_div(p.C, 32)));
    FT_LAUNCH(grid, dim3(32, 8), 0, ctx.stream, ln_param_grads_kernel<T>)(partials, blocks, p.C, p.dgamma, p.dbeta);
    FT_CUDA_CHECK_LAUNCH();
  }
}

template void launch_ln_rows_forward<float>(const LnRowsForward<float>&, const Context&);
template void launch_ln_rows_forward<__nv_bfloat16>(const LnRowsForward<__nv_bfloat16>&, const Context&);
template size_t ln_rows_backward_scratch_bytes<float>(const LnRowsBackward<float>&, const Context&);
template size_t ln_rows_backward_scratch_bytes<__nv_bfloat16>(const LnRowsBackward<__nv_bfloat16>&, const Context&);
template void launch_ln_rows_backward<float>(const LnRowsBackward<float>&, void*, const Context&);
template void launch_ln_rows_backward<__nv_bfloat16>(const LnRowsBackward<__nv_bfloat16>&, void*, const Context&);

// ---- the ops

template <class Real>
void layernorm_forward(const LayerNormForwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  LnRowsForward<T> p;
  p.N = a.N;
  p.C = a.C;
  p.src.x = dev(a.x);
  p.src.residual = dev(a.residual);
  p.sum = dev(a.sum);
  p.gamma = dev(a.gamma);
  p.beta = dev(a.beta);
  p.eps = a.eps;
  p.out = dev(a.out);
  p.mean = a.mean;
  p.rstd = a.rstd;
  launch_ln_rows_forward(p, ctx);
}

template <class Real>
void layernorm_backward(const LayerNormBackwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  LnRowsBackward<T> p;
  p.N = a.N;
  p.C = a.C;
  p.src.x = dev(a.in);
  p.gamma = dev(a.gamma);
  p.mean = a.mean;
  p.rstd = a.rstd;
  p.dout = dev(a.dout);
  p.din = dev(a.din);
  p.din_accumulate = a.din_accumulate;
  p.dgamma = dev(a.dgamma);
  p.dbeta = dev(a.dbeta);
  const size_t bytes = ln_rows_backward_scratch_bytes(p, ctx);
  void* scratch = bytes ? ctx.scratch->get(bytes) : nullptr;
  launch_ln_rows_backward(p, scratch, ctx);
}

template void layernorm_forward<float>(const LayerNormForwardArgs<float>&, const Context&);
template void layernorm_forward<bf16>(const LayerNormForwardArgs<bf16>&, const Context&);
template void layernorm_backward<float>(const LayerNormBackwardArgs<float>&, const Context&);
template void layernorm_backward<bf16>(const LayerNormBackwardArgs<bf16>&, const Context&);

}  // namespace ft::cuda
