// regression head and MSE loss: pred = dropout(pooled) w + b, loss = mean_b (pred - y)^2, HF's
// classifier Linear(C, 1) with MSELoss (num_labels = 1). B and C are small (a few thousand
// multiply-adds), so the loops are serial; sums are in double, in a fixed order.
#include <algorithm>
#include <vector>

#include "core/cpu/dropout_mask.h"
#include "core/cpu/ops.h"

namespace ft::cpu {

template <class Real>
void regression_head_forward(const RegressionHeadForwardArgs<Real>& a) {
  using Stat = stat_t<Real>;
  const int B = a.B, C = a.C;
  std::vector<Real> x(static_cast<size_t>(C));  // (C) one row of dropout(pooled)
  double sq = 0.0;
  for (int b = 0; b < B; ++b) {
    std::copy(a.pooled + static_cast<int64_t>(b) * C, a.pooled + static_cast<int64_t>(b + 1) * C, x.begin());
    if (a.dropout.active()) apply_dropout(a.dropout, static_cast<uint64_t>(b) * C, C, x.data());
    double dot = 0.0;
    for (int c = 0; c < C; ++c) dot += static_cast<double>(x[c]) * static_cast<double>(a.w[c]);
    const Stat pred = static_cast<Stat>(static_cast<Real>(dot) + a.b[0]);
    a.pred[b] = pred;
    if (a.targets) {
      const double diff = static_cast<double>(pred) - static_cast<double>(a.targets[b]);
      sq += diff * diff;
    }
  }
  if (a.targets && a.loss) *a.loss = static_cast<Stat>(sq / B);
}

template <class Real>
void regression_head_backward(const RegressionHeadBackwardArgs<Real>& a) {
  using Stat = stat_t<Real>;
  const int B = a.B, C = a.C;
  // dpred_b = (2 / B) * (pred_b - y_b) * loss_scale, torch's mse_loss_backward order
  std::vector<Stat> dpred(static_cast<size_t>(B));  // (B)
  const Stat norm = static_cast<Stat>(2.0 / B);
  for (int b = 0; b < B; ++b) dpred[b] = norm * (a.pred[b] - a.targets[b]) * static_cast<Stat>(a.loss_scale);
  if (a.db) {
    double s = 0.0;
    for (int b = 0; b < B; ++b) s += static_cast<double>(dpred[b]);
    a.db[0] += static_cast<Real>(s);
  }
  std::vector<Real> x(static_cast<size_t>(C));  // (C) one row of dropout(pooled), or the mask
  std::vector<double> dw(a.dw ? static_cast<size_t>(C) : 0, 0.0);  // (C) sum over b in order
  for (int b = 0; b < B; ++b) {
    const Real g = static_cast<Real>(dpred[b]);
    if (a.dw) {
      std::copy(a.pooled + static_cast<int64_t>(b) * C, a.pooled + static_cast<int64_t>(b + 1) * C, x.begin());
      if (a.dropout.active()) apply_dropout(a.dropout, static_cast<uint64_t>(b) * C, C, x.data());
      for (int c = 0; c < C; ++c) dw[c] += static_cast<double>(g) * static_cast<double>(x[c]);
    }
    if (a.dpooled) {
      Real* dp = a.dpooled + static_cast<int64_t>(b) * C;
      for (int c = 0; c < C; ++c) dp[c] = g * a.w[c];
      if (a.dropout.active()) apply_dropout(a.dropout, static_cast<uint64_t>(b) * C, C, dp);
    }
  }
  if (a.dw)
    for (int c = 0; c < C; ++c) a.dw[c] += static_cast<Real>(dw[c]);
}

template void regression_head_forward<float>(const RegressionHeadForwardArgs<float>&);
template void regression_head_forward<double>(const RegressionHeadForwardArgs<double>&);
template void regression_head_backward<float>(const RegressionHeadBackwardArgs<float>&);
template void regression_head_backward<double>(const RegressionHeadBackwardArgs<double>&);

}  // namespace ft::cpu
