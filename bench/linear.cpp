// linear (cuBLASLt on CUDA, OpenBLAS on the CPU): forward with the bias epilogue, and backward
// (dx, dW accumulated, db by our deterministic column sums), at BERT-base's four projection shapes,
// with the arguments of tests/cases/linear.h (FLOPs per call are counted there).
// Compute-bound: the counter is TFLOP/s against the device's fp32 (non-tensor, TF32 off) or dense
// bf16 tensor peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/linear.h"

namespace ft::bench {
namespace {

void register_cases(bool cuda) {
  for (const cases::LinearBenchShape& s : cases::linear_bench_shapes()) {
    const cases::LinearCase c = s.c;
    const std::string args = s.layer + ",N=" + std::to_string(c.N);
    const bool cpu = c.N <= 4096 && c.out <= 768;
    register_backends("linear_fwd", args, cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::linear_forward_args<R, cases::BackendBuffers<R>>, &Backend<R>::linear_forward,
                Measure::Flops, cases::linear_forward_flops(c));
    }, cpu);
    register_backends("linear_bwd", args, cuda, [=]<class R>(benchmark::State& st, Backend<R>& be) {
      time_case(st, be, c, cases::linear_backward_args<R, cases::BackendBuffers<R>>, &Backend<R>::linear_backward,
                Measure::Flops, cases::linear_backward_flops(c));
    }, cpu);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
