// pooler: pooled = tanh(hidden[:, 0] W^T + b), HF's BertPooler. The first token of each sequence
// is read in place (row stride T*C); d tanh(z)/dz = 1 - tanh(z)^2 is taken from the saved output.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/blas.h"
#include "core/cpu/ops.h"
#include "core/cpu/parallel.h"

namespace ft::cpu {

template <class Real>
void pooler_forward(const PoolerForwardArgs<Real>& a) {
  const int B = a.B, C = a.C;
  const int ldh = a.T * C;  // hidden[b, 0] is row b of a (B, C) matrix with stride T*C
  if (B == 0) return;
  for (int b = 0; b < B; ++b) std::copy(a.b, a.b + C, a.pooled + static_cast<int64_t>(b) * C);
  // pooled (B, C) += h0 (B, C) W^T, W (C, C)
  gemm(Trans::No, Trans::Yes, B, C, C, Real(1), a.hidden, ldh, a.w, C, Real(1), a.pooled, C);
  for (int64_t i = 0; i < static_cast<int64_t>(B) * C; ++i) a.pooled[i] = std::tanh(a.pooled[i]);
}

template <class Real>
void pooler_backward(const PoolerBackwardArgs<Real>& a) {
  const int B = a.B, T = a.T, C = a.C;
  const int ldh = T * C;
  if (B == 0) return;
  std::vector<Real> dz(static_cast<size_t>(B) * C);  // (B, C) gradient before tanh
  for (int64_t i = 0; i < static_cast<int64_t>(B) * C; ++i)
    dz[i] = a.dpooled[i] * (Real(1) - a.pooled[i] * a.pooled[i]);
  if (a.dhidden) {
    // rows t > 0 take no gradient; rows t = 0: dz W
    std::fill(a.dhidden, a.dhidden + static_cast<int64_t>(B) * T * C, Real(0));
    gemm(Trans::No, Trans::No, B, C, C, Real(1), dz.data(), C, a.w, C, Real(0), a.dhidden, ldh);
  }
  // dW (C, C) += dz^T (C, B) h0 (B, C)
  if (a.dw) gemm(Trans::Yes, Trans::No, C, C, B, Real(1), dz.data(), C, a.hidden, ldh, Real(1), a.dw, C);
  if (a.db) accumulate_column_sums(dz.data(), B, C, C, a.db);
}

template void pooler_forward<float>(const PoolerForwardArgs<float>&);
template void pooler_forward<double>(const PoolerForwardArgs<double>&);
template void pooler_backward<float>(const PoolerBackwardArgs<float>&);
template void pooler_backward<double>(const PoolerBackwardArgs<double>&);

}  // namespace ft::cpu
