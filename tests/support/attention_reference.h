// The references and tolerances of the attention parity checks, shared by tests/parity_attention.cpp
// (the CUDA backend on a GPU against the CPU backend) and tests/emulated_attention.cpp (the same CUDA
// kernel source run on the CPU by an emulator); the cases are tests/cases/attention.h.
//
// An implementation under test is two functions on host vectors (Impl); it poisons its outputs
// with NaN before the op, so an element it never writes shows up as non-finite.
//
// Tolerances.
//  fp32: the implementation and the CPU float backend compute the same sums in fp32 in different
//   orders (the longest is a dot product over D <= 128 terms or a sum over T <= 513 keys or queries)
//   and different exp implementations (exp2 vs exp, a few ulp). Rounding errors of random sign
//   grow like the square root of the number of terms: ~sqrt(D + T) * 2^-24 ~ 1.5e-6 of the terms'
//   magnitude (the worst case, every error aligned, would be (D + T) * 2^-24 ~ 4e-5, which random
//   inputs do not produce); the emulated kernels measure <= 1.4e-6. The check is
//   max |x - ref| <= 1e-5 * scale (7x margin), where scale is the largest |ref| of the tensor group (out; lse;
//   dq, dk and dv together, since the three gradients are sums of the same products: a gradient
//   that cancels to ~0, as dq does with one real key, is judged on the group's scale).
//   The CUDA fp32 path has no TF32 (plain FMA), so this holds there.
//  bf16: "within twice the error of a plain bf16 implementation". The plain implementation here is
//   what eager PyTorch does in bf16 (Hugging Face's eager attention): every matmul output, the
//   scaled scores, the probabilities and each gradient are rounded to bf16, with fp32 accumulation
//   and the softmax computed in fp32. Both are compared with an fp64 reference on the same
//   bf16-rounded inputs; errors are max |x - ref| / scale as above. The implementation passes if
//   its error is at most 2 * max(plain error, 2^-9): 2^-9 is the rounding of the largest output
//   element to bf16, an error no bf16 result can avoid (it matters only where the plain
//   implementation is exact by cancellation, e.g. a single real key).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "core/dtype.h"
#include "core/ops.h"
#include "core/philox.h"
#include "tests/cases/attention.h"
#include "tests/support/random.h"

