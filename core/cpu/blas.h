// Row-major GEMM for float and double through OpenBLAS, and control of OpenBLAS's own threads.
//
// OpenBLAS is normally its OpenMP build (CMakeLists.txt): a GEMM called outside an OpenMP region uses
// OpenMP's threads, one called inside a region runs on the calling thread, and there is one thread
// pool. With the pthreads build (Debian's default) OpenBLAS keeps its own pool beside OpenMP's; the
// ops then either call a multithreaded GEMM from outside any OpenMP region (linear, pooler), or run
// their own OpenMP region and call GEMM inside it with OpenBLAS held single-threaded (attention), so
// the two pools never oversubscribe the cores. docs/ops.md says which op does which and why.
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

// OpenBLAS built on OpenMP (openblas_get_parallel() == 2): one thread pool, OpenMP's.
inline bool blas_on_openmp() { return openblas_get_parallel() == 2; }

// Holds the pthreads build of OpenBLAS at `threads` threads for a scope (set from outside any OpenMP
// region: the setting is global to the process), restoring the previous count afterwards. A no-op
// on the OpenMP build, which needs none of it: there openblas_set_num_threads would set OpenMP's own
// thread count and so shrink the very region the scope is opened for.
class BlasThreadsScope {
 public:
  explicit BlasThreadsScope(int threads) : active_(!blas_on_openmp()), previous_(openblas_get_num_threads()) {
    if (active_ && threads != previous_) openblas_set_num_threads(threads);
  }
  ~BlasThreadsScope() {
    if (active_ && openblas_get_num_threads() != previous_) openblas_set_num_threads(previous_);
  }
  BlasThreadsScope(const BlasThreadsScope&) = delete;
  BlasThreadsScope& operator=(const BlasThreadsScope&) = delete;

 private:
  bool active_;
  int previous_;
};

}  // namespace ft::cpu
