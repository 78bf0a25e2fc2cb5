// embedding forward (gather + sum + LayerNorm + dropout in one kernel) and backward (LayerNorm
// backward, then the deterministic sorted scatter into the word, position and type tables), at
// BERT-base's table sizes with a realistic share of padding ids.
//
// Napkin math, s = sizeof(Real), N = B T rows, C columns (position and type rows are few and stay
// in L2, so they are not counted):
//   forward:  read the N gathered word rows, write out: 2 N C s; + mean, rstd: 8 N
//   backward: read word rows, dout: 2 N C s; write ds (fp32): 4 N C; the scatters read ds three
//             times (positions, words, types): 12 N C; table rows written ~ N C s (upper bound)
// Memory-bound: GB/s against the HBM peak (the sort of N keys is a small extra).
#include <random>

#include "bench/support/bench_util.h"
#include "core/ops.h"

namespace ft::bench {
namespace {

constexpr int kVocab = 30522, kPositions = 512, kTypes = 2;

template <class Real>
struct Setup {
  BackendBuffer<int32_t, Real> ids, types;
  BackendBuffer<Real, Real> word, pos, type, gamma, beta;
  BackendBuffer<stat_t<Real>, Real> mean, rstd;

  Setup(Backend<Real>& be, int B, int T, int C)
      : word(random_buffer<Real>(be, static_cast<int64_t>(kVocab) * C, 1)),
        pos(random_buffer<Real>(be, static_cast<int64_t>(kPositions) * C, 2)),
        type(random_buffer<Real>(be, static_cast<int64_t>(kTypes) * C, 3)),
        gamma(random_buffer<Real>(be, C, 4, 0.5f, 1.5f)),
        beta(random_buffer<Real>(be, C, 5)),
        mean(be, static_cast<int64_t>(B) * T),
        rstd(be, static_cast<int64_t>(B) * T) {
    // Sequences of random length; the rest is padding (id 0), as in a length-bucketed batch.
    const int64_t n = static_cast<int64_t>(B) * T;
    std::vector<int32_t> host_ids(n, 0), host_types(n, 0);
    std::mt19937 gen(7);
    std::uniform_int_distribution<int> len(T / 4, T), id(1000, kVocab - 1);
    for (int b = 0; b < B; ++b) {
      const int L = len(gen);
      for (int t = 0; t < L; ++t) {
        host_ids[static_cast<size_t>(b) * T + t] = id(gen);
        host_types[static_cast<size_t>(b) * T + t] = t > L / 2;
      }
    }
    ids = BackendBuffer<int32_t, Real>(be, n);
    types = BackendBuffer<int32_t, Real>(be, n);
    be.upload(ids.get(), host_ids.data(), ids.bytes());
    be.upload(types.get(), host_types.data(), types.bytes());
  }

  template <class Args>
  void fill(Args& a, int B, int T, int C) {
    a.B = B;
    a.T = T;
    a.C = C;
    a.vocab = kVocab;
    a.max_positions = kPositions;
    a.type_vocab = kTypes;
    a.input_ids = ids.get();
    a.token_type_ids = types.get();
    a.word = word.get();
    a.pos = pos.get();
    a.type = type.get();
    a.gamma = gamma.get();
    a.beta = beta.get();
    a.mean = mean.get();  // written by the forward, read by the backward
    a.rstd = rstd.get();
    a.dropout = DropoutSpec{0.1f, 1, dropout_stream(12, DropoutSite::Embedding), 0};
  }
};

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, int B, int T, int C) {
  Setup<Real> s(be, B, T, C);
  const int64_t n = static_cast<int64_t>(B) * T * C;
  BackendBuffer<Real, Real> out(be, n);
  EmbeddingForwardArgs<Real> a;
  s.fill(a, B, T, C);
  a.out = out.get();
  run_timed(st, be, [&] { be.embedding_forward(a); }, Measure::Bytes, 2.0 * n * sizeof(Real) + 8.0 * B * T);
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, int B, int T, int C) {
  Setup<Real> s(be, B, T, C);
  const int64_t n = static_cast<int64_t>(B) * T * C;
  BackendBuffer<Real, Real> out(be, n);
  EmbeddingForwardArgs<Real> f;
  s.fill(f, B, T, C);
  f.out = out.get();
  be.embedding_forward(f);
  auto dout = random_buffer<Real>(be, n, 9);
  BackendBuffer<Real, Real> dword(be, static_cast<int64_t>(kVocab) * C), dpos(be, static_cast<int64_t>(kPositions) * C),
      dtype(be, static_cast<int64_t>(kTypes) * C), dgamma(be, C), dbeta(be, C);
  EmbeddingBackwardArgs<Real> a;
  s.fill(a, B, T, C);
  a.dout = dout.get();
  a.dword = dword.get();
  a.dpos = dpos.get();
  a.dtype = dtype.get();
  a.dgamma = dgamma.get();
  a.dbeta = dbeta.get();
  const double bytes = n * (3.0 * sizeof(Real) + 16.0);
  run_timed(st, be, [&] { be.embedding_backward(a); }, Measure::Bytes, bytes);
}

void register_cases(bool cuda) {
  for (auto [B, T] : {std::pair{32, 128}, std::pair{32, 512}}) {
    const std::string args = "B=" + std::to_string(B) + ",T=" + std::to_string(T) + ",C=768";
    const bool cpu = T <= 128;
    register_backends("embedding_fwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { forward(s, be, B, T, 768); }, cpu);
    register_backends("embedding_bwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { backward(s, be, B, T, 768); }, cpu);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
