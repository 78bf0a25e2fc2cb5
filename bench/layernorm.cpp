// LayerNorm forward (with the residual add, as in every encoder layer) and backward, at the shapes
// and with the arguments of tests/cases/layernorm.h (bytes moved per call are counted there).
// Memory-bound: the counter is GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/layernorm.h"

namespace ft::bench {
namespace {

using cases::BackendBuffers;
using cases::LayerNormCase;

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, const LayerNormCase& c) {
  BackendBuffers<Real> b(be);
  const LayerNormForwardArgs<Real> a = cases::layernorm_forward_args<Real>(c, b);
  run_timed(st, be, [&] { be.layernorm_forward(a); }, Measure::Bytes, cases::layernorm_forward_bytes<Real>(c));
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, const LayerNormCase& c) {
  BackendBuffers<Real> b(be);
  const LayerNormBackwardArgs<Real> a = cases::layernorm_backward_args<Real>(c, b);
  run_timed(st, be, [&] { be.layernorm_backward(a); }, Measure::Bytes, cases::layernorm_backward_bytes<Real>(c));
}

void register_cases(bool cuda) {
  for (const LayerNormCase& c : cases::layernorm_bench_shapes()) {
    const std::string args = "N=" + std::to_string(c.N) + ",C=" + std::to_string(c.C);
    const bool cpu = c.N <= 4096;
    register_backends("layernorm_fwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { forward(s, be, c); }, cpu);
    register_backends("layernorm_bwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { backward(s, be, c); }, cpu);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
