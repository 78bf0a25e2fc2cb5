// grad_norm_squared: sum of squares of n gradients, deterministic. Stage 1: a fixed grid (a
// function of n only) of 256-thread blocks, each thread accumulating its grid-stride elements in
// fp64, then a warp-shuffle tree and the 8 warps added in order: one partial per block. Stage 2: one
// block adds the partials (thread t takes t, t + 256, ..., then the same fixed tree). Bitwise the
// same on every run; the result is read back to the host (one synchronisation, as the contract says).
#include "core/error.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace ft::cuda {

namespace {

constexpr int kNormThreads = 256;
constexpr int kNormMaxBlocks = 1024;

// Sum of v over the block in a fixed order; valid in thread 0.
__device__ double block_sum(double v) {
  __shared__ double warp_sums[kNormThreads / 32];
  v = warp_sum(v);
  if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = v;
  __syncthreads();
  double total = 0.0;
  if (threadIdx.x == 0)
    for (int w = 0; w < kNormThreads / 32; ++w) total += warp_sums[w];
  return total;
}

template <class T, int V>
__global__ void __launch_bounds__(kNormThreads) sum_squares_kernel(const T* x, int64_t n, double* partial) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kNormThreads;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kNormThreads + threadIdx.x;
  const int64_t packs = V > 1 ? n / V : 0;
  double acc = 0.0;
  for (int64_t i = first; i < packs; i += stride) {
    float v[V];
    load_floats<V>(x + i * V, v);
FT_UNROLL
    for (int j = 0; j < V; ++j) acc += static_cast<double>(v[j]) * static_cast<double>(v[j]);
  }
  for (int64_t i = packs * V + first; i < n; i += stride) {
    const double v = static_cast<double>(to_float(x[i]));
    acc += v * v;
  }
  const double total = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

__global__ void __launch_bounds__(kNormThreads) finish_kernel(const double* partial, int blocks, double* out) {
  double acc = 0.0;
  for (int i = threadIdx.x; i < blocks; i += kNormThreads) acc += partial[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) *out = total;
}

}  // namespace

template <class Real>
double grad_norm_squared(const Real* grads, int64_t n, const Context& ctx) {
  using T = device_t<Real>;
  if (n == 0) return 0.0;
  constexpr int V = kPack<T>;
  const bool vec = aligned16(grads);
  const int64_t items = vec ? ceil_div(n, V) : n;
  const int blocks = static_cast<int>(std::min<int64_t>(ceil_div(items, kNormThreads), kNormMaxBlocks));
  double* partial = static_cast<double*>(ctx.scratch->get(static_cast<size_t>(blocks + 1) * sizeof(double)));
  if (vec)
    FT_LAUNCH(blocks, kNormThreads, 0, ctx.stream, sum_squares_kernel<T, V>)(dev(grads), n, partial);
  else
    FT_LAUNCH(blocks, kNormThreads, 0, ctx.stream, sum_squares_kernel<T, 1>)(dev(grads), n, partial);
  FT_CUDA_CHECK_LAUNCH();
  FT_LAUNCH(1, kNormThreads, 0, ctx.stream, finish_kernel)(partial, blocks, partial + blocks);
  FT_CUDA_CHECK_LAUNCH();
  double result = 0.0;
  FT_CUDA_CHECK(cudaMemcpyAsync(&result, partial + blocks, sizeof(double), cudaMemcpyDeviceToHost, ctx.stream));
  FT_CUDA_CHECK(cudaStreamSynchronize(ctx.stream));
  return result;
}

template double grad_norm_squared<float>(const float*, int64_t, const Context&);
template double grad_norm_squared<bf16>(const bf16*, int64_t, const Context&);

}  // namespace ft::cuda
