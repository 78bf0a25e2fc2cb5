// Stand-ins for the library calls the CUDA launchers make (cuBLASLt's GEMM, CUB's radix sort), for
// the emulated tests of the ops that use them (linear, pooler, embedding). Each checks its arguments
// the way the library would and computes the plain result on the host.
#pragma once

#include <algorithm>
#include <numeric>
#include <vector>

#include "cuda/gemm.cuh"
#include "cuda/sort_rows.cuh"

namespace ft::cuda {

// D (m x n, ldd) = alpha op(A) op(B) + beta D + bias, column-major, as cuBLASLt; fp64 accumulation.
void gemm(const GemmCall& g, const Context&) {
  if (g.m == 0 || g.n == 0) return;
  const bool an = g.ta == CUBLAS_OP_N, bn = g.tb == CUBLAS_OP_N;
  if (g.k <= 0 || g.lda < (an ? g.m : g.k) || g.ldb < (bn ? g.k : g.n) || g.ldd < g.m)
    ::ft::cuda::emu::fail("gemm: a leading dimension smaller than its matrix");
  auto load = [](const void* p, cudaDataType_t t, int64_t i) -> double {
    return t == CUDA_R_32F ? static_cast<const float*>(p)[i]
                           : static_cast<double>(__bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]));
  };
  for (int j = 0; j < g.n; ++j)
    for (int i = 0; i < g.m; ++i) {
      double acc = 0.0;
      for (int p = 0; p < g.k; ++p) {
        const int64_t ia = an ? i + static_cast<int64_t>(p) * g.lda : p + static_cast<int64_t>(i) * g.lda;
        const int64_t ib = bn ? p + static_cast<int64_t>(j) * g.ldb : j + static_cast<int64_t>(p) * g.ldb;
        acc += load(g.a, g.ab_type, ia) * load(g.b, g.ab_type, ib);
      }
      const int64_t at = i + static_cast<int64_t>(j) * g.ldd;
      double v = g.alpha * acc;
      if (g.beta != 0.0f) v += g.beta * load(g.d, g.d_type, at);
      if (g.bias) v += load(g.bias, g.d_type, i);
      if (g.d_type == CUDA_R_32F) static_cast<float*>(g.d)[at] = static_cast<float>(v);
      else static_cast<__nv_bfloat16*>(g.d)[at] = __float2bfloat16_rn(static_cast<float>(v));
    }
}

size_t sort_rows_temp_bytes(int, int) { return 16; }

void sort_rows_by_key(void*, size_t, const uint32_t* keys_in, uint32_t* keys_out, const int32_t* rows_in,
                      int32_t* rows_out, int n, int end_bit, cudaStream_t) {
  std::vector<int> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  for (int i = 0; i < n; ++i)
    if (end_bit < 32 && (keys_in[i] >> end_bit) != 0) ::ft::cuda::emu::fail("sort key above end_bit");
  std::stable_sort(idx.begin(), idx.end(), [&](int x, int y) { return keys_in[x] < keys_in[y]; });
  for (int i = 0; i < n; ++i) {
    keys_out[i] = keys_in[idx[i]];
    rows_out[i] = rows_in[idx[i]];
  }
}

}  // namespace ft::cuda
