// Dropout in place (forward; the backward is the same function) on a hidden-state tensor.
//
// Napkin math, s = sizeof(Real), n elements per call: read and write x: 2 n s bytes. Philox4x32-10
// costs ~10 multiply rounds per 4 elements, which the bandwidth hides on A100/H100.
#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

template <class Real>
void dropout(benchmark::State& st, Backend<Real>& be, int64_t n) {
  auto x = random_buffer<Real>(be, n, 1);
  DropoutArgs<Real> a;
  a.n = n;
  a.dropout = DropoutSpec{0.1f, 42, dropout_stream(0, DropoutSite::FfnOutput), 0};
  a.x = x.get();
  run_timed(st, be, [&] { be.dropout_forward(a); }, Measure::Bytes, 2.0 * n * sizeof(Real));
}

void register_cases(bool cuda) {
  for (int N : {4096, 16384}) {
    const int64_t n = static_cast<int64_t>(N) * 768;
    register_backends("dropout", "N=" + std::to_string(N) + ",C=768", cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { dropout(s, be, n); }, N <= 4096);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
