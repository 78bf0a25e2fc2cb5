// LayerNorm forward (with the residual add, as in every encoder layer) and backward.
//
// Napkin math, s = sizeof(Real), per call on (N, C):
//   forward:  read x, residual; write sum, out: 4 N C s; + mean, rstd: 8 N   (gamma, beta: cached)
//   backward: read in, dout; write din: 3 N C s; + mean, rstd: 8 N; dgamma/dbeta partials are
//             (blocks x 2C) fp32, negligible next to the rows
// Memory-bound: the counter is GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, int N, int C) {
  using Stat = stat_t<Real>;
  const int64_t n = static_cast<int64_t>(N) * C;
  auto x = random_buffer<Real>(be, n, 1), res = random_buffer<Real>(be, n, 2);
  auto gamma = random_buffer<Real>(be, C, 3), beta = random_buffer<Real>(be, C, 4);
  BackendBuffer<Real, Real> sum(be, n), out(be, n);
  BackendBuffer<Stat, Real> mean(be, N), rstd(be, N);
  LayerNormForwardArgs<Real> a;
  a.N = N;
  a.C = C;
  a.x = x.get();
  a.residual = res.get();
  a.gamma = gamma.get();
  a.beta = beta.get();
  a.sum = sum.get();
  a.out = out.get();
  a.mean = mean.get();
  a.rstd = rstd.get();
  const double bytes = 4.0 * n * sizeof(Real) + 8.0 * N;
  run_timed(st, be, [&] { be.layernorm_forward(a); }, Measure::Bytes, bytes);
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, int N, int C) {
  using Stat = stat_t<Real>;
  const int64_t n = static_cast<int64_t>(N) * C;
  auto in = random_buffer<Real>(be, n, 1), dout = random_buffer<Real>(be, n, 2);
  auto gamma = random_buffer<Real>(be, C, 3);
  auto mean = random_buffer<Stat>(be, N, 4), rstd = random_buffer<Stat>(be, N, 5, 0.5f, 2.0f);
  BackendBuffer<Real, Real> din(be, n), dgamma(be, C), dbeta(be, C);
  LayerNormBackwardArgs<Real> a;
  a.N = N;
  a.C = C;
  a.in = in.get();
  a.gamma = gamma.get();
  a.mean = mean.get();
  a.rstd = rstd.get();
  a.dout = dout.get();
  a.din = din.get();
  a.dgamma = dgamma.get();
  a.dbeta = dbeta.get();
  const double bytes = 3.0 * n * sizeof(Real) + 8.0 * N;
  run_timed(st, be, [&] { be.layernorm_backward(a); }, Measure::Bytes, bytes);
}

void register_cases(bool cuda) {
  for (auto [N, C] : {std::pair{4096, 768}, std::pair{16384, 768}, std::pair{4096, 384}}) {
    const std::string args = "N=" + std::to_string(N) + ",C=" + std::to_string(C);
    const bool cpu = N <= 4096;
    register_backends("layernorm_fwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { forward(s, be, N, C); }, cpu);
    register_backends("layernorm_bwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { backward(s, be, N, C); }, cpu);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
