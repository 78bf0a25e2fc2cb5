// Fused AdamW over the contiguous parameter buffer of BERT-base (110M parameters, two segments:
// with and without weight decay), clipping folded in as a gradient scale.
//
// Napkin math per element: read master (4), grad (s), m (4), v (4); write master (4), m (4), v (4);
// in bf16 also write the bf16 working copy (2). fp32 (params == master): 28 bytes; bf16: 28 bytes.
// Memory-bound: GB/s against the HBM peak.
#include <vector>

#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

template <class Real>
void adamw(benchmark::State& st, Backend<Real>& be, int64_t n) {
  using M = master_t<Real>;
  auto master = random_buffer<M>(be, n, 1, -0.1f, 0.1f);
  auto grads = random_buffer<Real>(be, n, 2, -0.01f, 0.01f);
  auto m = random_buffer<M>(be, n, 3, -1e-3f, 1e-3f), v = random_buffer<M>(be, n, 4, 0.0f, 1e-5f);
  BackendBuffer<Real, Real> working;
  Real* params = nullptr;
  if constexpr (std::is_same_v<Real, M>) {
    params = master.get();
  } else {
    working = BackendBuffer<Real, Real>(be, n);
    params = working.get();
  }
  const std::vector<AdamWSegment> segments = {{0, 0, n - n / 100, 0.01f}, {n - n / 100, n - n / 100, n / 100, 0.0f}};
  AdamWArgs<Real> a;
  a.master = master.get();
  a.params = params;
  a.grads = grads.get();
  a.m = m.get();
  a.v = v.get();
  a.segments = segments.data();
  a.num_segments = 2;
  a.lr = 2e-5f;
  a.step = 10;
  a.grad_scale = 0.5f;
  const double per = 24.0 + sizeof(Real) + (std::is_same_v<Real, M> ? 0.0 : sizeof(Real));
  run_timed(st, be, [&] { be.adamw_step(a); }, Measure::Bytes, per * n);
}

void register_cases(bool cuda) {
  // The CPU case is a tenth of the size: the same per-element work, a bearable run time.
  register_backends("adamw", "n=11M", false,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { adamw(s, be, 11'000'000); });
  register_backends("adamw", "n=110M", cuda,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { adamw(s, be, 110'000'000); }, false);
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
