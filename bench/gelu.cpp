// GELU (exact erf), forward and backward, on the intermediate activation (N, F), at the shapes and
// with the arguments of tests/cases/gelu.h (bytes moved per call are counted there).
// Memory-bound: the counter is GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/gelu.h"

namespace ft::bench {
namespace {

void register_cases(bool cuda) {
  for (const cases::GeluBenchShape& s : cases::gelu_bench_shapes()) {
    const cases::GeluCase c = s.gelu_case();
    register_backends("gelu_fwd", s.args(), cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::gelu_forward_args<R, cases::BackendBuffers<R>>, &Backend<R>::gelu_forward,
                Measure::Bytes, cases::gelu_forward_bytes<R>(c));
    }, s.N <= 4096);
    register_backends("gelu_bwd", s.args(), cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::gelu_backward_args<R, cases::BackendBuffers<R>>, &Backend<R>::gelu_backward,
                Measure::Bytes, cases::gelu_backward_bytes<R>(c));
    }, s.N <= 4096);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