namespace ft::test::attention {

using Case = cases::AttentionCase;

inline std::string case_name(const Case& c) { return c.full_name(); }

// The implementation under test, on host vectors of floats (bf16 implementations take and give
// bf16-representable values). It must poison its outputs before running.
struct Impl {
  // (B, T, 3C) -> out (B, T, C), lse (B, H, T)
  std::function<void(const Case&, const std::vector<float>& qkv, std::vector<float>& out, std::vector<float>& lse)>
      forward;
  // -> dqkv (B, T, 3C)
  std::function<void(const Case&, const std::vector<float>& qkv, const std::vector<float>& out,
                     const std::vector<float>& lse, const std::vector<float>& dout, std::vector<float>& dqkv)>
      backward;
};

// ---- the CPU backend's op (Real = float: the oracle; double: the fp64 reference)

template <class Real>
void cpu_forward(const Case& c, const std::vector<Real>& qkv, std::vector<Real>& out, std::vector<Real>& lse) {
  out = poisoned_vector<Real>(c.out_size());
  lse = poisoned_vector<Real>(c.lse_size());
  cpu::attention_forward(cases::attention_forward_args<Real>(c, qkv.data(), c.lengths.data(), out.data(), lse.data()));
}

template <class Real>
void cpu_backward(const Case& c, const std::vector<Real>& qkv, const std::vector<Real>& out,
                  const std::vector<Real>& lse, const std::vector<Real>& dout, std::vector<Real>& dqkv) {
  dqkv = poisoned_vector<Real>(c.qkv_size());
  cpu::attention_backward(cases::attention_backward_args<Real>(c, qkv.data(), c.lengths.data(), out.data(), lse.data(),
                                                               dout.data(), dqkv.data()));
}

// ---- the plain bf16 implementation (eager PyTorch in bf16), for the error budget of bf16

inline float round_bf16(float x) { return bf16::from_float(x).to_float(); }

inline std::vector<float> rounded_bf16(const std::vector<float>& v) {
  std::vector<float> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = round_bf16(v[i]);
  return r;
}

// Per (b, h): scores, fp32 softmax probabilities y, bf16 probabilities and their dropped version.
struct PlainHead {
  std::vector<float> y, p, pd;  // (T, L)
  std::vector<float> keep;      // (T, L) mask multipliers (bf16 of 1/(1-p)) or 1
};

inline PlainHead plain_head(const Case& c, const std::vector<float>& qkv, int b, int h, float* lse_row) {
  const int T = c.T, D = c.D, C = c.C(), L = c.lengths[b];
  const int64_t ld = 3 * static_cast<int64_t>(C);
  const float* q = qkv.data() + static_cast<int64_t>(b) * T * ld + h * D;
  const float* k = q + C;
  const DropoutSpec d = c.dropout();
  const float drop_scale = round_bf16(1.0f / (1.0f - d.p));
  PlainHead r;
  r.y.assign(static_cast<size_t>(T) * L, 0.0f);
  r.p = r.y; r.pd = r.y; r.keep.assign(r.y.size(), 1.0f);
  for (int i = 0; i < T; ++i) {
    std::vector<float> s(L);
    float mx = -INFINITY;
    for (int j = 0; j < L; ++j) {
      float acc = 0.0f;
      for (int e = 0; e < D; ++e) acc += q[i * ld + e] * k[j * ld + e];
      s[j] = round_bf16(round_bf16(acc) * round_bf16(c.scale()));  // (q k^T) in bf16, times scaling in bf16
      mx = std::max(mx, s[j]);
    }
    double sum = 0.0;
    for (int j = 0; j < L; ++j) sum += std::exp(static_cast<double>(s[j] - mx));
    if (lse_row) lse_row[i] = static_cast<float>(mx + std::log(sum));
    const uint64_t base = ((static_cast<uint64_t>(b) * c.H + h) * T + i) * static_cast<uint64_t>(T);
    for (int j = 0; j < L; ++j) {
      const size_t e = static_cast<size_t>(i) * L + j;
      r.y[e] = static_cast<float>(std::exp(static_cast<double>(s[j] - mx)) / sum);  // fp32 softmax
      r.p[e] = round_bf16(r.y[e]);                                                  // .to(bf16)
      if (d.active()) r.keep[e] = dropout_keep(d.seed, d.stream, d.step, base + j, d.p) ? drop_scale : 0.0f;
      r.pd[e] = round_bf16(r.p[e] * r.keep[e]);
    }
  }
  return r;
}

inline void plain_bf16_forward(const Case& c, const std::vector<float>& qkv, std::vector<float>& out,
                               std::vector<float>& lse) {
  const int T = c.T, D = c.D, C = c.C();
  const int64_t ld = 3 * static_cast<int64_t>(C);
  out.assign(c.out_size(), 0.0f);
  lse.assign(c.lse_size(), 0.0f);
  for (int b = 0; b < c.B; ++b)
    for (int h = 0; h < c.H; ++h) {
      const int L = c.lengths[b];
      const PlainHead ph = plain_head(c, qkv, b, h, lse.data() + (static_cast<int64_t>(b) * c.H + h) * T);
      const float* v = qkv.data() + static_cast<int64_t>(b) * T * ld + 2 * C + h * D;
      for (int i = 0; i < T; ++i)
        for (int e = 0; e < D; ++e) {
          float acc = 0.0f;
          for (int j = 0; j < L; ++j) acc += ph.pd[static_cast<size_t>(i) * L + j] * v[j * ld + e];
          out[(static_cast<int64_t>(b) * T + i) * C + h * D + e] = round_bf16(acc);
        }
    }
}

inline void plain_bf16_backward(const Case& c, const std::vector<float>& qkv, const std::vector<float>& dout,
                                std::vector<float>& dqkv) {
  const int T = c.T, D = c.D, C = c.C();
  const int64_t ld = 3 * static_cast<int64_t>(C);
  const float scale_bf = round_bf16(c.scale());
  dqkv.assign(c.qkv_size(), 0.0f);
  for (int b = 0; b < c.B; ++b)
    for (int h = 0; h < c.H; ++h) {
      const int L = c.lengths[b];
      const PlainHead ph = plain_head(c, qkv, b, h, nullptr);
      const int64_t off = static_cast<int64_t>(b) * T * ld + h * D;
      const float *q = qkv.data() + off, *k = q + C, *v = q + 2 * C;
      const float* g = dout.data() + static_cast<int64_t>(b) * T * C + h * D;  // rows C apart
      float *dq = dqkv.data() + off, *dk = dq + C, *dv = dq + 2 * C;
      std::vector<float> ds(static_cast<size_t>(T) * L);  // bf16 grad of the scaled scores, times scaling
      for (int i = 0; i < T; ++i) {
        std::vector<float> dp(L);
        double dot = 0.0;
        for (int j = 0; j < L; ++j) {
          float acc = 0.0f;
          for (int e = 0; e < D; ++e) acc += g[i * C + e] * v[j * ld + e];
          const size_t idx = static_cast<size_t>(i) * L + j;
          dp[j] = round_bf16(round_bf16(acc) * ph.keep[idx]);  // dO v^T in bf16, dropout backward in bf16
          dot += static_cast<double>(ph.y[idx]) * dp[j];
        }
        for (int j = 0; j < L; ++j) {
          const size_t idx = static_cast<size_t>(i) * L + j;
          const float dsf = ph.y[idx] * (dp[j] - static_cast<float>(dot));  // fp32 softmax backward
          ds[idx] = round_bf16(round_bf16(dsf) * scale_bf);
        }
      }
      for (int i = 0; i < T; ++i)
        for (int e = 0; e < D; ++e) {
          float acc = 0.0f;
          for (int j = 0; j < L; ++j) acc += ds[static_cast<size_t>(i) * L + j] * k[j * ld + e];
          dq[i * ld + e] = round_bf16(acc);
        }
      for (int j = 0; j < T; ++j)
        for (int e = 0; e < D; ++e) {
          float ak = 0.0f, av = 0.0f;
          if (j < L)
            for (int i = 0; i < T; ++i) {
              ak += ds[static_cast<size_t>(i) * L + j] * q[i * ld + e];
              av += ph.pd[static_cast<size_t>(i) * L + j] * g[i * C + e];
            }
          dk[j * ld + e] = round_bf16(ak);
          dv[j * ld + e] = round_bf16(av);
        }
    }
}

// ---- comparisons

// Columns [col0, col0 + width) of rows `stride` wide: the q, k or v third of qkv, or all of out.
struct Part {
  std::string name;
  int col0 = 0, width = 0, stride = 0;
};

template <class A>
double max_abs(const std::vector<A>& v, const Part& part) {
  double m = 0.0;
  for (size_t r = 0; r < v.size() / part.stride; ++r)
    for (int c = part.col0; c < part.col0 + part.width; ++c)
      m = std::max(m, std::fabs(static_cast<double>(v[r * part.stride + c])));
  return m;
}

// max |x - ref| over the part, and the number of non-finite elements of x.
template <class A, class R>
double max_error(const std::vector<A>& x, const std::vector<R>& ref, const Part& part, size_t* nonfinite,
                 size_t* worst) {
  double m = 0.0;
  *nonfinite = 0;
  *worst = 0;
  for (size_t r = 0; r < ref.size() / part.stride; ++r)
    for (int c = part.col0; c < part.col0 + part.width; ++c) {
      const size_t i = r * part.stride + c;
      const double xv = static_cast<double>(x[i]);
      if (!std::isfinite(xv)) {
        ++*nonfinite;
        continue;
      }
      const double e = std::fabs(xv - static_cast<double>(ref[i]));
      if (e > m) {
        m = e;
        *worst = i;
      }
    }
  return m;
}

inline std::vector<Part> grad_parts(const Case& c) {
  const int C = c.C();
  return {{"dq", 0, C, 3 * C}, {"dk", C, C, 3 * C}, {"dv", 2 * C, C, 3 * C}};
}

// dk and dv of keys j >= lengths[b] must be exactly zero.
inline void expect_padded_keys_zero(const Case& c, const std::vector<float>& dqkv, const std::string& what) {
  const int C = c.C();
  size_t bad = 0;
  for (int b = 0; b < c.B; ++b)
    for (int j = c.lengths[b]; j < c.T; ++j)
      for (int e = C; e < 3 * C; ++e)
        if (dqkv[(static_cast<size_t>(b) * c.T + j) * 3 * C + e] != 0.0f) ++bad;
  EXPECT_EQ(bad, 0u) << what << ": dk/dv elements of padded keys that are not exactly 0";
}

inline void expect_bitwise_equal(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
      << what << ": two identical runs gave different bits";
}

inline std::vector<float> random_inputs(size_t n, uint64_t seed, double scale, bool bf16) {
  std::vector<float> v = random_vector<float>(n, seed, scale);
  return bf16 ? rounded_bf16(v) : v;
}

constexpr double kFp32Tolerance = 1e-5;
constexpr double kBf16Factor = 2.0;
constexpr double kBf16Floor = 1.0 / 512.0;  // 2^-9, rounding of the largest element to bf16

// fp32 implementation against the CPU float backend (see the top of this file).
inline void check_fp32(const Case& c, const Impl& impl, bool check_determinism = true) {
  SCOPED_TRACE(case_name(c));
  const auto qkv = random_inputs(c.qkv_size(), 1000 + c.T, c.input_scale, false);
  const auto dout = random_inputs(c.out_size(), 2000 + c.T, 1.0, false);
  std::vector<float> ref_out, ref_lse, ref_dqkv;
  cpu_forward<float>(c, qkv, ref_out, ref_lse);
  cpu_backward<float>(c, qkv, ref_out, ref_lse, dout, ref_dqkv);

  std::vector<float> out, lse, dqkv;
  impl.forward(c, qkv, out, lse);
  // The backward gets the oracle's out and lse, so that it is judged on its own error alone.
  impl.backward(c, qkv, ref_out, ref_lse, dout, dqkv);

  struct Check {
    const char* what;
    const std::vector<float>* x;
    const std::vector<float>* ref;
    std::vector<Part> parts;
  };
  const Part whole_out{"out", 0, c.C(), c.C()}, whole_lse{"lse", 0, c.T, c.T};
  const std::vector<Check> checks = {{"out", &out, &ref_out, {whole_out}},
                                     {"lse", &lse, &ref_lse, {whole_lse}},
                                     {"dqkv", &dqkv, &ref_dqkv, grad_parts(c)}};
  for (const Check& ch : checks) {
    double scale = 0.0;
    for (const Part& part : ch.parts) scale = std::max(scale, max_abs(*ch.ref, part));
    for (const Part& part : ch.parts) {
      size_t nonfinite = 0, worst = 0;
      const double err = max_error(*ch.x, *ch.ref, part, &nonfinite, &worst);
      std::printf("  %-4s fp32 max |x - cpu| / scale = %.3g (tolerance %.0e)\n", part.name.c_str(), err / scale,
                  kFp32Tolerance);
      EXPECT_EQ(nonfinite, 0u) << part.name << ": non-finite elements (unwritten?)";
      EXPECT_LE(err, kFp32Tolerance * scale)
          << part.name << ": max |x - cpu| = " << err << " at element " << worst << " (x " << (*ch.x)[worst]
          << ", cpu " << (*ch.ref)[worst] << "), scale " << scale;
    }
  }
  expect_padded_keys_zero(c, dqkv, "fp32");

  if (check_determinism) {
    std::vector<float> out2, lse2, dqkv2;
    impl.forward(c, qkv, out2, lse2);
    impl.backward(c, qkv, ref_out, ref_lse, dout, dqkv2);
    expect_bitwise_equal(out, out2, "out");
    expect_bitwise_equal(lse, lse2, "lse");
    expect_bitwise_equal(dqkv, dqkv2, "dqkv");
  }
}

// bf16 implementation: error against fp64 at most twice the plain bf16 implementation's.
inline void check_bf16(const Case& c, const Impl& impl, bool check_determinism = true) {
  SCOPED_TRACE(case_name(c));
  const auto qkv = random_inputs(c.qkv_size(), 1000 + c.T, c.input_scale, true);
  const auto dout = random_inputs(c.out_size(), 2000 + c.T, 1.0, true);

  // fp64 reference on the same bf16 values.
  const std::vector<double> qkv64(qkv.begin(), qkv.end()), dout64(dout.begin(), dout.end());
  std::vector<double> ref_out, ref_lse, ref_dqkv;
  cpu_forward<double>(c, qkv64, ref_out, ref_lse);
  cpu_backward<double>(c, qkv64, ref_out, ref_lse, dout64, ref_dqkv);

  std::vector<float> plain_out, plain_lse, plain_dqkv;
  plain_bf16_forward(c, qkv, plain_out, plain_lse);
  plain_bf16_backward(c, qkv, dout, plain_dqkv);

  // The implementation runs forward then backward on its own saved out and lse, as in training.
  std::vector<float> out, lse, dqkv;
  impl.forward(c, qkv, out, lse);
  impl.backward(c, qkv, out, lse, dout, dqkv);

  struct Check {
    const std::vector<float>* x;
    const std::vector<float>* plain;
    const std::vector<double>* ref;
    std::vector<Part> parts;
  };
  const Part whole_out{"out", 0, c.C(), c.C()}, whole_lse{"lse", 0, c.T, c.T};
  const std::vector<Check> checks = {{&out, &plain_out, &ref_out, {whole_out}},
                                     {&lse, &plain_lse, &ref_lse, {whole_lse}},
                                     {&dqkv, &plain_dqkv, &ref_dqkv, grad_parts(c)}};
  for (const Check& ch : checks) {
    double scale = 0.0;
    for (const Part& part : ch.parts) scale = std::max(scale, max_abs(*ch.ref, part));
    for (const Part& part : ch.parts) {
      size_t nonfinite = 0, worst = 0, plain_nonfinite = 0, plain_worst = 0;
      const double err = max_error(*ch.x, *ch.ref, part, &nonfinite, &worst) / scale;
      const double plain = max_error(*ch.plain, *ch.ref, part, &plain_nonfinite, &plain_worst) / scale;
      EXPECT_EQ(nonfinite, 0u) << part.name << ": non-finite elements (unwritten?)";
      ASSERT_EQ(plain_nonfinite, 0u) << part.name << ": the plain bf16 reference is not finite";
      EXPECT_LE(err, kBf16Factor * std::max(plain, kBf16Floor))
          << part.name << ": relative max error " << err << " at element " << worst << " (x " << (*ch.x)[worst]
          << ", fp64 " << (*ch.ref)[worst] << "), plain bf16 " << plain << ", scale " << scale;
      std::printf("  %-4s bf16 error %.3g, plain bf16 error %.3g (relative to %.3g)\n", part.name.c_str(), err, plain,
                  scale);
    }
  }
  expect_padded_keys_zero(c, dqkv, "bf16");

  if (check_determinism) {
    std::vector<float> out2, lse2, dqkv2;
    impl.forward(c, qkv, out2, lse2);
    impl.backward(c, qkv, out2, lse2, dout, dqkv2);
    expect_bitwise_equal(out, out2, "out");
    expect_bitwise_equal(lse, lse2, "lse");
    expect_bitwise_equal(dqkv, dqkv2, "dqkv");
  }
}

}  // namespace ft::test::attention
