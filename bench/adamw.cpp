// Fused AdamW over the contiguous parameter buffer of BERT-base (110M parameters, two segments:
// with and without weight decay), clipping folded in as a gradient scale, with the arguments of
// tests/cases/adamw.h (bytes moved per element are counted there). Memory-bound: GB/s against the
// HBM peak.
#include <vector>

#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/adamw.h"

namespace ft::bench {
namespace {

std::string args(const cases::AdamWCase& c) { return "n=" + std::to_string(c.params / 1'000'000) + "M"; }

// One optimizer step (the case's first update) over both segments.
template <class Real>
void adamw(benchmark::State& st, Backend<Real>& be, const cases::AdamWCase& c) {
  cases::BackendBuffers<Real> b(be);
  const AdamWArgs<Real> a = cases::adamw_args<Real>(c, b).front();
  run_timed(st, be, [&] { be.adamw_step(a); }, Measure::Bytes, cases::adamw_bytes<Real>(c));
}

void register_cases(bool cuda) {
  const cases::AdamWCase cpu = cases::adamw_bench_cpu_case(), gpu = cases::adamw_bench_gpu_case();
  register_backends("adamw", args(cpu), false, [=]<class R>(benchmark::State& s, Backend<R>& be) { adamw(s, be, cpu); });
  register_backends("adamw", args(gpu), cuda, [=]<class R>(benchmark::State& s, Backend<R>& be) { adamw(s, be, gpu); },
                    false);
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
