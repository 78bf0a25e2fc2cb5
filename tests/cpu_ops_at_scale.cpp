// Every op, forward and backward, at shapes big enough to use several threads, several reduction
// chunks and repeated embedding ids, with padding and dropout on:
//  - deterministic: the float results are bit-identical across runs and across OpenMP thread
//    counts (1 and 3). That holds by construction for ftengine's own loops (parallel.h: every
//    reduction has a fixed order) and for the GEMMs of Debian's pthreads OpenBLAS, whose own thread
//    count the OpenMP setting leaves alone. An OpenMP build of OpenBLAS splits its GEMMs by OpenMP's
//    thread count, and a split changes a row's kernel and so its rounding (docs/performance.md,
//    "Determinism"): there, outputs of multithreaded GEMMs are compared across runs only;
//  - the float instantiation computes the same function as the double one (which the gradient
//    checks verify): float results are within 1e-4 of the largest |double result| of each output.
//    Float rounding at these sizes (accumulations of at most 384 terms, unit roundoff 6e-8, most
//    row statistics accumulated in double) stays below ~1e-5 of that scale; a wrong float path
//    (a truncated index, a missing term, a wrong mask) is off by order 1.
#include <cblas.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <iostream>
#include <map>
#include <string>

#include "core/cpu/ops.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

using Outputs = std::map<std::string, std::vector<double>>;

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}
template <class T>
std::vector<double> widen(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}
// Random inputs that are exact in float, so both precisions see the same numbers.
std::vector<double> inputs(size_t n, uint64_t seed, double scale = 1.0) {
  auto v = random_vector<double>(n, seed, scale);
  for (auto& x : v) x = static_cast<float>(x);
  return v;
}
DropoutSpec dropout(uint32_t stream) {
  DropoutSpec d;
  d.p = 0.1f; d.seed = 2718; d.stream = stream; d.step = 4;
  return d;
}

template <class Real>
Outputs linear_op() {
  const int N = 200, in = 96, out = 40;
  auto x = cast<Real>(inputs(N * in, 501)), w = cast<Real>(inputs(out * in, 502, 0.2)), b = cast<Real>(inputs(out, 503));
  auto dy = cast<Real>(inputs(N * out, 504));
  auto y = poisoned_vector<Real>(N * out), dx = poisoned_vector<Real>(N * in);
  std::vector<Real> dw(out * in, Real(0)), db(out, Real(0));
  LinearForwardArgs<Real> f{N, in, out, x.data(), w.data(), b.data(), y.data()};
  cpu::linear_forward(f);
  LinearBackwardArgs<Real> g{N, in, out, x.data(), w.data(), dy.data(), dx.data(), false, dw.data(), db.data()};
  cpu::linear_backward(g);
  return {{"y", widen(y)}, {"dx", widen(dx)}, {"dw", widen(dw)}, {"db", widen(db)}};
}

template <class Real>
Outputs layernorm_op() {
  const int N = 300, C = 384;
  auto x = cast<Real>(inputs(N * C, 511, 3.0)), r = cast<Real>(inputs(N * C, 512, 3.0));
  auto gamma = cast<Real>(inputs(C, 513)), beta = cast<Real>(inputs(C, 514)), dout = cast<Real>(inputs(N * C, 515));
  auto sum = poisoned_vector<Real>(N * C), out = poisoned_vector<Real>(N * C), din = poisoned_vector<Real>(N * C);
  auto mean = poisoned_vector<stat_t<Real>>(N), rstd = poisoned_vector<stat_t<Real>>(N);
  std::vector<Real> dgamma(C, Real(0)), dbeta(C, Real(0));
  LayerNormForwardArgs<Real> f;
  f.N = N; f.C = C; f.x = x.data(); f.residual = r.data(); f.gamma = gamma.data(); f.beta = beta.data();
  f.sum = sum.data(); f.out = out.data(); f.mean = mean.data(); f.rstd = rstd.data();
  cpu::layernorm_forward(f);
  LayerNormBackwardArgs<Real> g;
  g.N = N; g.C = C; g.in = sum.data(); g.gamma = gamma.data(); g.mean = mean.data(); g.rstd = rstd.data();
  g.dout = dout.data(); g.din = din.data(); g.dgamma = dgamma.data(); g.dbeta = dbeta.data();
  cpu::layernorm_backward(g);
  return {{"out", widen(out)}, {"rstd", widen(rstd)}, {"din", widen(din)}, {"dgamma", widen(dgamma)},
          {"dbeta", widen(dbeta)}};
}

template <class Real>
Outputs gelu_dropout_op() {
  const int64_t n = 70001;
  auto x = cast<Real>(inputs(n, 521, 4.0)), dy = cast<Real>(inputs(n, 522));
  auto y = poisoned_vector<Real>(n), dx = poisoned_vector<Real>(n);
  GeluForwardArgs<Real> f{n, x.data(), y.data()};
  cpu::gelu_forward(f);
  GeluBackwardArgs<Real> g{n, x.data(), dy.data(), dx.data()};
  cpu::gelu_backward(g);
  DropoutArgs<Real> d{n, dropout(9), y.data()};
  cpu::dropout_forward(d);
  return {{"y", widen(y)}, {"dx", widen(dx)}};
}

