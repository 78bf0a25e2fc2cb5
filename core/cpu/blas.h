// Row-major GEMM for float and double through OpenBLAS, and control of OpenBLAS's own threads.
//
// OpenBLAS (the pthreads build Debian ships) keeps its own thread pool beside OpenMP's. The ops
// either call a multithreaded GEMM from outside any OpenMP region (linear, pooler), or run their own
// OpenMP region and call GEMM inside it with OpenBLAS held single-threaded (attention), so the two
// pools never oversubscribe the cores. docs/ops.md says which op does which and why.
#pragma once

#include <cblas.h>

#include <cstdint>

namespace ft::cpu {

enum class Trans : bool { No = false, Yes = true };

// C (m x n) = alpha * op(A) op(B) + beta * C, all row-major with leading dimensions in elements;
// op(A) is (m x k), op(B) is (k x n).
inline void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                 int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta == Trans::Yes ? CblasTrans : CblasNoTrans, tb == Trans::Yes ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

inline void gemm(Trans ta, Trans tb, int m, int n, int k, double alpha, const double* a, int lda, const double* b,
                 int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, ta == Trans::Yes ? CblasTrans : CblasNoTrans, tb == Trans::Yes ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Holds OpenBLAS at `threads` threads for a scope (set from outside any OpenMP region: the setting
// is global to the process), restoring the previous count afterwards.
class BlasThreadsScope {
 public:
  explicit BlasThreadsScope(int threads) : previous_(openblas_get_num_threads()) {
    if (threads != previous_) openblas_set_num_threads(threads);
  }
  ~BlasThreadsScope() {
    if (openblas_get_num_threads() != previous_) openblas_set_num_threads(previous_);
  }
  BlasThreadsScope(const BlasThreadsScope&) = delete;
  BlasThreadsScope& operator=(const BlasThreadsScope&) = delete;

 private:
  int previous_;
};

}  // namespace ft::cpu
