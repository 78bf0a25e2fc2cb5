// layernorm forward and backward: the CUDA backend against the CPU backend (tests/support/parity.h
// for the method and the tolerances). Shapes cover the register-cached vector path (C <= 1024,
// C % 8 == 0), the uncached vector path (C > 1024), the scalar path (odd C, misaligned pointers),
// the residual add, din accumulation and null gradient pointers.
#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

struct Shape {
  int N, C;
};

std::vector<Shape> shapes() {
  if (test::quick_mode()) return {{3, 7}, {5, 64}, {2, 1040}};
  return {{1, 7}, {5, 33}, {64, 128}, {37, 384}, {300, 768}, {9, 1000}, {17, 1024}, {4, 1030}, {11, 1536}, {3, 4100}};
}

// mean and rstd of each row (fp64, then rounded to fp32: the saved statistics are fp32 on every
// backend that the device tests run).
void row_stats(const std::vector<double>& x, int N, int C, float eps, std::vector<double>& mean,
               std::vector<double>& rstd) {
  mean.assign(N, 0.0);
  rstd.assign(N, 0.0);
  for (int r = 0; r < N; ++r) {
    double s = 0.0;
    for (int c = 0; c < C; ++c) s += x[static_cast<size_t>(r) * C + c];
    const double m = s / C;
    double q = 0.0;
    for (int c = 0; c < C; ++c) q += (x[static_cast<size_t>(r) * C + c] - m) * (x[static_cast<size_t>(r) * C + c] - m);
    mean[r] = static_cast<float>(m);
    rstd[r] = static_cast<float>(1.0 / std::sqrt(q / C + eps));
  }
}

// offset: elements by which every pointer is moved off its 16-byte alignment (0 or 1).
template <class DevReal>
void check_forward(Shape s, bool residual, int offset, uint64_t seed) {
  const int N = s.N, C = s.C;
  const size_t n = static_cast<size_t>(N) * C;
  using test::round_to;
  // Inputs with a non-zero mean per row, so that mean and variance both matter.
  const auto x = round_to<DevReal>(test::random_values(n, seed, -1.0, 3.0));
  const auto res = round_to<DevReal>(test::random_values(n, seed + 1, -2.0, 2.0));
  const auto gamma = round_to<DevReal>(test::random_values(C, seed + 2, 0.5, 1.5));
  const auto beta = round_to<DevReal>(test::random_values(C, seed + 3, -0.5, 0.5));
  const float eps = 1e-12f;
  auto pad = [&](const std::vector<double>& v) {  // prepend `offset` elements
    std::vector<double> p(offset, 0.25);
    p.insert(p.end(), v.begin(), v.end());
    return p;
  };
  auto run = [&]<class R>(Backend<R>& be) {
    using Stat = stat_t<R>;
    Dev<R> d(be);
    LayerNormForwardArgs<R> a;
    a.N = N;
    a.C = C;
    a.x = d.template upload<R>(pad(x)) + offset;
    a.residual = residual ? d.template upload<R>(pad(res)) + offset : nullptr;
    a.gamma = d.template upload<R>(pad(gamma)) + offset;
    a.beta = d.template upload<R>(pad(beta)) + offset;
    a.eps = eps;
    a.sum = residual ? d.template nan<R>(n + offset) + offset : nullptr;
    a.out = d.template nan<R>(n + offset) + offset;
    a.mean = d.template nan<Stat>(N);
    a.rstd = d.template nan<Stat>(N);
    be.layernorm_forward(a);
    Outputs o{d.real("out", a.out, n), d.fp32("mean", a.mean, N), d.fp32("rstd", a.rstd, N)};
    if (residual) o.push_back(d.real("sum", a.sum, n));
    return o;
  };
  // A plain bf16 implementation stores x + residual as bf16 and normalises that.
  auto plain = [&] {
    std::vector<double> sum(n);
    for (size_t i = 0; i < n; ++i) sum[i] = residual ? test::round_to<bf16>(x[i] + res[i]) : x[i];
    auto cpu = make_backend<float>(DeviceSpec{});
    Dev<float> d(*cpu);
    LayerNormForwardArgs<float> a;
    a.N = N;
    a.C = C;
    a.x = d.upload<float>(sum);
    a.gamma = d.upload<float>(gamma);
    a.beta = d.upload<float>(beta);
    a.eps = eps;
    a.out = d.nan<float>(n);
    a.mean = d.nan<float>(N);
    a.rstd = d.nan<float>(N);
    cpu->layernorm_forward(a);
    Outputs o{d.real("out", a.out, n), d.fp32("mean", a.mean, N), d.fp32("rstd", a.rstd, N)};
    if (residual) o.push_back({"sum", sum, test::Stored::Real});
    return o;
  };
  const std::string what = "layernorm_forward N=" + std::to_string(N) + " C=" + std::to_string(C) +
                           (residual ? " +residual" : "") + (offset ? " misaligned" : "");
  test::expect_parity_with_plain<DevReal>(what, run, plain);
}

enum class Grads { All, DinOnly, ParamsOnly };

