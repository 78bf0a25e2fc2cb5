// pooler ([CLS] rows, dense C x C, tanh), forward and backward: one small GEMM per direction, at the
// shapes and with the arguments of tests/cases/pooler.h (FLOPs per call are counted there, with why
// the number is a fixed cost per step rather than a throughput).
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/pooler.h"

namespace ft::bench {
namespace {

void register_cases(bool cuda) {
  for (const cases::PoolerCase& c : cases::pooler_bench_shapes()) {
    const std::string args = "B=" + std::to_string(c.B) + ",T=" + std::to_string(c.T) + ",C=" + std::to_string(c.C);
    register_backends("pooler_fwd", args, cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::pooler_forward_args<R, cases::BackendBuffers<R>>, &Backend<R>::pooler_forward,
                Measure::Flops, cases::pooler_forward_flops(c));
    });
    register_backends("pooler_bwd", args, cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::pooler_backward_args<R, cases::BackendBuffers<R>>, &Backend<R>::pooler_backward,
                Measure::Flops, cases::pooler_backward_flops(c));
    });
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
