// linear: y = x W^T + b (PyTorch's nn.Linear), and its backward. GEMMs are OpenBLAS's, called
// outside any OpenMP region so that OpenBLAS uses all of its threads.
#include <algorithm>

#include "core/cpu/blas.h"
#include "core/cpu/ops.h"
#include "core/cpu/parallel.h"

namespace ft::cpu {

template <class Real>
void linear_forward(const LinearForwardArgs<Real>& a) {
  if (a.N == 0 || a.out == 0) return;
  Real beta = 0;
  if (a.b) {
    // y starts as the bias in every row and the GEMM adds x W^T (what torch's addmm does).
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(a.N) * a.out > 32768)
    for (int r = 0; r < a.N; ++r) std::copy(a.b, a.b + a.out, a.y + static_cast<int64_t>(r) * a.out);
    beta = 1;
  }
  // y (N, out) = x (N, in) * W^T, W is (out, in)
  gemm(Trans::No, Trans::Yes, a.N, a.out, a.in, Real(1), a.x, a.in, a.w, a.in, beta, a.y, a.out);
}

template <class Real>
void linear_backward(const LinearBackwardArgs<Real>& a) {
  if (a.N == 0) return;
  if (a.dx) {
    // dx (N, in) = dy (N, out) * W (out, in)
    if (a.out == 0) {
      if (!a.dx_accumulate) std::fill(a.dx, a.dx + static_cast<int64_t>(a.N) * a.in, Real(0));
    } else {
      gemm(Trans::No, Trans::No, a.N, a.in, a.out, Real(1), a.dy, a.out, a.w, a.in, Real(a.dx_accumulate ? 1 : 0),
           a.dx, a.in);
    }
  }
  // dW (out, in) += dy^T (out, N) * x (N, in)
  if (a.dw && a.out > 0 && a.in > 0)
    gemm(Trans::Yes, Trans::No, a.out, a.in, a.N, Real(1), a.dy, a.out, a.x, a.in, Real(1), a.dw, a.in);
  // db (out) += column sums of dy
  if (a.db) accumulate_column_sums(a.dy, a.N, a.out, a.out, a.db);
}

template void linear_forward<float>(const LinearForwardArgs<float>&);
template void linear_forward<double>(const LinearForwardArgs<double>&);
template void linear_backward<float>(const LinearBackwardArgs<float>&);
template void linear_backward<double>(const LinearBackwardArgs<double>&);

}  // namespace ft::cpu
