// embedding forward (gather + sum + LayerNorm + dropout in one kernel) and backward (LayerNorm
// backward, then the deterministic sorted scatter into the word, position and type tables), at
// the shapes and with the arguments of tests/cases/embedding.h: BERT-base's table sizes with a
// realistic share of padding ids (bytes moved per call are counted there).
// Memory-bound: the counter is GB/s against the HBM peak.
#include "bench/support/bench_util.h"
#include "core/ops.h"
#include "tests/cases/embedding.h"

namespace ft::bench {
namespace {

using cases::BackendBuffers;
using cases::EmbeddingCase;

template <class Real>
void forward(benchmark::State& st, Backend<Real>& be, const EmbeddingCase& c) {
  BackendBuffers<Real> b(be);
  const EmbeddingForwardArgs<Real> a = cases::embedding_forward_args<Real>(c, b);
  run_timed(st, be, [&] { be.embedding_forward(a); }, Measure::Bytes, cases::embedding_forward_bytes<Real>(c));
}

template <class Real>
void backward(benchmark::State& st, Backend<Real>& be, const EmbeddingCase& c) {
  BackendBuffers<Real> b(be);
  const EmbeddingForwardArgs<Real> f = cases::embedding_forward_args<Real>(c, b);
  be.embedding_forward(f);  // the statistics the backward reads
  const EmbeddingBackwardArgs<Real> a = cases::embedding_backward_args<Real>(c, b, f);
  run_timed(st, be, [&] { be.embedding_backward(a); }, Measure::Bytes, cases::embedding_backward_bytes<Real>(c));
}

void register_cases(bool cuda) {
  for (const EmbeddingCase& c : cases::embedding_bench_shapes()) {
    const std::string args = "B=" + std::to_string(c.B) + ",T=" + std::to_string(c.T) + ",C=" + std::to_string(c.C);
    const bool cpu = c.T <= 128;
    register_backends("embedding_fwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { forward(s, be, c); }, cpu);
    register_backends("embedding_bwd", args, cuda,
                      [=]<class R>(benchmark::State& s, Backend<R>& be) { backward(s, be, c); }, cpu);
  }
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) { return ft::bench::bench_main(argc, argv, ft::bench::register_cases); }
