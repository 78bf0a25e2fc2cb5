// regression head + MSE loss, forward and backward: two one-block / one-wave kernels over B rows, at
// the shapes and with the arguments of tests/cases/regression_head.h (bytes moved per call are
// counted there). Latency-bound: read the time per call.
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/regression_head.h"

namespace ft::bench {
namespace {

using cases::BackendBuffers;
using cases::RegressionHeadCase;

template <class Real>
void head(benchmark::State& st, Backend<Real>& be, const RegressionHeadCase& c, bool backward) {
  BackendBuffers<Real> b(be);
  const RegressionHeadForwardArgs<Real> f = cases::regression_head_forward_args<Real>(c, b);
  const RegressionHeadBackwardArgs<Real> a = cases::regression_head_backward_args<Real>(c, b, f);
  be.regression_head_forward(f);  // the predictions the backward reads
  if (backward)
    run_timed(st, be, [&] { be.regression_head_backward(a); }, Measure::Bytes,
              cases::regression_head_backward_bytes<Real>(c));
  else
    run_timed(st, be, [&] { be.regression_head_forward(f); }, Measure::Bytes,
              cases::regression_head_forward_bytes<Real>(c));
}

void register_cases(bool cuda) {
  for (const RegressionHeadCase& c : cases::regression_head_bench_shapes()) {
    const std::string args = "B=" + std::to_string(c.B) + ",C=" + std::to_string(c.C);
    register_backends("regression_head_fwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { head(s, be, c, false); });
    register_backends("regression_head_bwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { head(s, be, c, true); });
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