template <class DevReal>
void check_backward(Shape s, bool accumulate, Grads grads, int offset, uint64_t seed) {
  const int N = s.N, C = s.C;
  const size_t n = static_cast<size_t>(N) * C;
  using test::round_to;
  const auto in = round_to<DevReal>(test::random_values(n, seed, -1.0, 3.0));
  const auto gamma = round_to<DevReal>(test::random_values(C, seed + 1, 0.5, 1.5));
  const auto dout = round_to<DevReal>(test::random_values(n, seed + 2));
  const auto din0 = round_to<DevReal>(test::random_values(n, seed + 3));
  const auto dgamma0 = round_to<DevReal>(test::random_values(C, seed + 4));
  const auto dbeta0 = round_to<DevReal>(test::random_values(C, seed + 5));
  std::vector<double> mean, rstd;
  row_stats(in, N, C, 1e-12f, mean, rstd);
  const bool want_din = grads != Grads::ParamsOnly, want_params = grads != Grads::DinOnly;
  auto pad = [&](const std::vector<double>& v) {
    std::vector<double> p(offset, 0.25);
    p.insert(p.end(), v.begin(), v.end());
    return p;
  };
  auto run = [&]<class R>(Backend<R>& be) {
    using Stat = stat_t<R>;
    Dev<R> d(be);
    LayerNormBackwardArgs<R> a;
    a.N = N;
    a.C = C;
    a.in = d.template upload<R>(pad(in)) + offset;
    a.gamma = d.template upload<R>(pad(gamma)) + offset;
    a.mean = d.template upload<Stat>(mean);
    a.rstd = d.template upload<Stat>(rstd);
    a.dout = d.template upload<R>(pad(dout)) + offset;
    if (want_din)
      a.din = (accumulate ? d.template upload<R>(pad(din0)) : d.template nan<R>(n + offset)) + offset;
    a.din_accumulate = accumulate;
    if (want_params) {
      a.dgamma = d.template upload<R>(pad(dgamma0)) + offset;
      a.dbeta = d.template upload<R>(pad(dbeta0)) + offset;
    }
    be.layernorm_backward(a);
    Outputs o;
    if (want_din) o.push_back(d.real("din", a.din, n));
    if (want_params) {
      o.push_back(d.real("dgamma", a.dgamma, C));
      o.push_back(d.real("dbeta", a.dbeta, C));
    }
    return o;
  };
  const char* g = grads == Grads::All ? "" : grads == Grads::DinOnly ? " din-only" : " params-only";
  const std::string what = "layernorm_backward N=" + std::to_string(N) + " C=" + std::to_string(C) +
                           (accumulate ? " +=" : "") + g + (offset ? " misaligned" : "");
  test::expect_parity<DevReal>(what, run);
}

template <class DevReal>
void forward_cases() {
  uint64_t seed = 100;
  for (Shape s : shapes())
    for (bool residual : {false, true}) check_forward<DevReal>(s, residual, 0, ++seed);
  check_forward<DevReal>({13, 256}, true, 1, ++seed);
}

template <class DevReal>
void backward_cases() {
  uint64_t seed = 200;
  for (Shape s : shapes()) check_backward<DevReal>(s, false, Grads::All, 0, ++seed);
  check_backward<DevReal>({29, 384}, true, Grads::All, 0, ++seed);
  check_backward<DevReal>({29, 384}, false, Grads::DinOnly, 0, ++seed);
  check_backward<DevReal>({29, 384}, false, Grads::ParamsOnly, 0, ++seed);
  check_backward<DevReal>({13, 256}, true, Grads::All, 1, ++seed);
}

TEST(ParityLayerNorm, ForwardFp32) {
  FT_REQUIRE_DEVICE(float);
  forward_cases<float>();
}
TEST(ParityLayerNorm, ForwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  forward_cases<bf16>();
}
TEST(ParityLayerNorm, BackwardFp32) {
  FT_REQUIRE_DEVICE(float);
  backward_cases<float>();
}
TEST(ParityLayerNorm, BackwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  backward_cases<bf16>();
}

// Many rows (several row-strides of the fixed backward grid) and two identical runs: same bits.
TEST(ParityLayerNorm, BackwardDeterministic) {
  FT_REQUIRE_DEVICE(float);
  const int N = test::quick_mode() ? 700 : 9000, C = 768;
  const size_t n = static_cast<size_t>(N) * C;
  const auto in = test::random_values(n, 7), gamma = test::random_values(C, 8), dout = test::random_values(n, 9);
  const auto dgamma0 = test::random_values(C, 10), dbeta0 = test::random_values(C, 11);
  std::vector<double> mean, rstd;
  row_stats(in, N, C, 1e-12f, mean, rstd);
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    LayerNormBackwardArgs<R> a;
    a.N = N;
    a.C = C;
    a.in = d.template upload<R>(in);
    a.gamma = d.template upload<R>(gamma);
    a.mean = d.template upload<stat_t<R>>(mean);
    a.rstd = d.template upload<stat_t<R>>(rstd);
    a.dout = d.template upload<R>(dout);
    a.din = d.template nan<R>(n);
    a.dgamma = d.template upload<R>(dgamma0);
    a.dbeta = d.template upload<R>(dbeta0);
    be.layernorm_backward(a);
    return Outputs{d.real("din", a.din, n), d.real("dgamma", a.dgamma, C), d.real("dbeta", a.dbeta, C)};
  };
  test::expect_deterministic<float>("layernorm_backward N=9000 C=768", run);
  test::expect_parity<float>("layernorm_backward N=9000 C=768", run);
}

}  // namespace
}  // namespace ft
