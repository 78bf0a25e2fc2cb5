// linear (cuBLASLt on CUDA, OpenBLAS on the CPU): forward with the bias epilogue, and backward
// (dx, dW accumulated, db by our deterministic column sums), at BERT-base's four projection shapes.
//
// Napkin math per call on x (N, in), W (out, in):
//   forward:  2 N in out FLOPs (+ N out for the bias)
//   backward: 4 N in out FLOPs (dx and dW), + N out for db
// Compute-bound: the counter is TFLOP/s against the device's fp32 (non-tensor, TF32 off) or dense
// bf16 tensor peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, int N, int in, int out) {
  auto x = random_buffer<Real>(be, static_cast<int64_t>(N) * in, 1);
  auto w = random_buffer<Real>(be, static_cast<int64_t>(out) * in, 2, -0.05f, 0.05f);
  auto b = random_buffer<Real>(be, out, 3);
  BackendBuffer<Real, Real> y(be, static_cast<int64_t>(N) * out);
  LinearForwardArgs<Real> a;
  a.N = N;
  a.in = in;
  a.out = out;
  a.x = x.get();
  a.w = w.get();
  a.b = b.get();
  a.y = y.get();
  run_timed(st, be, [&] { be.linear_forward(a); }, Measure::Flops, 2.0 * N * in * out, std::is_same_v<Real, bf16>);
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, int N, int in, int out) {
  auto x = random_buffer<Real>(be, static_cast<int64_t>(N) * in, 1);
  auto w = random_buffer<Real>(be, static_cast<int64_t>(out) * in, 2, -0.05f, 0.05f);
  auto dy = random_buffer<Real>(be, static_cast<int64_t>(N) * out, 3);
  BackendBuffer<Real, Real> dx(be, static_cast<int64_t>(N) * in), dw(be, static_cast<int64_t>(out) * in), db(be, out);
  LinearBackwardArgs<Real> a;
  a.N = N;
  a.in = in;
  a.out = out;
  a.x = x.get();
  a.w = w.get();
  a.dy = dy.get();
  a.dx = dx.get();
  a.dw = dw.get();
  a.db = db.get();
  run_timed(st, be, [&] { be.linear_backward(a); }, Measure::Flops, 4.0 * N * in * out, std::is_same_v<Real, bf16>);
}

void register_cases(bool cuda) {
  struct S {
    const char* name;
    int in, out;
  };
  for (int N : {4096, 16384})
    for (S s : {S{"qkv", 768, 2304}, S{"attn_out", 768, 768}, S{"ffn_in", 768, 3072}, S{"ffn_out", 3072, 768}}) {
      const std::string args = std::string(s.name) + ",N=" + std::to_string(N);
      const bool cpu = N <= 4096 && s.out <= 768;
      register_backends("linear_fwd", args, cuda,
                        [=]<class R>(benchmark::State& st, Backend<R>& be) { forward(st, be, N, s.in, s.out); }, cpu);
      register_backends("linear_bwd", args, cuda,
                        [=]<class R>(benchmark::State& st, Backend<R>& be) { backward(st, be, N, s.in, s.out); }, cpu);
    }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