template <class Real>
Outputs attention_op() {
  const int B = 5, T = 40, H = 3, D = 32, C = H * D;
  const std::vector<int32_t> lengths{40, 1, 17, 39, 2};
  auto qkv = cast<Real>(inputs(B * T * 3 * C, 531, 1.0)), dout = cast<Real>(inputs(B * T * C, 532));
  auto out = poisoned_vector<Real>(B * T * C), dqkv = poisoned_vector<Real>(B * T * 3 * C);
  auto lse = poisoned_vector<stat_t<Real>>(B * H * T);
  AttentionForwardArgs<Real> f;
  f.B = B; f.T = T; f.H = H; f.D = D; f.qkv = qkv.data(); f.lengths = lengths.data(); f.scale = 1.0f / std::sqrt(32.0f);
  f.dropout = dropout(10); f.out = out.data(); f.lse = lse.data();
  cpu::attention_forward(f);
  AttentionBackwardArgs<Real> g;
  g.B = B; g.T = T; g.H = H; g.D = D; g.qkv = qkv.data(); g.lengths = lengths.data(); g.scale = f.scale;
  g.dropout = f.dropout; g.out = out.data(); g.lse = lse.data(); g.dout = dout.data(); g.dqkv = dqkv.data();
  cpu::attention_backward(g);
  return {{"out", widen(out)}, {"lse", widen(lse)}, {"dqkv", widen(dqkv)}};
}

template <class Real>
Outputs embedding_op() {
  const int B = 6, T = 50, C = 96, vocab = 30, P = 64, types = 2;
  Rng rng(541);
  std::vector<int32_t> ids(B * T), tt(B * T);
  for (auto& i : ids) i = rng.integer(0, vocab - 1);  // 300 rows over 30 ids: many repeats
  for (auto& i : tt) i = rng.integer(0, types - 1);
  auto word = cast<Real>(inputs(vocab * C, 542)), pos = cast<Real>(inputs(P * C, 543));
  auto type = cast<Real>(inputs(types * C, 544)), gamma = cast<Real>(inputs(C, 545)), beta = cast<Real>(inputs(C, 546));
  auto dout = cast<Real>(inputs(B * T * C, 547));
  auto out = poisoned_vector<Real>(B * T * C);
  auto mean = poisoned_vector<stat_t<Real>>(B * T), rstd = poisoned_vector<stat_t<Real>>(B * T);
  std::vector<Real> dword(word.size(), Real(0)), dpos(pos.size(), Real(0)), dtype(type.size(), Real(0));
  std::vector<Real> dgamma(C, Real(0)), dbeta(C, Real(0));
  EmbeddingForwardArgs<Real> f;
  f.B = B; f.T = T; f.C = C; f.vocab = vocab; f.max_positions = P; f.type_vocab = types;
  f.input_ids = ids.data(); f.token_type_ids = tt.data(); f.word = word.data(); f.pos = pos.data();
  f.type = type.data(); f.gamma = gamma.data(); f.beta = beta.data(); f.dropout = dropout(11);
  f.out = out.data(); f.mean = mean.data(); f.rstd = rstd.data();
  cpu::embedding_forward(f);
  EmbeddingBackwardArgs<Real> g;
  g.B = B; g.T = T; g.C = C; g.vocab = vocab; g.max_positions = P; g.type_vocab = types;
  g.input_ids = ids.data(); g.token_type_ids = tt.data(); g.word = word.data(); g.pos = pos.data();
  g.type = type.data(); g.gamma = gamma.data(); g.beta = beta.data(); g.dropout = f.dropout;
  g.mean = mean.data(); g.rstd = rstd.data(); g.dout = dout.data(); g.dword = dword.data(); g.dpos = dpos.data();
  g.dtype = dtype.data(); g.dgamma = dgamma.data(); g.dbeta = dbeta.data();
  cpu::embedding_backward(g);
  return {{"out", widen(out)}, {"dword", widen(dword)}, {"dpos", widen(dpos)}, {"dtype", widen(dtype)},
          {"dgamma", widen(dgamma)}, {"dbeta", widen(dbeta)}};
}

