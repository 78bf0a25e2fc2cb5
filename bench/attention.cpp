// Fused attention (cuda/attention.cu), forward and backward, fp32 and bf16, on the CUDA backend.
//
// Napkin math, per (sequence b, head h) with T query rows, L = lengths[b] real keys, head size D:
//   forward   S = Q K^T (2 T L D FLOPs) and O = P V (2 T L D): 4 T L D.
//   backward  counted as 2.5 x forward = 10 T L D, the usual flash-attention convention (S
//             recomputed once, dP = dO V^T, dV = P^T dO, dQ = dS K, dK = dS^T Q). The kernels
//             execute 14 T L D: the dQ kernel and the dK/dV kernel each recompute S and dP, which
//             buys determinism without atomics; "executed TFLOP/s" reports that count.
// Only real keys count (the kernels skip padded key tiles; padded query rows are computed, as in
// the CPU backend). Exp, masking and dropout (a 10-round Philox block per 4 mask elements) are not
// counted. %peak is against dense bf16 tensor-core peak for bf16 (mma.sync) and the plain fp32
// FMA peak for fp32 (no TF32), from bench/support/bench_util.h's table.
//
// Shapes: BERT-base (H 12, D 64) and MiniLM (H 12, D 32) with B 32 at T 128, 256 and 512, full
// lengths; BERT-base at T 512 with lengths spread evenly over 64..512 (a padded batch); BERT-base
// at T 128 with dropout 0.1 (the training configuration). CUDA only: without a GPU nothing is
// registered (bench_main says so).
#include <cmath>
#include <string>
#include <vector>

#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

struct Shape {
  int B, T, H, D;
  bool padded;  // lengths spread evenly over 64..T instead of all T
  float dropout;
};

std::vector<int32_t> lengths_of(const Shape& s) {
  std::vector<int32_t> l(static_cast<size_t>(s.B), s.T);
  if (s.padded && s.B > 1)
    for (int b = 0; b < s.B; ++b) l[b] = 64 + static_cast<int32_t>(static_cast<int64_t>(s.T - 64) * b / (s.B - 1));
  return l;
}

// sum over (b, h) of T * L * D
double tld(const Shape& s) {
  double sum = 0.0;
  for (int32_t l : lengths_of(s)) sum += static_cast<double>(s.T) * l * s.D * s.H;
  return sum;
}

template <class Real>
void attention(benchmark::State& st, Backend<Real>& be, const Shape& s, bool backward) {
  const int64_t C = static_cast<int64_t>(s.H) * s.D;
  const int64_t nqkv = s.B * s.T * 3 * C, nout = s.B * s.T * C, nlse = static_cast<int64_t>(s.B) * s.H * s.T;
  auto qkv = random_buffer<Real>(be, nqkv, 1);
  auto dout = random_buffer<Real>(be, nout, 2);
  BackendBuffer<Real, Real> out(be, nout), dqkv(be, nqkv);
  BackendBuffer<stat_t<Real>, Real> lse(be, nlse);
  const std::vector<int32_t> host_lengths = lengths_of(s);
  BackendBuffer<int32_t, Real> lengths(be, s.B);
  be.upload(lengths.get(), host_lengths.data(), lengths.bytes());

  DropoutSpec dropout;
  dropout.p = s.dropout;
  dropout.seed = 42;
  dropout.stream = dropout_stream(0, DropoutSite::AttentionProbs);
  AttentionForwardArgs<Real> f;
  f.B = s.B; f.T = s.T; f.H = s.H; f.D = s.D;
  f.qkv = qkv.get(); f.lengths = lengths.get(); f.scale = 1.0f / std::sqrt(static_cast<float>(s.D));
  f.dropout = dropout; f.out = out.get(); f.lse = lse.get();
  AttentionBackwardArgs<Real> b;
  b.B = s.B; b.T = s.T; b.H = s.H; b.D = s.D;
  b.qkv = qkv.get(); b.lengths = lengths.get(); b.scale = f.scale; b.dropout = dropout;
  b.out = out.get(); b.lse = lse.get(); b.dout = dout.get(); b.dqkv = dqkv.get();
  be.attention_forward(f);  // the backward's out and lse

  const bool tensor = std::is_same_v<Real, bf16>;
  if (backward) {
    run_timed(st, be, [&] { be.attention_backward(b); }, Measure::Flops, 10.0 * tld(s), tensor);
    st.counters["executed_TFLOP/s"] = st.counters["TFLOP/s"].value * 14.0 / 10.0;
  } else {
    run_timed(st, be, [&] { be.attention_forward(f); }, Measure::Flops, 4.0 * tld(s), tensor);
  }
}

void register_cases(bool cuda) {
  const std::vector<std::pair<std::string, Shape>> shapes = {
      {"bert,T=128", {32, 128, 12, 64, false, 0.0f}},   {"bert,T=256", {32, 256, 12, 64, false, 0.0f}},
      {"bert,T=512", {32, 512, 12, 64, false, 0.0f}},   {"minilm,T=128", {32, 128, 12, 32, false, 0.0f}},
      {"minilm,T=256", {32, 256, 12, 32, false, 0.0f}}, {"minilm,T=512", {32, 512, 12, 32, false, 0.0f}},
      {"bert,T=512,padded", {32, 512, 12, 64, true, 0.0f}},
      {"bert,T=128,dropout=0.1", {32, 128, 12, 64, false, 0.1f}},
      {"bert,T=512,dropout=0.1", {32, 512, 12, 64, false, 0.1f}},  // the normal fine-tuning case
  };
  for (const auto& [name, shape] : shapes) {
    const std::string args = "B=32," + name;
    register_backends("attention_fwd", args, cuda,
                      [=]<class R>(benchmark::State& st, Backend<R>& be) { attention(st, be, shape, false); }, false);
    register_backends("attention_bwd", args, cuda,
                      [=]<class R>(benchmark::State& st, Backend<R>& be) { attention(st, be, shape, true); }, false);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
