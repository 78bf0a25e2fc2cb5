// pooler ([CLS] rows, dense C x C, tanh), forward and backward: one small GEMM per direction.
//
// Napkin math per call, B sequences, C hidden: forward 2 B C^2 FLOPs; backward 4 B C^2 (dh0 and dW)
// plus zeroing dhidden (B T C s bytes). At B = 32 these GEMMs are far too small to fill a GPU:
// the number shows the fixed cost the pooler adds to a step, in TFLOP/s and microseconds.
#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, int B, int T, int C) {
  auto h = random_buffer<Real>(be, static_cast<int64_t>(B) * T * C, 1);
  auto w = random_buffer<Real>(be, static_cast<int64_t>(C) * C, 2, -0.05f, 0.05f);
  auto b = random_buffer<Real>(be, C, 3);
  BackendBuffer<Real, Real> pooled(be, static_cast<int64_t>(B) * C);
  PoolerForwardArgs<Real> a;
  a.B = B;
  a.T = T;
  a.C = C;
  a.hidden = h.get();
  a.w = w.get();
  a.b = b.get();
  a.pooled = pooled.get();
  run_timed(st, be, [&] { be.pooler_forward(a); }, Measure::Flops, 2.0 * B * C * C, std::is_same_v<Real, bf16>);
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, int B, int T, int C) {
  auto h = random_buffer<Real>(be, static_cast<int64_t>(B) * T * C, 1);
  auto w = random_buffer<Real>(be, static_cast<int64_t>(C) * C, 2, -0.05f, 0.05f);
  auto pooled = random_buffer<Real>(be, static_cast<int64_t>(B) * C, 3, -0.9f, 0.9f);
  auto dpooled = random_buffer<Real>(be, static_cast<int64_t>(B) * C, 4);
  BackendBuffer<Real, Real> dh(be, static_cast<int64_t>(B) * T * C), dw(be, static_cast<int64_t>(C) * C), db(be, C);
  PoolerBackwardArgs<Real> a;
  a.B = B;
  a.T = T;
  a.C = C;
  a.hidden = h.get();
  a.w = w.get();
  a.pooled = pooled.get();
  a.dpooled = dpooled.get();
  a.dhidden = dh.get();
  a.dw = dw.get();
  a.db = db.get();
  run_timed(st, be, [&] { be.pooler_backward(a); }, Measure::Flops, 4.0 * B * C * C, std::is_same_v<Real, bf16>);
}

void register_cases(bool cuda) {
  const std::string args = "B=32,T=128,C=768";
  register_backends("pooler_fwd", args, cuda,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { forward(s, be, 32, 128, 768); });
  register_backends("pooler_bwd", args, cuda,
                    [=]<class R>(benchmark::State& s, Backend<R>& be) { backward(s, be, 32, 128, 768); });
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
