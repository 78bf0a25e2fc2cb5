// layernorm's cases, once: shapes per mode, how each input is drawn, which buffer is which argument
// (tests/cases/buffers.h). Used by gradcheck_layernorm, parity_layernorm, emulated_layernorm and
// bench/layernorm.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/buffers.h"

namespace ft::cases {

struct LayerNormCase {
  int N = 0, C = 0;
  bool residual = true;     // forward: normalise x + residual (as every encoder layer does)
  bool accumulate = false;  // backward: din +=
  bool din = true;          // backward: din asked for
  bool params = true;       // backward: dgamma, dbeta asked for

  std::string forward_name() const { return "layernorm_forward " + shape_name({{"N", N}, {"C", C}}) + (residual ? " +residual" : ""); }
  std::string backward_name() const {
    return "layernorm_backward " + shape_name({{"N", N}, {"C", C}}) + (accumulate ? " din+=" : "") +
           (din ? "" : " no-din") + (params ? "" : " no-params");
  }
  size_t n() const { return static_cast<size_t>(N) * C; }
};

// ---- shapes

// Small enough to perturb every element; 200 rows span several fixed reduction chunks (64 rows).
inline std::vector<LayerNormCase> layernorm_gradcheck_cases() { return {{5, 6}, {200, 7}}; }

// The register-cached vector path (C <= 1024, C % 8 == 0), the uncached one (C > 1024), the scalar
// path (odd C).
inline std::vector<LayerNormCase> layernorm_parity_shapes(bool quick) {
  if (quick) return {{3, 7}, {5, 64}, {2, 1040}};
  return {{1, 7}, {5, 33}, {64, 128}, {37, 384}, {300, 768}, {9, 1000}, {17, 1024}, {4, 1030}, {11, 1536}, {3, 4100}};
}

// The emulator runs every thread of every block on the CPU: fewer, smaller shapes, one per path.
inline std::vector<LayerNormCase> layernorm_emulated_shapes() { return {{5, 33}, {37, 384}, {6, 1040}, {3, 1030}}; }

// BERT-base and MiniLM rows (B x T = 8 x 512, 32 x 512).
inline std::vector<LayerNormCase> layernorm_bench_shapes() { return {{4096, 768}, {16384, 768}, {4096, 384}}; }

// ---- inputs and arguments

inline constexpr float kLayerNormEps = 1e-12f;

// Inputs with a non-zero mean per row, so that mean and variance both matter.
template <class R, class Buffers>
LayerNormForwardArgs<R> layernorm_forward_args(const LayerNormCase& c, Buffers& b) {
  using Stat = stat_t<R>;
  return {.N = c.N, .C = c.C,
          .x = b.template in<R>("x", c.n(), {-1, 3}),
          .residual = c.residual ? b.template in<R>("residual", c.n(), {-2, 2}) : nullptr,
          .gamma = b.template in<R>("gamma", c.C, {0.5, 1.5}),
          .beta = b.template in<R>("beta", c.C, {-0.5, 0.5}),
          .eps = kLayerNormEps,
          .sum = c.residual ? b.template out<R>("sum", c.n()) : nullptr,
          .out = b.template out<R>("out", c.n()),
          .mean = b.template out<Stat>("mean", c.N),
          .rstd = b.template out<Stat>("rstd", c.N)};
}

// mean and rstd of each row in fp64, rounded to fp32 (the statistics are fp32 on every backend a
// device test runs).
inline void layernorm_row_stats(const std::vector<double>& x, int N, int C, std::vector<double>& mean,
                                std::vector<double>& rstd) {
  mean.assign(N, 0.0);
  rstd.assign(N, 0.0);
  for (int r = 0; r < N; ++r) {
    const double* row = x.data() + static_cast<size_t>(r) * C;
    double s = 0.0;
    for (int k = 0; k < C; ++k) s += row[k];
    const double m = s / C;
    double q = 0.0;
    for (int k = 0; k < C; ++k) q += (row[k] - m) * (row[k] - m);
    mean[r] = static_cast<float>(m);
    rstd[r] = static_cast<float>(1.0 / std::sqrt(q / C + kLayerNormEps));
  }
}

// A backward on its own: a drawn input and the statistics of that input.
template <class R, class Buffers>
LayerNormBackwardArgs<R> layernorm_backward_args(const LayerNormCase& c, Buffers& b) {
  using Stat = stat_t<R>;
  const R* in = b.template in<R>("in", c.n(), {-1, 3});
  std::vector<double> mean, rstd;
  layernorm_row_stats(b.values("in"), c.N, c.C, mean, rstd);
  return {.N = c.N, .C = c.C,
          .in = in,
          .gamma = b.template in<R>("gamma", c.C, {0.5, 1.5}),
          .mean = b.template put<Stat>("mean", mean),
          .rstd = b.template put<Stat>("rstd", rstd),
          .dout = b.template in<R>("dout", c.n()),
          .din = !c.din ? nullptr : c.accumulate ? b.template acc<R>("din", c.n()) : b.template out<R>("din", c.n()),
          .din_accumulate = c.accumulate,
          .dgamma = c.params ? b.template acc<R>("dgamma", c.C) : nullptr,
          .dbeta = c.params ? b.template acc<R>("dbeta", c.C) : nullptr};
}

// The backward of a forward that just ran, as the model chains them: its input (the sum with a
// residual), gamma and saved statistics.
template <class R>
void chain_layernorm_backward(LayerNormBackwardArgs<R>& bwd, const LayerNormForwardArgs<R>& fwd) {
  bwd.in = fwd.residual ? fwd.sum : fwd.x;
  bwd.gamma = fwd.gamma;
  bwd.mean = fwd.mean;
  bwd.rstd = fwd.rstd;
}

// What the benchmark moves per call, s = sizeof(R): forward reads x, residual and writes sum, out
// (4 N C s) plus mean, rstd (8 N); backward reads in, dout and writes din (3 N C s) plus the
// statistics; gamma, beta and the dgamma/dbeta partials are negligible next to the rows.
template <class R>
double layernorm_forward_bytes(const LayerNormCase& c) {
  return 4.0 * static_cast<double>(c.n()) * sizeof(R) + 8.0 * c.N;
}
template <class R>
double layernorm_backward_bytes(const LayerNormCase& c) {
  return 3.0 * static_cast<double>(c.n()) * sizeof(R) + 8.0 * c.N;
}

}  // namespace ft::cases
