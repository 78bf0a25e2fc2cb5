// linear: y = x W^T + b (nn.Linear), through cuBLASLt (cuda/gemm.cuh).
//
// Row-major (r x c) is column-major (c x r) to cuBLAS, so with x (N, in), W (out, in), y (N, out):
//   forward  y^T (out x N)  = W (out x in, i.e. W^T col-major, op T) * x^T (in x N)   + b  [BIAS epilogue]
//   dx       dx^T (in x N)  = W^T col-major (in x out)             * dy^T (out x N)  (+ dx)
//   dW       dW^T (in x out) += x^T (in x N) * dy (N x out, i.e. dy^T col-major, op T)
//   db       += column sums of dy: our own deterministic two-stage reduction (cuda/column_sums.cuh)
// fp32 runs in full fp32 (TF32 only with Context::allow_tf32); bf16 reads and writes bf16 and
// accumulates in fp32.
#include "core/error.h"
#include "cuda/column_sums.cuh"
#include "cuda/common.cuh"
#include "cuda/gemm.cuh"
#include "cuda/ops.h"

namespace ft::cuda {

namespace {

// y[r, :] = b (or 0) for every row: the forward of a layer with no inputs (in == 0).
template <class T>
__global__ void fill_rows_kernel(T* y, const T* b, int64_t rows, int cols) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= rows * cols) return;
  y[i] = b ? b[i % cols] : from_float<T>(0.0f);
}

}  // namespace

template <class Real>
void linear_forward(const LinearForwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.N == 0 || a.out == 0) return;
  if (a.in == 0) {
    const int64_t total = static_cast<int64_t>(a.N) * a.out;
    FT_LAUNCH(static_cast<unsigned>(ceil_div(total, 256)), 256, 0, ctx.stream, fill_rows_kernel<T>)(
        dev(a.y), dev(a.b), a.N, a.out);
    FT_CUDA_CHECK_LAUNCH();
    return;
  }
  // y^T (out x N) = W (op T of the col-major in x out) * x^T (in x N), plus the bias
  gemm({.ta = CUBLAS_OP_T, .tb = CUBLAS_OP_N, .m = a.out, .n = a.N, .k = a.in, .a = a.w, .lda = a.in, .b = a.x,
        .ldb = a.in, .d = a.y, .ldd = a.out, .ab_type = cuda_type<Real>(), .d_type = cuda_type<Real>(), .bias = a.b},
       ctx);
}

template <class Real>
void linear_backward(const LinearBackwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.N == 0) return;
  if (a.dx) {
    if (a.out == 0) {
      if (!a.dx_accumulate)
        FT_CUDA_CHECK(cudaMemsetAsync(a.dx, 0, static_cast<size_t>(a.N) * a.in * sizeof(Real), ctx.stream));
    } else if (a.in > 0) {
      // dx^T (in x N) = W^T col-major (in x out) * dy^T (out x N)
      gemm({.ta = CUBLAS_OP_N, .tb = CUBLAS_OP_N, .m = a.in, .n = a.N, .k = a.out, .a = a.w, .lda = a.in, .b = a.dy,
            .ldb = a.out, .d = a.dx, .ldd = a.in, .ab_type = cuda_type<Real>(), .d_type = cuda_type<Real>(),
            .beta = a.dx_accumulate ? 1.0f : 0.0f},
           ctx);
    }
  }
  if (a.dw && a.out > 0 && a.in > 0) {
    // dW^T (in x out) += x^T (in x N) * dy (op T of dy^T, N x out)
    gemm({.ta = CUBLAS_OP_N, .tb = CUBLAS_OP_T, .m = a.in, .n = a.out, .k = a.N, .a = a.x, .lda = a.in, .b = a.dy,
          .ldb = a.out, .d = a.dw, .ldd = a.in, .ab_type = cuda_type<Real>(), .d_type = cuda_type<Real>(),
          .beta = 1.0f},
         ctx);
  }
  if (a.db && a.out > 0) {
    void* scratch = ctx.scratch->get(column_sums_scratch_bytes(a.N, a.out));
    add_column_sums<T>(dev(a.dy), a.N, a.out, a.out, dev(a.db), scratch, ctx);
  }
}

template void linear_forward<float>(const LinearForwardArgs<float>&, const Context&);
template void linear_forward<bf16>(const LinearForwardArgs<bf16>&, const Context&);
template void linear_backward<float>(const LinearBackwardArgs<float>&, const Context&);
template void linear_backward<bf16>(const LinearBackwardArgs<bf16>&, const Context&);

}  // namespace ft::cuda
