// The CUDA side of ftengine's checked-error family (core/error.h): every CUDA runtime, cuBLAS,
// cuBLASLt and cuDNN call goes through one of these, and every kernel launch is followed by
// FT_CUDA_CHECK_LAUNCH(), so a failure names the expression, file and line.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/error.h"

namespace ft::cuda {
const char* cublas_status_name(cublasStatus_t status);
}  // namespace ft::cuda

#define FT_CUDA_CHECK(expr)                                                                      \
  do {                                                                                           \
    const cudaError_t ft_err_ = (expr);                                                          \
    if (ft_err_ != cudaSuccess) [[unlikely]]                                                     \
      ::ft::detail::throw_error(::ft::detail::concat("CUDA call failed: ", #expr, ": ",          \
                                                     cudaGetErrorString(ft_err_)),               \
                                __FILE__, __LINE__);                                             \
  } while (0)

#define FT_CUDA_CHECK_LAUNCH() FT_CUDA_CHECK(cudaGetLastError())

#define FT_CUBLAS_CHECK(expr)                                                                    \
  do {                                                                                           \
    const cublasStatus_t ft_st_ = (expr);                                                        \
    if (ft_st_ != CUBLAS_STATUS_SUCCESS) [[unlikely]]                                            \
      ::ft::detail::throw_error(::ft::detail::concat("cuBLAS call failed: ", #expr, ": ",        \
                                                     ::ft::cuda::cublas_status_name(ft_st_)),    \
                                __FILE__, __LINE__);                                             \
  } while (0)
