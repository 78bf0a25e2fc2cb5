// pooler: pooled = tanh(hidden[:, 0] W^T + b), HF's BertPooler. The [CLS] rows are read in place:
// hidden[b, 0] is column b of a column-major (C x B) matrix with leading dimension T*C, so no gather.
//
// Forward: one cuBLASLt GEMM into an fp32 scratch z (for bf16 too: bf16 inputs, fp32 output), then
//   one element-wise kernel pooled = Real(tanh(z + b)), so the output is rounded once.
// Backward: dz = dpooled * (1 - pooled^2) (Real, the GEMMs' input); dhidden is zeroed and its
//   t = 0 rows written by a GEMM with leading dimension T*C; dW += dz^T h0 (GEMM, beta = 1);
//   db += column sums of dz (deterministic, cuda/column_sums.cuh).
#include "core/error.h"
#include "cuda/column_sums.cuh"
#include "cuda/common.cuh"
#include "cuda/gemm.cuh"
#include "cuda/ops.h"

namespace ft::cuda {

namespace {

template <class T>
__global__ void tanh_bias_kernel(const float* z, const T* bias, T* pooled, int B, int C) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(B) * C) return;
  pooled[i] = from_float<T>(tanhf(z[i] + to_float(bias[i % C])));
}

template <class T>
__global__ void tanh_grad_kernel(const T* pooled, const T* dpooled, T* dz, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float p = to_float(pooled[i]);
  dz[i] = from_float<T>(to_float(dpooled[i]) * (1.0f - p * p));
}

}  // namespace

template <class Real>
void pooler_forward(const PoolerForwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.B == 0) return;
  FT_CHECK(a.C > 0 && a.T > 0, "pooler_forward: hidden size ", a.C, " and sequence length ", a.T, " must be positive");
  float* z = static_cast<float*>(ctx.scratch->get(static_cast<size_t>(a.B) * a.C * sizeof(float)));  // (B, C)
  // z^T (C x B) = W (op T of the col-major C x C) * h0^T (C x B, ld T*C), in fp32
  gemm({.ta = CUBLAS_OP_T, .tb = CUBLAS_OP_N, .m = a.C, .n = a.B, .k = a.C, .a = a.w, .lda = a.C, .b = a.hidden,
        .ldb = a.T * a.C, .d = z, .ldd = a.C, .ab_type = cuda_type<Real>(), .d_type = CUDA_R_32F},
       ctx);
  const int64_t n = static_cast<int64_t>(a.B) * a.C;
  FT_LAUNCH(static_cast<unsigned>(ceil_div(n, 256)), 256, 0, ctx.stream, tanh_bias_kernel<T>)(
      z, dev(a.b), dev(a.pooled), a.B, a.C);
  FT_CUDA_CHECK_LAUNCH();
}

template <class Real>
void pooler_backward(const PoolerBackwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.B == 0 || (!a.dhidden && !a.dw && !a.db)) return;
  FT_CHECK(a.C > 0 && a.T > 0, "pooler_backward: hidden size ", a.C, " and sequence length ", a.T, " must be positive");
  const int64_t n = static_cast<int64_t>(a.B) * a.C;
  ScratchCarver count;
  count.take<T>(n);
  count.take<char>(a.db ? column_sums_scratch_bytes(a.B, a.C) : 0);
  ScratchCarver carve(ctx.scratch->get(count.bytes()));
  T* dz = carve.take<T>(n);  // (B, C) gradient before tanh
  void* sums = carve.take<char>(a.db ? column_sums_scratch_bytes(a.B, a.C) : 0);

  FT_LAUNCH(static_cast<unsigned>(ceil_div(n, 256)), 256, 0, ctx.stream, tanh_grad_kernel<T>)(
      dev(a.pooled), dev(a.dpooled), dz, n);
  FT_CUDA_CHECK_LAUNCH();
  const int ldh = a.T * a.C;
  if (a.dhidden) {
    // rows t > 0 get no gradient; rows t = 0: dz W, i.e. dh0^T (C x B, ld T*C) = W^T col-major (C x C) * dz^T
    FT_CUDA_CHECK(cudaMemsetAsync(a.dhidden, 0, static_cast<size_t>(a.B) * ldh * sizeof(Real), ctx.stream));
    gemm({.ta = CUBLAS_OP_N, .tb = CUBLAS_OP_N, .m = a.C, .n = a.B, .k = a.C, .a = a.w, .lda = a.C, .b = dz,
          .ldb = a.C, .d = a.dhidden, .ldd = ldh, .ab_type = cuda_type<Real>(), .d_type = cuda_type<Real>()},
         ctx);
  }
  if (a.dw) {
    // dW^T (C x C) += h0^T (C x B, ld T*C) * dz (op T of dz^T, C x B)
    gemm({.ta = CUBLAS_OP_N, .tb = CUBLAS_OP_T, .m = a.C, .n = a.C, .k = a.B, .a = a.hidden, .lda = ldh, .b = dz,
          .ldb = a.C, .d = a.dw, .ldd = a.C, .ab_type = cuda_type<Real>(), .d_type = cuda_type<Real>(), .beta = 1.0f},
         ctx);
  }
  if (a.db) add_column_sums<T>(dz, a.B, a.C, a.C, dev(a.db), sums, ctx);
}

template void pooler_forward<float>(const PoolerForwardArgs<float>&, const Context&);
template void pooler_forward<bf16>(const PoolerForwardArgs<bf16>&, const Context&);
template void pooler_backward<float>(const PoolerBackwardArgs<float>&, const Context&);
template void pooler_backward<bf16>(const PoolerBackwardArgs<bf16>&, const Context&);

}  // namespace ft::cuda
