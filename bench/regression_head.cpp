// regression head + MSE loss, forward and backward: two one-block / one-wave kernels over B rows.
//
// Napkin math per call: read pooled (B C s) and w; the backward also writes dpooled (B C s). At
// B = 32, C = 768 that is ~100 KB: the kernels are latency-bound, and the number to read is the
// time per call (a few microseconds is the floor of a launch).
#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

template <class Real>
void head(benchmark::State& st, Backend<Real>& be, int B, int C, bool backward) {
  using Stat = stat_t<Real>;
  auto pooled = random_buffer<Real>(be, static_cast<int64_t>(B) * C, 1);
  auto w = random_buffer<Real>(be, C, 2), b = random_buffer<Real>(be, 1, 3);
  auto targets = random_buffer<Stat>(be, B, 4);
  BackendBuffer<Stat, Real> pred(be, B), loss(be, 1);
  BackendBuffer<Real, Real> dpooled(be, static_cast<int64_t>(B) * C), dw(be, C), db(be, 1);
  const DropoutSpec drop{0.1f, 5, dropout_stream(0, DropoutSite::Classifier), 0};
  RegressionHeadForwardArgs<Real> f;
  f.B = B;
  f.C = C;
  f.pooled = pooled.get();
  f.w = w.get();
  f.b = b.get();
  f.dropout = drop;
  f.targets = targets.get();
  f.pred = pred.get();
  f.loss = loss.get();
  RegressionHeadBackwardArgs<Real> a;
  a.B = B;
  a.C = C;
  a.pooled = pooled.get();
  a.w = w.get();
  a.dropout = drop;
  a.targets = targets.get();
  a.pred = pred.get();
  a.dpooled = dpooled.get();
  a.dw = dw.get();
  a.db = db.get();
  be.regression_head_forward(f);
  const double bytes = (backward ? 2.0 : 1.0) * B * C * sizeof(Real);
  if (backward) run_timed(st, be, [&] { be.regression_head_backward(a); }, Measure::Bytes, bytes);
  else run_timed(st, be, [&] { be.regression_head_forward(f); }, Measure::Bytes, bytes);
}

void register_cases(bool cuda) {
  const std::string args = "B=32,C=768";
  register_backends("regression_head_fwd", args, cuda,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { head(s, be, 32, 768, false); });
  register_backends("regression_head_bwd", args, cuda,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { head(s, be, 32, 768, true); });
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
