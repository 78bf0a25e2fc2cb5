// Fused attention (cuda/attention.cu), forward and backward, fp32 and bf16, on the CUDA backend.
//
// FLOPs per call (tests/cases/attention.h): forward 4 T L D per (sequence, head) with L real keys;
// backward counted as 2.5 x forward, while the kernels execute 14 T L D ("executed TFLOP/s"
// reports that count). Exp, masking and dropout (a 10-round Philox block per 4 mask elements) are
// not counted. %peak is against dense bf16 tensor-core peak for bf16 (mma.sync) and the plain fp32
// FMA peak for fp32 (no TF32), from bench/support/bench_util.h's table.
//
// Shapes: tests/cases/attention.h (attention_bench_cases). CUDA only: without a GPU nothing is
// registered (bench_main says so).
#include <cmath>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/attention.h"

namespace ft::bench {
namespace {

using cases::AttentionCase;
using cases::BackendBuffers;

template <class Real>
void attention(benchmark::State& st, Backend<Real>& be, const AttentionCase& c, bool backward) {
  BackendBuffers<Real> b(be);
  const AttentionForwardArgs<Real> f = cases::attention_forward_args<Real>(c, b);
  const AttentionBackwardArgs<Real> bw = cases::attention_backward_args<Real>(c, f, b);
  be.attention_forward(f);  // the backward's out and lse

  const bool tensor = std::is_same_v<Real, bf16>;
  if (backward) {
    run_timed(st, be, [&] { be.attention_backward(bw); }, Measure::Flops, cases::attention_backward_flops(c), tensor);
    st.counters["executed_TFLOP/s"] = st.counters["TFLOP/s"].value * cases::attention_backward_executed_flops(c) /
                                      cases::attention_backward_flops(c);
  } else {
    run_timed(st, be, [&] { be.attention_forward(f); }, Measure::Flops, cases::attention_forward_flops(c), tensor);
  }
}

void register_cases(bool cuda) {
  for (const AttentionCase& shape : cases::attention_bench_cases()) {
    const std::string args = "B=" + std::to_string(shape.B) + "," + shape.name;
    register_backends("attention_fwd", args, cuda,
                      [=]<class R>(benchmark::State& st, Backend<R>& be) { attention(st, be, shape, false); }, false);
    register_backends("attention_bwd", args, cuda,
                      [=]<class R>(benchmark::State& st, Backend<R>& be) { attention(st, be, shape, true); }, false);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
