// LayerNorm forward (with the residual add, as in every encoder layer) and backward, at the shapes
// and with the arguments of tests/cases/layernorm.h (bytes moved per call are counted there).
// Memory-bound: the counter is GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/layernorm.h"

namespace ft::bench {
namespace {

void register_cases(bool cuda) {
  for (const cases::LayerNormCase& c : cases::layernorm_bench_shapes()) {
    const std::string args = "N=" + std::to_string(c.N) + ",C=" + std::to_string(c.C);
    register_backends("layernorm_fwd", args, cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::layernorm_forward_args<R, cases::BackendBuffers<R>>,
                &Backend<R>::layernorm_forward, Measure::Bytes, cases::layernorm_forward_bytes<R>(c));
    }, c.N <= 4096);
    register_backends("layernorm_bwd", args, cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::layernorm_backward_args<R, cases::BackendBuffers<R>>,
                &Backend<R>::layernorm_backward, Measure::Bytes, cases::layernorm_backward_bytes<R>(c));
    }, c.N <= 4096);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
