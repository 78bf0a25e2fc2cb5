// LayerNorm of one row, forward and backward; shared by layernorm.cpp and embedding.cpp.
//
// Statistics are accumulated in double (two passes: mean, then the biased variance of x - mean,
// as torch) and stored as stat_t<Real>. The forward normalises with the stored (rounded) mean and
// rstd, the same values the backward reads, so forward and backward see one function.
// Row sums use eight interleaved accumulators (lane = column mod 8) combined in a fixed order, so
// they vectorise and stay deterministic.
#pragma once

namespace ft::cpu {

// out = (x - mean) * rstd * gamma + beta over C columns; writes the row's mean and rstd.
void layernorm_row_forward(const float* x, const float* gamma, const float* beta, int C, float eps, float* out,
                           float* mean, float* rstd);
void layernorm_row_forward(const double* x, const double* gamma, const double* beta, int C, float eps, double* out,
                           double* mean, double* rstd);

// din = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dout * gamma, xhat = (x - mean) * rstd.
// din is written (or added to with accumulate) when non-null; dgamma_partial += dout * xhat and
// dbeta_partial += dout when non-null (double, C each).
void layernorm_row_backward(const float* x, const float* gamma, float mean, float rstd, const float* dout, int C,
                            float* din, bool accumulate, double* dgamma_partial, double* dbeta_partial);
void layernorm_row_backward(const double* x, const double* gamma, double mean, double rstd, const double* dout, int C,
                            double* din, bool accumulate, double* dgamma_partial, double* dbeta_partial);

}  // namespace ft::cpu
