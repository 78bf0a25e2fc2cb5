// embedding's cases, once: shapes per mode, how the token and type ids are made and each table
// drawn, which buffer is which argument (tests/cases/buffers.h). Used by gradcheck_embedding,
// parity_embedding, emulated_embedding and bench/embedding.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/philox.h"
#include "tests/cases/buffers.h"
#include "tests/support/random.h"

namespace ft::cases {

// How a case's ids are made (unless the case gives them).
enum class EmbeddingIds {
  // Uniform in [1, vocab), then a share of the positions set to the padding id 0: one id taking
  // most positions gives the deterministic scatter groups of every length (single rows, groups
  // inside one 64-row chunk, groups crossing many chunks). Type ids uniform in [0, type_vocab).
  Drawn,
  // A length-bucketed batch: each sequence a random length in [T/4, T] of word-piece ids (BERT's
  // ids below 1000 are special and unused tokens), then padding; type 1 from the middle on.
  Sequences,
};

struct EmbeddingCase {
  int B = 0, T = 0, C = 0, vocab = 0, max_positions = 0, type_vocab = 2;
  bool type_ids = true;     // false: null token_type_ids (all type 0)
  float p = 0.0f;           // dropout
  double pad_share = 0.0;   // EmbeddingIds::Drawn: fraction of positions holding id 0
  EmbeddingIds pattern = EmbeddingIds::Drawn;
  std::vector<int32_t> ids = {}, types = {};  // (B, T) each when given, used as they are
  bool tables = true;       // backward: dword, dpos, dtype asked for
  bool params = true;       // backward: dgamma, dbeta asked for

