#include "cuda/column_sums.cuh"

#include "cuda/common.cuh"

namespace ft::cuda {

namespace {

constexpr int kRowsPerChunk = 256;

// partial[chunk][c] = sum of x[r][c] over the chunk's rows.
template <class T>
__global__ void __launch_bounds__(256)
    column_partials_kernel(const T* x, int rows, int cols, int ld, double* partial) {
  __shared__ double sh[8][32];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int col = blockIdx.x * 32 + tx;
  const int r0 = blockIdx.y * kRowsPerChunk;
  const int r1 = min(rows, r0 + kRowsPerChunk);
  double acc = 0.0;
  if (col < cols)
    for (int r = r0 + ty; r < r1; r += 8) acc += static_cast<double>(to_float(x[static_cast<int64_t>(r) * ld + col]));
  sh[ty][tx] = acc;
  __syncthreads();
  if (ty != 0 || col >= cols) return;
  acc = 0.0;
  for (int w = 0; w < 8; ++w) acc += sh[w][tx];
  partial[static_cast<size_t>(blockIdx.y) * cols + col] = acc;
}

// out[c] += sum over chunks of partial[chunk][c], chunks in order.
template <class T>
__global__ void column_finish_kernel(const double* partial, int chunks, int cols, T* out) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  if (col >= cols) return;
  double acc = 0.0;
  for (int k = 0; k < chunks; ++k) acc += partial[static_cast<size_t>(k) * cols + col];
  out[col] = from_float<T>(to_float(out[col]) + static_cast<float>(acc));
}

}  // namespace

size_t column_sums_scratch_bytes(int rows, int cols) {
  return static_cast<size_t>(ceil_div(rows, kRowsPerChunk)) * static_cast<size_t>(cols) * sizeof(double);
}

template <class T>
void add_column_sums(const T* x, int rows, int cols, int ld, T* out, void* scratch, const Context& ctx) {
  if (cols == 0 || rows == 0) return;
  const int chunks = static_cast<int>(ceil_div(rows, kRowsPerChunk));
  FT_CHECK(chunks <= 65535, "column sums: ", rows, " rows are too many for one reduction");
  double* partial = static_cast<double*>(scratch);
  const dim3 grid(static_cast<unsigned>(ceil_div(cols, 32)), static_cast<unsigned>(chunks));
  FT_LAUNCH(grid, dim3(32, 8), 0, ctx.stream, column_partials_kernel<T>)(x, rows, cols, ld, partial);
  FT_CUDA_CHECK_LAUNCH();
  FT_LAUNCH(static_cast<unsigned>(ceil_div(cols, 256)), 256, 0, ctx.stream, column_finish_kernel<T>)(
      partial, chunks, cols, out);
  FT_CUDA_CHECK_LAUNCH();
}

template void add_column_sums<float>(const float*, int, int, int, float*, void*, const Context&);
template void add_column_sums<__nv_bfloat16>(const __nv_bfloat16*, int, int, int, __nv_bfloat16*, void*,
                                             const Context&);

}  // namespace ft::cuda
