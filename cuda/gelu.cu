// GELU, exact: y = x * 0.5 * (1 + erf(x / sqrt(2))); dy/dx = Phi(x) + x * phi(x). Element-wise,
// grid-stride over 128-bit packs (4 floats, 8 bf16) when every pointer is 16-byte aligned, the tail
// (and unaligned arrays) element by element. All arithmetic in fp32.
//
// The bias of the intermediate dense layer is already fused into its GEMM (the cuBLASLt BIAS
// epilogue); cuBLASLt's own GELU epilogue is the tanh approximation, not HF's exact erf, so GELU
// stays a separate pass (read x, write y: 2 accesses per element).
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace ft::cuda {

namespace {

constexpr float kSqrtHalf = 0.70710678118654752440f;    // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1 / sqrt(2 pi)
constexpr int kGeluThreads = 256;

__device__ __forceinline__ float gelu(float x) { return x * 0.5f * (1.0f + erff(x * kSqrtHalf)); }

__device__ __forceinline__ float gelu_grad(float x, float dy) {
  const float cdf = 0.5f * (1.0f + erff(x * kSqrtHalf));
  const float pdf = kInvSqrt2Pi * expf(-0.5f * x * x);
  return dy * (cdf + x * pdf);
}

// V elements per access; packs = n / V when vectorised (0 otherwise), the rest element-wise.
template <class T, int V>
__global__ void __launch_bounds__(kGeluThreads) gelu_forward_kernel(const T* x, T* y, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t packs = V > 1 ? n / V : 0;
  for (int64_t i = first; i < packs; i += stride) {
    float v[V];
    load_floats<V>(x + i * V, v);
FT_UNROLL
    for (int j = 0; j < V; ++j) v[j] = gelu(v[j]);
    store_floats<V>(y + i * V, v);
  }
  for (int64_t i = packs * V + first; i < n; i += stride) y[i] = from_float<T>(gelu(to_float(x[i])));
}

template <class T, int V>
__global__ void __launch_bounds__(kGeluThreads) gelu_backward_kernel(const T* x, const T* dy, T* dx, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t packs = V > 1 ? n / V : 0;
  for (int64_t i = first; i < packs; i += stride) {
    float v[V], g[V];
    load_floats<V>(x + i * V, v);
    load_floats<V>(dy + i * V, g);
FT_UNROLL
    for (int j = 0; j < V; ++j) v[j] = gelu_grad(v[j], g[j]);
    store_floats<V>(dx + i * V, v);
  }
  for (int64_t i = packs * V + first; i < n; i += stride)
    dx[i] = from_float<T>(gelu_grad(to_float(x[i]), to_float(dy[i])));
}

}  // namespace

template <class Real>
void gelu_forward(const GeluForwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.n == 0) return;
  constexpr int V = kPack<T>;
  const bool vec = aligned16(a.x) && aligned16(a.y);
  const unsigned grid = grid_for(vec ? ceil_div(a.n, V) : a.n, kGeluThreads, ctx.sm_count);
  if (vec)
    FT_LAUNCH(grid, kGeluThreads, 0, ctx.stream, gelu_forward_kernel<T, V>)(dev(a.x), dev(a.y), a.n);
  else
    FT_LAUNCH(grid, kGeluThreads, 0, ctx.stream, gelu_forward_kernel<T, 1>)(dev(a.x), dev(a.y), a.n);
  FT_CUDA_CHECK_LAUNCH();
}

template <class Real>
void gelu_backward(const GeluBackwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.n == 0) return;
  constexpr int V = kPack<T>;
  const bool vec = aligned16(a.x) && aligned16(a.dy) && aligned16(a.dx);
  const unsigned grid = grid_for(vec ? ceil_div(a.n, V) : a.n, kGeluThreads, ctx.sm_count);
  if (vec)
    FT_LAUNCH(grid, kGeluThreads, 0, ctx.stream, gelu_backward_kernel<T, V>)(dev(a.x), dev(a.dy), dev(a.dx), a.n);
  else
    FT_LAUNCH(grid, kGeluThreads, 0, ctx.stream, gelu_backward_kernel<T, 1>)(dev(a.x), dev(a.dy), dev(a.dx), a.n);
  FT_CUDA_CHECK_LAUNCH();
}

template void gelu_forward<float>(const GeluForwardArgs<float>&, const Context&);
template void gelu_forward<bf16>(const GeluForwardArgs<bf16>&, const Context&);
template void gelu_backward<float>(const GeluBackwardArgs<float>&, const Context&);
template void gelu_backward<bf16>(const GeluBackwardArgs<bf16>&, const Context&);

}  // namespace ft::cuda
