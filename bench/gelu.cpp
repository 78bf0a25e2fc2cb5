// GELU (exact erf), forward and backward, on the intermediate activation (N, F), at the shapes and
// with the arguments of tests/cases/gelu.h (bytes moved per call are counted there).
// Memory-bound: the counter is GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/gelu.h"

namespace ft::bench {
namespace {

using cases::BackendBuffers;
using cases::GeluCase;

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, const GeluCase& c) {
  BackendBuffers<Real> b(be);
  const GeluForwardArgs<Real> a = cases::gelu_forward_args<Real>(c, b);
  run_timed(st, be, [&] { be.gelu_forward(a); }, Measure::Bytes, cases::gelu_forward_bytes<Real>(c));
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, const GeluCase& c) {
  BackendBuffers<Real> b(be);
  const GeluBackwardArgs<Real> a = cases::gelu_backward_args<Real>(c, b);
  run_timed(st, be, [&] { be.gelu_backward(a); }, Measure::Bytes, cases::gelu_backward_bytes<Real>(c));
}

void register_cases(bool cuda) {
  for (const cases::GeluBenchShape& s : cases::gelu_bench_shapes()) {
    const GeluCase c = s.gelu_case();
    const bool cpu = s.N <= 4096;
    register_backends("gelu_fwd", s.args(), cuda,
                      [=]<class R>(benchmark::State& st, Backend<R>& be) { forward(st, be, c); }, cpu);
    register_backends("gelu_bwd", s.args(), cuda,
                      [=]<class R>(benchmark::State& st, Backend<R>& be) { backward(st, be, c); }, cpu);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
