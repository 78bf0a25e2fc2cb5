// dropout (in place): x[i] = keep(i) ? x[i] / (1 - p) : 0, the mask drawn from Philox
// (core/philox.h) at element index i, so forward and backward (the same function) and the CPU
// backend all see one mask. Grid-stride over 128-bit packs when x is 16-byte aligned (a pack of 4
// floats is one Philox block; 8 bf16 are two), the tail element by element.
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace ft::cuda {

namespace {

constexpr int kDropoutThreads = 256;

template <class T, int V>
__global__ void __launch_bounds__(kDropoutThreads) dropout_kernel(T* x, int64_t n, const DropoutSpec d, float scale) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t packs = V > 1 ? n / V : 0;
  for (int64_t i = first; i < packs; i += stride) {
    float v[V];
    bool keep[V];
    load_floats<V>(x + i * V, v);
    dropout_bits<V>(d, static_cast<uint64_t>(i * V), keep);
FT_UNROLL
    for (int j = 0; j < V; ++j) v[j] = keep[j] ? v[j] * scale : 0.0f;
    store_floats<V>(x + i * V, v);
  }
  for (int64_t i = packs * V + first; i < n; i += stride) {
    bool keep[1];
    dropout_bits<1>(d, static_cast<uint64_t>(i), keep);
    x[i] = keep[0] ? from_float<T>(to_float(x[i]) * scale) : from_float<T>(0.0f);
  }
}

template <class Real>
void dropout_in_place(const DropoutArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (!a.dropout.active() || a.n == 0) return;
  constexpr int V = kPack<T>;
  const float scale = dropout_scale(a.dropout);
  const bool vec = aligned16(a.x);
  const unsigned grid = grid_for(vec ? ceil_div(a.n, V) : a.n, kDropoutThreads, ctx.sm_count);
  if (vec)
    FT_LAUNCH(grid, kDropoutThreads, 0, ctx.stream, dropout_kernel<T, V>)(dev(a.x), a.n, a.dropout, scale);
  else
    FT_LAUNCH(grid, kDropoutThreads, 0, ctx.stream, dropout_kernel<T, 1>)(dev(a.x), a.n, a.dropout, scale);
  FT_CUDA_CHECK_LAUNCH();
}

}  // namespace

template <class Real>
void dropout_forward(const DropoutArgs<Real>& a, const Context& ctx) {
  dropout_in_place(a, ctx);
}

template <class Real>
void dropout_backward(const DropoutArgs<Real>& a, const Context& ctx) {
  dropout_in_place(a, ctx);
}

template void dropout_forward<float>(const DropoutArgs<float>&, const Context&);
template void dropout_forward<bf16>(const DropoutArgs<bf16>&, const Context&);
template void dropout_backward<float>(const DropoutArgs<float>&, const Context&);
template void dropout_backward<bf16>(const DropoutArgs<bf16>&, const Context&);

}  // namespace ft::cuda