template <class Real>
Outputs pooler_head_op() {
  const int B = 33, T = 5, C = 96;
  auto hidden = cast<Real>(inputs(B * T * C, 551)), w = cast<Real>(inputs(C * C, 552, 0.2)), b = cast<Real>(inputs(C, 553));
  auto hw = cast<Real>(inputs(C, 554, 0.3)), hb = cast<Real>(inputs(1, 555));
  auto targets = cast<stat_t<Real>>(inputs(B, 556, 2.0));
  auto pooled = poisoned_vector<Real>(B * C), dpooled = poisoned_vector<Real>(B * C);
  auto dhidden = poisoned_vector<Real>(B * T * C);
  auto pred = poisoned_vector<stat_t<Real>>(B), loss = poisoned_vector<stat_t<Real>>(1);
  std::vector<Real> dw(C * C, Real(0)), db(C, Real(0)), dhw(C, Real(0)), dhb(1, Real(0));
  PoolerForwardArgs<Real> pf{B, T, C, hidden.data(), w.data(), b.data(), pooled.data()};
  cpu::pooler_forward(pf);
  RegressionHeadForwardArgs<Real> hf;
  hf.B = B; hf.C = C; hf.pooled = pooled.data(); hf.w = hw.data(); hf.b = hb.data(); hf.dropout = dropout(12);
  hf.targets = targets.data(); hf.pred = pred.data(); hf.loss = loss.data();
  cpu::regression_head_forward(hf);
  RegressionHeadBackwardArgs<Real> hg;
  hg.B = B; hg.C = C; hg.pooled = pooled.data(); hg.w = hw.data(); hg.dropout = hf.dropout; hg.targets = targets.data();
  hg.pred = pred.data(); hg.loss_scale = 0.5f; hg.dpooled = dpooled.data(); hg.dw = dhw.data(); hg.db = dhb.data();
  cpu::regression_head_backward(hg);
  PoolerBackwardArgs<Real> pg{B, T, C, hidden.data(), w.data(), pooled.data(), dpooled.data(), dhidden.data(),
                              dw.data(), db.data()};
  cpu::pooler_backward(pg);
  return {{"pooled", widen(pooled)}, {"pred", widen(pred)}, {"loss", widen(loss)}, {"dhead_w", widen(dhw)},
          {"dhead_b", widen(dhb)}, {"dhidden", widen(dhidden)}, {"dw", widen(dw)}, {"db", widen(db)}};
}

template <class Real>
Outputs with_threads(int threads, Outputs (*op)()) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  Outputs o = op();
  omp_set_num_threads(saved);
  return o;
}

// OpenBLAS built on OpenMP (openblas_get_parallel() == 2) sizes its GEMM thread split by OpenMP's.
bool blas_threads_follow_openmp() { return openblas_get_parallel() == 2; }

// `gemm_threaded`: the op calls a multithreaded GEMM (outside any OpenMP region of its own).
void expect_deterministic_and_float_matches_double(Outputs (*op_float)(), Outputs (*op_double)(),
                                                   bool gemm_threaded = false) {
  const Outputs f1 = with_threads<float>(1, op_float);
  const Outputs f3 = with_threads<float>(3, op_float);
  const Outputs f3again = with_threads<float>(3, op_float);
  const Outputs d = op_double();
  for (const auto& [name, ref] : d) {
    const auto& fl = f1.at(name);
    if (!(gemm_threaded && blas_threads_follow_openmp())) {
      EXPECT_EQ(fl, f3.at(name)) << name << ": float results depend on the thread count";
    }
    EXPECT_EQ(f3.at(name), f3again.at(name)) << name << ": float results differ between runs";
    double scale = 0.0;
    for (double v : ref) scale = std::max(scale, std::fabs(v));
    ASSERT_GT(scale, 0.0) << name << " is all zeros";
    double worst = 0.0;
    for (size_t i = 0; i < ref.size(); ++i) {
      ASSERT_FALSE(std::isnan(fl[i])) << name << "[" << i << "] not written (NaN)";
      worst = std::max(worst, std::fabs(fl[i] - ref[i]));
    }
    std::cout << name << ": max |float - double| = " << worst / scale << " of the largest |value|\n";
    EXPECT_LE(worst, 1e-4 * scale) << name << ": float differs from double by " << worst << " (scale " << scale << ")";
  }
}

TEST(CpuOpsAtScale, Linear) { expect_deterministic_and_float_matches_double(linear_op<float>, linear_op<double>, true); }
TEST(CpuOpsAtScale, LayerNorm) { expect_deterministic_and_float_matches_double(layernorm_op<float>, layernorm_op<double>); }
TEST(CpuOpsAtScale, GeluAndDropout) {
  expect_deterministic_and_float_matches_double(gelu_dropout_op<float>, gelu_dropout_op<double>);
}
TEST(CpuOpsAtScale, Attention) { expect_deterministic_and_float_matches_double(attention_op<float>, attention_op<double>); }
TEST(CpuOpsAtScale, Embedding) { expect_deterministic_and_float_matches_double(embedding_op<float>, embedding_op<double>); }
TEST(CpuOpsAtScale, PoolerAndRegressionHead) {
  expect_deterministic_and_float_matches_double(pooler_head_op<float>, pooler_head_op<double>, true);
}

}  // namespace
}  // namespace ft::test
