// Global gradient norm (sum of squares, deterministic two-stage reduction, read back to the host)
// over BERT-base's 110M parameters.
//
// Napkin math per call: read n gradients, n s bytes (+ one 8-byte read-back and a synchronisation,
// which is part of the op). Memory-bound: GB/s against the HBM peak.
#include "bench/support/bench_util.h"

namespace ft::bench {
namespace {

template <class Real>
void norm(benchmark::State& st, Backend<Real>& be, int64_t n) {
  auto g = random_buffer<Real>(be, n, 1, -0.01f, 0.01f);
  double sink = 0.0;
  run_timed(st, be, [&] { sink += be.grad_norm_squared(g.get(), n); }, Measure::Bytes, 1.0 * n * sizeof(Real));
  benchmark::DoNotOptimize(sink);
}

void register_cases(bool cuda) {
  // The CPU case is a tenth of the size: the same per-element work, a bearable run time.
  register_backends("grad_norm", "n=11M", false,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { norm(s, be, 11'000'000); });
  register_backends("grad_norm", "n=110M", cuda,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { norm(s, be, 110'000'000); }, false);
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
