// LayerNorm of one row (layernorm_row.h), compiled per vector ISA (vector_math.h).
#include "core/cpu/layernorm_row.h"

#include <cmath>

#include "core/cpu/vector_math.h"

namespace ft::cpu {

namespace {

constexpr int kLanes = 8;

// Sum of f(c) for c < C in double, eight interleaved lanes added pairwise at the end.
template <class F>
inline double lane_sum(int C, F f) {
  double lane[kLanes] = {};
  int c = 0;
  for (; c + kLanes <= C; c += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += f(c + l);
  for (; c < C; ++c) lane[c % kLanes] += f(c);
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

template <class Real>
inline void row_forward(const Real* x, const Real* gamma, const Real* beta, int C, float eps, Real* out, Real* mean_out,
                        Real* rstd_out) {
  const double mean_d = lane_sum(C, [&](int c) { return static_cast<double>(x[c]); }) / C;
  const double var = lane_sum(C, [&](int c) {
                       const double d = static_cast<double>(x[c]) - mean_d;
                       return d * d;
                     }) / C;  // biased, as torch.nn.LayerNorm
  const Real mean = static_cast<Real>(mean_d);
  const Real rstd = static_cast<Real>(1.0 / std::sqrt(var + static_cast<double>(eps)));
  *mean_out = mean;
  *rstd_out = rstd;
  for (int c = 0; c < C; ++c) out[c] = (x[c] - mean) * rstd * gamma[c] + beta[c];
}

template <class Real>
inline void row_backward(const Real* x, const Real* gamma, Real mean, Real rstd, const Real* dout, int C, Real* din,
                         bool accumulate, double* dgamma_partial, double* dbeta_partial) {
  if (dgamma_partial)
    for (int c = 0; c < C; ++c) dgamma_partial[c] += static_cast<double>(dout[c] * ((x[c] - mean) * rstd));
  if (dbeta_partial)
    for (int c = 0; c < C; ++c) dbeta_partial[c] += static_cast<double>(dout[c]);
  if (!din) return;
  // One pass for both sums: sum_c g and sum_c g * xhat, g = dout * gamma, in double lanes.
  const double m = static_cast<double>(mean), r = static_cast<double>(rstd);
  double lane_g[kLanes] = {}, lane_gx[kLanes] = {};
  auto add = [&](int c, int l) {
    const double g = static_cast<double>(dout[c]) * static_cast<double>(gamma[c]);
    lane_g[l] += g;
    lane_gx[l] += g * ((static_cast<double>(x[c]) - m) * r);
  };
  int c = 0;
  for (; c + kLanes <= C; c += kLanes)
    for (int l = 0; l < kLanes; ++l) add(c + l, l);
  for (; c < C; ++c) add(c, c % kLanes);
  const double sum_g = ((lane_g[0] + lane_g[1]) + (lane_g[2] + lane_g[3])) + ((lane_g[4] + lane_g[5]) + (lane_g[6] + lane_g[7]));
  const double sum_gx =
      ((lane_gx[0] + lane_gx[1]) + (lane_gx[2] + lane_gx[3])) + ((lane_gx[4] + lane_gx[5]) + (lane_gx[6] + lane_gx[7]));
  const Real mean_g = static_cast<Real>(sum_g / C), mean_gx = static_cast<Real>(sum_gx / C);
  if (accumulate) {
    for (int k = 0; k < C; ++k) din[k] += rstd * (dout[k] * gamma[k] - mean_g - (x[k] - mean) * rstd * mean_gx);
  } else {
    for (int k = 0; k < C; ++k) din[k] = rstd * (dout[k] * gamma[k] - mean_g - (x[k] - mean) * rstd * mean_gx);
  }
}

}  // namespace

FT_CPU_VECTOR_CLONES void layernorm_row_forward(const float* x, const float* gamma, const float* beta, int C, float eps,
                                                float* out, float* mean, float* rstd) {
  row_forward(x, gamma, beta, C, eps, out, mean, rstd);
}
FT_CPU_VECTOR_CLONES void layernorm_row_forward(const double* x, const double* gamma, const double* beta, int C,
                                                float eps, double* out, double* mean, double* rstd) {
  row_forward(x, gamma, beta, C, eps, out, mean, rstd);
}
FT_CPU_VECTOR_CLONES void layernorm_row_backward(const float* x, const float* gamma, float mean, float rstd,
                                                 const float* dout, int C, float* din, bool accumulate,
                                                 double* dgamma_partial, double* dbeta_partial) {
  row_backward(x, gamma, mean, rstd, dout, C, din, accumulate, dgamma_partial, dbeta_partial);
}
FT_CPU_VECTOR_CLONES void layernorm_row_backward(const double* x, const double* gamma, double mean, double rstd,
                                                 const double* dout, int C, double* din, bool accumulate,
                                                 double* dgamma_partial, double* dbeta_partial) {
  row_backward(x, gamma, mean, rstd, dout, C, din, accumulate, dgamma_partial, dbeta_partial);
}

}  // namespace ft::cpu
