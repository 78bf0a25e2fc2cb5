// Global gradient norm (sum of squares, deterministic two-stage reduction, read back to the host)
// over BERT-base's 110M parameters, with the arguments of tests/cases/grad_norm.h (bytes moved per
// call are counted there). Memory-bound: GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "tests/cases/grad_norm.h"

namespace ft::bench {
namespace {

std::string args(const cases::GradNormCase& c) { return "n=" + std::to_string(c.n / 1'000'000) + "M"; }

// The result comes back to the host: the sink keeps the call from being optimised away.
template <class Real>
void norm(benchmark::State& st, Backend<Real>& be, const cases::GradNormCase& c) {
  cases::BackendBuffers<Real> b(be);
  const cases::GradNormArgs<Real> a = cases::grad_norm_args<Real>(c, b);
  double sink = 0.0;
  run_timed(st, be, [&] { sink += be.grad_norm_squared(a.grads, a.n); }, Measure::Bytes,
            cases::grad_norm_bytes<Real>(c));
  benchmark::DoNotOptimize(sink);
}

void register_cases(bool cuda) {
  const cases::GradNormCase cpu = cases::grad_norm_bench_cpu_shape(), gpu = cases::grad_norm_bench_gpu_shape();
  register_backends("grad_norm", args(cpu), false, [=]<class R>(benchmark::State& s, Backend<R>& be) { norm(s, be, cpu); });
  register_backends("grad_norm", args(gpu), cuda,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { norm(s, be, gpu); }, false);
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
