// One cuBLASLt matmul, column-major as cuBLAS sees it, with the descriptors and the heuristic's
// algorithm cached by shape, types, alignment and epilogue (so a shape costs one heuristic query per
// process, and every call of a shape runs the same algorithm: bitwise reproducible).
//
//   D (m x n, ldd) = op(A) (m x k) * op(B) (k x n) + beta * D  [+ bias (m) on every column]
//
// A is m x k (lda >= m) when ta is N, k x m (lda >= k) when T; B likewise k x n or n x k. fp32 runs
// with CUBLAS_COMPUTE_32F (CUBLAS_COMPUTE_32F_FAST_TF32 only when Context::allow_tf32), bf16 with
// fp32 accumulation; the output may be fp32 with bf16 inputs.
#pragma once

#include <cublasLt.h>
#include <cuda_bf16.h>

#include <type_traits>

#include "core/dtype.h"
#include "cuda/context.h"

namespace ft::cuda {

struct GemmCall {
  cublasOperation_t ta = CUBLAS_OP_N, tb = CUBLAS_OP_N;
  int m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int lda = 0;
  const void* b = nullptr;
  int ldb = 0;
  void* d = nullptr;
  int ldd = 0;
  cudaDataType_t ab_type = CUDA_R_32F;  // A and B
  cudaDataType_t d_type = CUDA_R_32F;   // C = D
  float alpha = 1.0f;
  float beta = 0.0f;                    // 1 accumulates into D
  const void* bias = nullptr;           // (m) of d_type, or null
};

void gemm(const GemmCall& g, const Context& ctx);

// The cudaDataType_t of float and bf16 (ft::bf16 or __nv_bfloat16).
template <class T>
constexpr cudaDataType_t cuda_type() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, ft::bf16> || std::is_same_v<T, __nv_bfloat16>);
  return std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_16BF;
}

}  // namespace ft::cuda