  std::string name(const std::string& op) const {
    return op + " " + shape_name({{"B", B}, {"T", T}, {"C", C}, {"vocab", vocab}}) + (type_ids ? "" : " no-type-ids") +
           (p > 0 ? " dropout=" + std::to_string(p).substr(0, 4) : "");
  }
  std::string forward_name() const { return name("embedding_forward"); }
  std::string backward_name() const {
    return name("embedding_backward") + (tables ? "" : " params-only") + (params ? "" : " tables-only");
  }
  int rows() const { return B * T; }
  size_t n() const { return static_cast<size_t>(B) * T * C; }
};

// ---- shapes

// Small enough to perturb every element of the three tables. Token 3 appears four times, token 0
// twice (as padding would): the scatter must add them all.
inline EmbeddingCase embedding_gradcheck_case() {
  return {.B = 2, .T = 5, .C = 6, .vocab = 7, .max_positions = 6, .type_vocab = 2,
          .ids = {3, 1, 3, 0, 0, 2, 3, 6, 3, 5},
          .types = {0, 0, 1, 1, 1, 0, 1, 0, 0, 1}};
}

inline std::vector<EmbeddingCase> embedding_parity_shapes(bool quick) {
  if (quick) return {{2, 5, 24, 11, 8, 2, true, 0.1f, 0.3}, {3, 70, 32, 40, 80, 2, false, 0.0f, 0.6}};
  return {
      {1, 1, 8, 3, 1, 1, false, 0.0f, 0.0},          // one token
      {2, 5, 24, 11, 8, 2, true, 0.1f, 0.3},
      {3, 17, 33, 50, 20, 2, true, 0.1f, 0.5},       // odd C: the scalar path
      {4, 100, 128, 64, 128, 2, true, 0.1f, 0.7},    // 400 rows: groups across chunks
      {8, 128, 384, 1000, 512, 2, false, 0.1f, 0.4},
      {5, 77, 768, 30522, 512, 2, true, 0.0f, 0.5},  // BERT's table sizes, dropout off
      {2, 9, 1040, 20, 16, 3, true, 0.2f, 0.2},      // C > 1024: the uncached vector path
  };
}

// The emulator runs every thread on the CPU: fewer, smaller shapes, one per path, with the padding
// id taking most positions (a long group crossing many chunks).
inline std::vector<EmbeddingCase> embedding_emulated_shapes() {
  return {
      {2, 5, 24, 11, 8, 2, true, 0.1f, 0.6},
      {3, 70, 33, 40, 80, 2, false, 0.0f, 0.6},   // scalar path, null type ids
      {4, 100, 64, 30, 128, 3, true, 0.2f, 0.6},  // 400 rows: groups across chunks
      {2, 9, 1040, 20, 16, 2, true, 0.1f, 0.6},   // uncached vector path
  };
}

// BERT-base's tables (30522 x 768, 512 positions, 2 types) with a realistic share of padding.
inline std::vector<EmbeddingCase> embedding_bench_shapes() {
  std::vector<EmbeddingCase> v;
  for (int T : {128, 512})
    v.push_back({.B = 32, .T = T, .C = 768, .vocab = 30522, .max_positions = 512, .type_vocab = 2, .type_ids = true,
                 .p = 0.1f, .pattern = EmbeddingIds::Sequences});
  return v;
}

// ---- inputs and arguments

struct EmbeddingIdValues {
  std::vector<int32_t> ids, types;  // (B, T) each
};

// The case's ids: as given, or made from `seed` (the buffers' seed), so every mode and every run of
// a comparison sees the same ids.
inline EmbeddingIdValues embedding_ids(const EmbeddingCase& c, uint64_t seed) {
  const size_t n = static_cast<size_t>(c.rows());
  EmbeddingIdValues v{std::vector<int32_t>(n, 0), std::vector<int32_t>(n, 0)};
  test::Rng ids(name_seed("input_ids", seed)), types(name_seed("token_type_ids", seed));
  if (c.pattern == EmbeddingIds::Drawn) {
    for (size_t i = 0; i < n; ++i) {
      v.ids[i] = c.vocab > 1 ? ids.integer(1, c.vocab - 1) : 0;
      if (ids.uniform() < c.pad_share) v.ids[i] = 0;
      v.types[i] = types.integer(0, c.type_vocab - 1);
    }
  } else {
    const int lo = std::min(1000, c.vocab - 1);
    for (int b = 0; b < c.B; ++b) {
      const int L = ids.integer(c.T / 4, c.T);
      for (int t = 0; t < L; ++t) {
        const size_t i = static_cast<size_t>(b) * c.T + t;
        v.ids[i] = ids.integer(lo, c.vocab - 1);
        v.types[i] = std::min(t > L / 2 ? 1 : 0, c.type_vocab - 1);
      }
    }
  }
  if (!c.ids.empty()) v.ids = c.ids;
  if (!c.types.empty()) v.types = c.types;
  if (v.ids.size() != n || v.types.size() != n) throw std::logic_error("embedding case: ids are not (B, T)");
  return v;
}

inline DropoutSpec embedding_dropout(const EmbeddingCase& c) {
  return {c.p, 1234, dropout_stream(12, DropoutSite::Embedding), 7};
}

// The word table is offset so that every row has a mean well away from zero: the saved mean is
// then compared with a relative error that measures the kernel, not a cancellation.
template <class R, class Buffers>
EmbeddingForwardArgs<R> embedding_forward_args(const EmbeddingCase& c, Buffers& b) {
  using Stat = stat_t<R>;
  const EmbeddingIdValues ids = embedding_ids(c, b.seed());
  return {.B = c.B, .T = c.T, .C = c.C, .vocab = c.vocab, .max_positions = c.max_positions, .type_vocab = c.type_vocab,
          .input_ids = b.ids("input_ids", ids.ids),
          .token_type_ids = c.type_ids ? b.ids("token_type_ids", ids.types) : nullptr,
          .word = b.template in<R>("word", static_cast<size_t>(c.vocab) * c.C, {-0.5, 1.5}),
          .pos = b.template in<R>("pos", static_cast<size_t>(c.max_positions) * c.C),
          .type = b.template in<R>("type", static_cast<size_t>(c.type_vocab) * c.C),
          .gamma = b.template in<R>("gamma", c.C, {0.5, 1.5}),
          .beta = b.template in<R>("beta", c.C, {-0.5, 0.5}),
          .dropout = embedding_dropout(c),
          .out = b.template out<R>("out", c.n()),
          .mean = b.template out<Stat>("mean", c.rows()),
          .rstd = b.template out<Stat>("rstd", c.rows())};
}

// The backward of forward `f` (same buffers), as training chains them: its ids, tables, dropout and
// the statistics it saved (so `f` runs first); the table and parameter gradients accumulate into
// drawn values.
template <class R, class Buffers>
EmbeddingBackwardArgs<R> embedding_backward_args(const EmbeddingCase& c, Buffers& b, const EmbeddingForwardArgs<R>& f) {
  return {.B = f.B, .T = f.T, .C = f.C, .vocab = f.vocab, .max_positions = f.max_positions,
          .type_vocab = f.type_vocab, .input_ids = f.input_ids, .token_type_ids = f.token_type_ids, .word = f.word,
          .pos = f.pos, .type = f.type, .gamma = f.gamma, .beta = f.beta, .dropout = f.dropout, .mean = f.mean,
          .rstd = f.rstd,
          .dout = b.template in<R>("dout", c.n()),
          .dword = c.tables ? b.template acc<R>("dword", static_cast<size_t>(c.vocab) * c.C) : nullptr,
          .dpos = c.tables ? b.template acc<R>("dpos", static_cast<size_t>(c.max_positions) * c.C) : nullptr,
          .dtype = c.tables ? b.template acc<R>("dtype", static_cast<size_t>(c.type_vocab) * c.C) : nullptr,
          .dgamma = c.params ? b.template acc<R>("dgamma", c.C) : nullptr,
          .dbeta = c.params ? b.template acc<R>("dbeta", c.C) : nullptr};
}

// What the benchmark moves per call, s = sizeof(R), N = B T rows (position and type rows are few
// and stay in L2, so they are not counted):
//   forward:  read the N gathered word rows, write out: 2 N C s; + mean, rstd: 8 N
//   backward: read word rows, dout: 2 N C s; write ds (fp32): 4 N C; the scatters read ds three
//             times (positions, words, types): 12 N C; table rows written ~ N C s (upper bound)
// The sort of N keys is a small extra.
template <class R>
double embedding_forward_bytes(const EmbeddingCase& c) {
  return 2.0 * static_cast<double>(c.n()) * sizeof(R) + 8.0 * c.rows();
}
template <class R>
double embedding_backward_bytes(const EmbeddingCase& c) {
  return static_cast<double>(c.n()) * (3.0 * sizeof(R) + 16.0);
}

}  // namespace ft::cases
