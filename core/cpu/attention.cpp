// attention: per (b, h), out = dropout(softmax(q k^T * scale + mask)) v, keys j >= lengths[b]
// masked (probability exactly 0, as HF's additive finfo.min mask gives). q, k, v are read in place
// from qkv (B, T, 3C) with leading dimension 3C. The forward saves only the logsumexp of each score
// row; the backward recomputes the probabilities from qkv and lse (docs/ops.md has the derivation).
//
// Threads: OpenMP over the B*H (b, h) pairs, each running single-threaded OpenBLAS GEMMs on its own
// scratch. Multithreaded GEMMs called one pair at a time would leave the softmax rows (a third of
// the time) serial and split GEMMs too small to split well; docs/ops.md has the profile.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu/blas.h"
#include "core/cpu/dropout_mask.h"
#include "core/cpu/ops.h"
#include "core/cpu/vector_math.h"
#include "core/error.h"

namespace ft::cpu {

namespace {

void check_lengths(const char* op, const int32_t* lengths, int B, int T) {
  for (int b = 0; b < B; ++b)
    FT_CHECK(lengths[b] >= 1 && lengths[b] <= T, op, ": lengths[", b, "] = ", lengths[b],
             " is outside 1..T (T = ", T, ")");
}

// Below this many multiply-adds (B * H * T * T * D) a parallel region costs more than it saves.
constexpr int64_t kParallelWork = 1 << 16;

int64_t attention_work(int B, int H, int T, int D) { return static_cast<int64_t>(B) * H * T * T * D; }

// The row loops, compiled per vector ISA. float uses the vectorised exp_f32, double libm.
inline float exp_of(float x) { return exp_f32(x); }
inline double exp_of(double x) { return std::exp(x); }

constexpr int kLanes = 16;

// row (L) = softmax(row) in place; returns the row's logsumexp (in double).
template <class Real>
inline double softmax_row_impl(Real* row, int L) {
  Real lane_max[kLanes];
  for (int l = 0; l < kLanes; ++l) lane_max[l] = row[0];
  int j = 0;
  for (; j + kLanes <= L; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_max[l] = std::max(lane_max[l], row[j + l]);
  for (; j < L; ++j) lane_max[0] = std::max(lane_max[0], row[j]);
  Real mx = lane_max[0];
  for (int l = 1; l < kLanes; ++l) mx = std::max(mx, lane_max[l]);
#pragma omp simd
  for (int c = 0; c < L; ++c) row[c] = exp_of(row[c] - mx);
  double lane_sum[kLanes] = {};
  j = 0;
  for (; j + kLanes <= L; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_sum[l] += static_cast<double>(row[j + l]);
  for (; j < L; ++j) lane_sum[0] += static_cast<double>(row[j]);
  double sum = 0.0;
  for (int l = 0; l < kLanes; ++l) sum += lane_sum[l];
  const Real inv = static_cast<Real>(1.0 / sum);
  for (int c = 0; c < L; ++c) row[c] *= inv;
  return static_cast<double>(mx) + std::log(sum);
}

// row (L) = exp(row - lse): the probabilities again, from the saved logsumexp.
template <class Real>
inline void exp_row_impl(Real* row, int L, Real lse) {
#pragma omp simd
  for (int c = 0; c < L; ++c) row[c] = exp_of(row[c] - lse);
}

// g (L) = p * (g * m - di), or p * (g - di) without a mask: dS from dP' (docs/ops.md).
template <class Real>
inline void score_grad_row_impl(Real* g, const Real* p, const Real* m, int L, Real di) {
  if (m) {
    for (int c = 0; c < L; ++c) g[c] = p[c] * (g[c] * m[c] - di);
  } else {
    for (int c = 0; c < L; ++c) g[c] = p[c] * (g[c] - di);
  }
}

FT_CPU_VECTOR_CLONES double softmax_row(float* row, int L) { return softmax_row_impl(row, L); }
FT_CPU_VECTOR_CLONES double softmax_row(double* row, int L) { return softmax_row_impl(row, L); }
FT_CPU_VECTOR_CLONES void exp_row(float* row, int L, float lse) { exp_row_impl(row, L, lse); }
FT_CPU_VECTOR_CLONES void exp_row(double* row, int L, double lse) { exp_row_impl(row, L, lse); }
FT_CPU_VECTOR_CLONES void score_grad_row(float* g, const float* p, const float* m, int L, float di) {
  score_grad_row_impl(g, p, m, L, di);
}
FT_CPU_VECTOR_CLONES void score_grad_row(double* g, const double* p, const double* m, int L, double di) {
  score_grad_row_impl(g, p, m, L, di);
}

}  // namespace

template <class Real>
void attention_forward(const AttentionForwardArgs<Real>& a) {
  using Stat = stat_t<Real>;
  const int B = a.B, T = a.T, H = a.H, D = a.D, C = H * D, ld = 3 * C;
  if (B == 0 || T == 0 || H == 0) return;
  check_lengths("attention_forward", a.lengths, B, T);
  const Real scale = static_cast<Real>(a.scale);
  BlasThreadsScope blas_single(1);
#pragma omp parallel if (attention_work(B, H, T, D) > kParallelWork)
  {
    std::vector<Real> p(static_cast<size_t>(T) * T);  // (T, L) scores, then probabilities
#pragma omp for schedule(static)
    for (int bh = 0; bh < B * H; ++bh) {
      const int b = bh / H, h = bh % H, L = a.lengths[b];
      const Real* q = a.qkv + static_cast<int64_t>(b) * T * ld + h * D;  // (T, D), row stride ld
      const Real* k = q + C;                                              // (T, D), rows < L used
      const Real* v = q + 2 * C;                                          // (T, D), rows < L used
      // p (T, L) = scale * q k^T: HF's (q k^T) * scaling
      gemm(Trans::No, Trans::Yes, T, L, D, scale, q, ld, k, ld, Real(0), p.data(), L);
      for (int i = 0; i < T; ++i) {
        Real* row = p.data() + static_cast<int64_t>(i) * L;
        a.lse[static_cast<int64_t>(bh) * T + i] = static_cast<Stat>(softmax_row(row, L));
        if (a.dropout.active())
          apply_dropout(a.dropout, (static_cast<uint64_t>(bh) * T + i) * static_cast<uint64_t>(T), L, row);
      }
      // out (T, D) = p v, written into the (b, h) columns of out (B, T, C)
      gemm(Trans::No, Trans::No, T, D, L, Real(1), p.data(), L, v, ld, Real(0),
           a.out + static_cast<int64_t>(b) * T * C + h * D, C);
    }
  }
}

template <class Real>
void attention_backward(const AttentionBackwardArgs<Real>& a) {
  const int B = a.B, T = a.T, H = a.H, D = a.D, C = H * D, ld = 3 * C;
  if (B == 0 || T == 0 || H == 0) return;
  check_lengths("attention_backward", a.lengths, B, T);
  const Real scale = static_cast<Real>(a.scale);
  const bool dropout = a.dropout.active();
  BlasThreadsScope blas_single(1);
#pragma omp parallel if (attention_work(B, H, T, D) > kParallelWork)
  {
    std::vector<Real> p(static_cast<size_t>(T) * T);                  // (T, L) probabilities P
    std::vector<Real> g(static_cast<size_t>(T) * T);                  // (T, L) dO v^T, then dS
    std::vector<Real> m(dropout ? static_cast<size_t>(T) * T : 0);    // (T, L) mask multipliers
    std::vector<Real> pd(dropout ? static_cast<size_t>(T) * T : 0);   // (T, L) P after dropout
    std::vector<double> row_dot(static_cast<size_t>(T));               // (T) D_i = dO_i . O_i
#pragma omp for schedule(static)
    for (int bh = 0; bh < B * H; ++bh) {
      const int b = bh / H, h = bh % H, L = a.lengths[b];
      const int64_t qoff = static_cast<int64_t>(b) * T * ld + h * D;
      const int64_t ooff = static_cast<int64_t>(b) * T * C + h * D;
      const Real* q = a.qkv + qoff;  // (T, D), row stride ld; k at +C, v at +2C
      const Real* k = q + C;
      const Real* v = q + 2 * C;
      const Real* o = a.out + ooff;    // (T, D), row stride C
      const Real* dout = a.dout + ooff;
      Real* dq = a.dqkv + qoff;
      Real* dk = dq + C;
      Real* dv = dq + 2 * C;
      const stat_t<Real>* lse = a.lse + static_cast<int64_t>(bh) * T;

      // P = exp(scale * q k^T - lse), recomputed
      gemm(Trans::No, Trans::Yes, T, L, D, scale, q, ld, k, ld, Real(0), p.data(), L);
      for (int i = 0; i < T; ++i) exp_row(p.data() + static_cast<int64_t>(i) * L, L, static_cast<Real>(lse[i]));
      const Real* p_used = p.data();  // the probabilities that multiplied v in the forward
      if (dropout) {
        for (int i = 0; i < T; ++i)
          dropout_multipliers(a.dropout, (static_cast<uint64_t>(bh) * T + i) * static_cast<uint64_t>(T), L,
                              m.data() + static_cast<int64_t>(i) * L);
        for (int64_t e = 0; e < static_cast<int64_t>(T) * L; ++e) pd[e] = p[e] * m[e];
        p_used = pd.data();
      }
      // dv (L, D) = P'^T dO; padded key rows get 0
      gemm(Trans::Yes, Trans::No, L, D, T, Real(1), p_used, L, dout, C, Real(0), dv, ld);
      // g (T, L) = dO v^T = dP'
      gemm(Trans::No, Trans::Yes, T, L, D, Real(1), dout, C, v, ld, Real(0), g.data(), L);
      for (int i = 0; i < T; ++i) {
        double s = 0.0;
        for (int d = 0; d < D; ++d)
          s += static_cast<double>(dout[static_cast<int64_t>(i) * C + d]) * static_cast<double>(o[static_cast<int64_t>(i) * C + d]);
        row_dot[i] = s;
      }
      // dS = P * (dP - D_i), dP = dP' * mask
      for (int i = 0; i < T; ++i) {
        const int64_t off = static_cast<int64_t>(i) * L;
        score_grad_row(g.data() + off, p.data() + off, dropout ? m.data() + off : nullptr, L,
                       static_cast<Real>(row_dot[i]));
      }
      // dq (T, D) = scale * dS k;  dk (L, D) = scale * dS^T q
      gemm(Trans::No, Trans::No, T, D, L, scale, g.data(), L, k, ld, Real(0), dq, ld);
      gemm(Trans::Yes, Trans::No, L, D, T, scale, g.data(), L, q, ld, Real(0), dk, ld);
      for (int j = L; j < T; ++j) {
        std::fill(dk + static_cast<int64_t>(j) * ld, dk + static_cast<int64_t>(j) * ld + D, Real(0));
        std::fill(dv + static_cast<int64_t>(j) * ld, dv + static_cast<int64_t>(j) * ld + D, Real(0));
      }
    }
  }
}

template void attention_forward<float>(const AttentionForwardArgs<float>&);
template void attention_forward<double>(const AttentionForwardArgs<double>&);
template void attention_backward<float>(const AttentionBackwardArgs<float>&);
template void attention_backward<double>(const AttentionBackwardArgs<double>&);

}  // namespace ft::cpu
