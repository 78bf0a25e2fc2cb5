// pooler ([CLS] rows, dense C x C, tanh), forward and backward: one small GEMM per direction, at the
// shapes and with the arguments of tests/cases/pooler.h (FLOPs per call are counted there, with why
// the number is a fixed cost per step rather than a throughput).
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/pooler.h"

namespace ft::bench {
namespace {

using cases::BackendBuffers;
using cases::PoolerCase;

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, const PoolerCase& c) {
  BackendBuffers<Real> b(be);
  const PoolerForwardArgs<Real> a = cases::pooler_forward_args<Real>(c, b);
  run_timed(st, be, [&] { be.pooler_forward(a); }, Measure::Flops, cases::pooler_forward_flops(c),
            std::is_same_v<Real, bf16>);
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, const PoolerCase& c) {
  BackendBuffers<Real> b(be);
  const PoolerBackwardArgs<Real> a = cases::pooler_backward_args<Real>(c, b);
  run_timed(st, be, [&] { be.pooler_backward(a); }, Measure::Flops, cases::pooler_backward_flops(c),
            std::is_same_v<Real, bf16>);
}

void register_cases(bool cuda) {
  for (const PoolerCase& c : cases::pooler_bench_shapes()) {
    const std::string args = "B=" + std::to_string(c.B) + ",T=" + std::to_string(c.T) + ",C=" + std::to_string(c.C);
    register_backends("pooler_fwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { forward(s, be, c); });
    register_backends("pooler_bwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { backward(s, be, c); });
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
