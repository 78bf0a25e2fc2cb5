// GELU (exact erf), forward and backward, on the intermediate activation (N, F).
//
// Napkin math, s = sizeof(Real), n = N F elements per call:
//   forward:  read x, write y:        2 n s bytes
//   backward: read x, dy; write dx:   3 n s bytes
// erf and exp cost ~30 instructions per element, below the bandwidth limit on A100/H100: the
// counter is GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, int64_t n) {
  auto x = random_buffer<Real>(be, n, 1, -4.0f, 4.0f);
  BackendBuffer<Real, Real> y(be, n);
  GeluForwardArgs<Real> a;
  a.n = n;
  a.x = x.get();
  a.y = y.get();
  run_timed(st, be, [&] { be.gelu_forward(a); }, Measure::Bytes, 2.0 * n * sizeof(Real));
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, int64_t n) {
  auto x = random_buffer<Real>(be, n, 1, -4.0f, 4.0f), dy = random_buffer<Real>(be, n, 2);
  BackendBuffer<Real, Real> dx(be, n);
  GeluBackwardArgs<Real> a;
  a.n = n;
  a.x = x.get();
  a.dy = dy.get();
  a.dx = dx.get();
  run_timed(st, be, [&] { be.gelu_backward(a); }, Measure::Bytes, 3.0 * n * sizeof(Real));
}

void register_cases(bool cuda) {
  for (auto [N, F] : {std::pair{4096, 3072}, std::pair{16384, 3072}}) {
    const int64_t n = static_cast<int64_t>(N) * F;
    const std::string args = "N=" + std::to_string(N) + ",F=" + std::to_string(F);
    const bool cpu = N <= 4096;
    register_backends("gelu_fwd", args, cuda, [=]<class R>(benchmark::State& s, Backend<R>& be) { forward(s, be, n); },
                      cpu);
    register_backends("gelu_bwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { backward(s, be, n); }, cpu);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
