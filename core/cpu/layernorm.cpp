// layernorm: sum = x + residual (when given); out = (sum - mean) * rstd * gamma + beta, per row of C
// (torch.nn.LayerNorm: biased variance, eps inside the square root). OpenMP over rows.
#include <algorithm>
#include <vector>

#include "core/cpu/layernorm_row.h"
#include "core/cpu/ops.h"
#include "core/cpu/parallel.h"
#include "core/error.h"

namespace ft::cpu {

template <class Real>
void layernorm_forward(const LayerNormForwardArgs<Real>& a) {
  FT_CHECK(!a.residual || a.sum, "layernorm_forward: a residual needs a sum buffer to save x + residual into");
  const int C = a.C;
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(a.N) * C > 16384)
  for (int r = 0; r < a.N; ++r) {
    const int64_t off = static_cast<int64_t>(r) * C;
    const Real* in = a.x + off;
    if (a.residual) {
      Real* s = a.sum + off;  // (C) x + residual
      for (int c = 0; c < C; ++c) s[c] = a.x[off + c] + a.residual[off + c];
      in = s;
    }
    layernorm_row_forward(in, a.gamma, a.beta, C, a.eps, a.out + off, a.mean + r, a.rstd + r);
  }
}

template <class Real>
void layernorm_backward(const LayerNormBackwardArgs<Real>& a) {
  const int C = a.C;
  const bool params = a.dgamma || a.dbeta;
  if (!params && !a.din) return;
  // Per-chunk partial sums of dgamma and dbeta (chunks, C) each, combined in chunk order.
  const int64_t chunks = ceil_div(a.N, kReduceRows);
  std::vector<double> dgamma_part(a.dgamma ? static_cast<size_t>(chunks * C) : 0, 0.0);
  std::vector<double> dbeta_part(a.dbeta ? static_cast<size_t>(chunks * C) : 0, 0.0);
#pragma omp parallel for schedule(static) if (static_cast<int64_t>(a.N) * C > 16384)
  for (int64_t k = 0; k < chunks; ++k) {
    double* dg = a.dgamma ? dgamma_part.data() + k * C : nullptr;
    double* db = a.dbeta ? dbeta_part.data() + k * C : nullptr;
    const int64_t r1 = std::min<int64_t>(a.N, (k + 1) * kReduceRows);
    for (int64_t r = k * kReduceRows; r < r1; ++r) {
      const int64_t off = r * C;
      layernorm_row_backward(a.in + off, a.gamma, a.mean[r], a.rstd[r], a.dout + off, C, a.din ? a.din + off : nullptr,
                             a.din_accumulate, dg, db);
    }
  }
  if (a.dgamma) accumulate_chunk_partials(dgamma_part, chunks, C, a.dgamma);
  if (a.dbeta) accumulate_chunk_partials(dbeta_part, chunks, C, a.dbeta);
}

template void layernorm_forward<float>(const LayerNormForwardArgs<float>&);
template void layernorm_forward<double>(const LayerNormForwardArgs<double>&);
template void layernorm_backward<float>(const LayerNormBackwardArgs<float>&);
template void layernorm_backward<double>(const LayerNormBackwardArgs<double>&);

}  // namespace ft::cpu
