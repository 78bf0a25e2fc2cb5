// LayerNorm of one row (layernorm_row.h), compiled per vector ISA (vector_math.h).
#include "core/cpu/layernorm_row.h"

#include <array>
#include <cmath>

#include "core/cpu/vector_math.h"

namespace ft::cpu {

namespace {

constexpr int kLanes = 8;

// Sums of K quantities f(c) (a std::array<double, K>) over c < C in double, each in eight
// interleaved lanes added pairwise at the end.
template <int K, class F>
inline std::array<double, K> lane_sums(int C, F f) {
  double lane[K][kLanes] = {};
  auto add = [&](int c, int l) {
    const std::array<double, K> v = f(c);
    for (int k = 0; k < K; ++k) lane[k][l] += v[k];
  };
  int c = 0;
  for (; c + kLanes <= C; c += kLanes)
    for (int l = 0; l < kLanes; ++l) add(c + l, l);
  for (; c < C; ++c) add(c, c % kLanes);
  std::array<double, K> sums;
  for (int k = 0; k < K; ++k) {
    const double* x = lane[k];
    sums[k] = ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
  }
  return sums;
}

template <class F>
inline double lane_sum(int C, F f) {
  return lane_sums<1>(C, [&](int c) { return std::array<double, 1>{f(c)}; })[0];
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
  // One pass for both sums: sum_c g and sum_c g * xhat, g = dout * gamma.
  const double m = static_cast<double>(mean), r = static_cast<double>(rstd);
  const auto [sum_g, sum_gx] = lane_sums<2>(C, [&](int c) {
    const double g = static_cast<double>(dout[c]) * static_cast<double>(gamma[c]);
    return std::array<double, 2>{g, g * ((static_cast<double>(x[c]) - m) * r)};
  });
  const Real mean_g = static_cast<Real>(sum_g / C), mean_gx = static_cast<Real>(sum_gx / C);
  if (accumulate) {
    for (int c = 0; c < C; ++c) din[c] += rstd * (dout[c] * gamma[c] - mean_g - (x[c] - mean) * rstd * mean_gx);
  } else {
    for (int c = 0; c < C; ++c) din[c] = rstd * (dout[c] * gamma[c] - mean_g - (x[c] - mean) * rstd * mean_gx);
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
