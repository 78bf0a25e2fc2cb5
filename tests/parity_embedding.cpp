// embedding forward and backward: the CUDA backend against the CPU backend (tests/support/parity.h
// for the method and the tolerances). The ids are drawn from a small vocabulary with one id (the
// padding id 0) taking most positions, so that the deterministic scatter meets groups of every
// length: single rows, groups inside one 64-row chunk, and groups crossing many chunks.
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

struct Case {
  int B, T, C, vocab, max_positions, type_vocab;
  bool type_ids;     // false: null token_type_ids (all type 0)
  float p;           // dropout
  double pad_share;  // fraction of positions holding id 0
};

std::vector<Case> cases() {
  if (test::quick_mode()) return {{2, 5, 24, 11, 8, 2, true, 0.1f, 0.3}, {3, 70, 32, 40, 80, 2, false, 0.0f, 0.6}};
  return {
      {1, 1, 8, 3, 1, 1, false, 0.0f, 0.0},        // one token
      {2, 5, 24, 11, 8, 2, true, 0.1f, 0.3},
      {3, 17, 33, 50, 20, 2, true, 0.1f, 0.5},     // odd C: the scalar path
      {4, 100, 128, 64, 128, 2, true, 0.1f, 0.7},  // 400 rows: groups across chunks
      {8, 128, 384, 1000, 512, 2, false, 0.1f, 0.4},
      {5, 77, 768, 30522, 512, 2, true, 0.0f, 0.5},  // BERT's table sizes, dropout off
      {2, 9, 1040, 20, 16, 3, true, 0.2f, 0.2},     // C > 1024: the uncached vector path
  };
}

struct Inputs {
  std::vector<int32_t> ids, types;
  std::vector<double> word, pos, type, gamma, beta;
};

template <class DevReal>
Inputs make_inputs(const Case& k, uint64_t seed) {
  const size_t n = static_cast<size_t>(k.B) * k.T;
  Inputs in;
  in.ids = test::random_ints(n, seed, 1, k.vocab - 1);
  const auto u = test::random_values(n, seed + 1, 0.0, 1.0);
  for (size_t i = 0; i < n; ++i)
    if (u[i] < k.pad_share) in.ids[i] = 0;
  in.types = test::random_ints(n, seed + 2, 0, k.type_vocab - 1);
  using test::round_to;
  // The word table is offset so that every row has a mean well away from zero: the saved mean is
  // then compared with a relative error that measures the kernel, not a cancellation.
  in.word = round_to<DevReal>(test::random_values(static_cast<size_t>(k.vocab) * k.C, seed + 3, -0.5, 1.5));
  in.pos = round_to<DevReal>(test::random_values(static_cast<size_t>(k.max_positions) * k.C, seed + 4));
  in.type = round_to<DevReal>(test::random_values(static_cast<size_t>(k.type_vocab) * k.C, seed + 5));
  in.gamma = round_to<DevReal>(test::random_values(k.C, seed + 6, 0.5, 1.5));
  in.beta = round_to<DevReal>(test::random_values(k.C, seed + 7, -0.5, 0.5));
  return in;
}

std::string describe(const char* op, const Case& k) {
  return std::string(op) + " B=" + std::to_string(k.B) + " T=" + std::to_string(k.T) + " C=" + std::to_string(k.C) +
         " vocab=" + std::to_string(k.vocab) + (k.type_ids ? "" : " no-type-ids") +
         (k.p > 0 ? " dropout=" + std::to_string(k.p).substr(0, 4) : "");
}

template <class R>
void fill_forward(Dev<R>& d, const Case& k, const Inputs& in, EmbeddingForwardArgs<R>& a) {
  a.B = k.B;
  a.T = k.T;
  a.C = k.C;
  a.vocab = k.vocab;
  a.max_positions = k.max_positions;
  a.type_vocab = k.type_vocab;
  a.input_ids = d.put(in.ids);
  a.token_type_ids = k.type_ids ? d.put(in.types) : nullptr;
  a.word = d.template upload<R>(in.word);
  a.pos = d.template upload<R>(in.pos);
  a.type = d.template upload<R>(in.type);
  a.gamma = d.template upload<R>(in.gamma);
  a.beta = d.template upload<R>(in.beta);
  a.dropout = DropoutSpec{k.p, 1234, dropout_stream(12, DropoutSite::Embedding), 7};
}

template <class DevReal>
void check_forward(const Case& k, uint64_t seed) {
  const Inputs in = make_inputs<DevReal>(k, seed);
  const int N = k.B * k.T;
  const size_t n = static_cast<size_t>(N) * k.C;
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    EmbeddingForwardArgs<R> a;
    fill_forward(d, k, in, a);
    a.out = d.template nan<R>(n);
    a.mean = d.template nan<stat_t<R>>(N);
    a.rstd = d.template nan<stat_t<R>>(N);
    be.embedding_forward(a);
    return Outputs{d.real("out", a.out, n), d.fp32("mean", a.mean, N), d.fp32("rstd", a.rstd, N)};
  };
  test::expect_parity<DevReal>(describe("embedding_forward", k), run);
}

template <class DevReal>
void check_backward(const Case& k, uint64_t seed, bool tables, bool params) {
  const Inputs in = make_inputs<DevReal>(k, seed);
  const int N = k.B * k.T, C = k.C;
  const size_t n = static_cast<size_t>(N) * C;
  using test::round_to;
  const auto dout = round_to<DevReal>(test::random_values(n, seed + 10));
  const auto dword0 = round_to<DevReal>(test::random_values(static_cast<size_t>(k.vocab) * C, seed + 11));
  const auto dpos0 = round_to<DevReal>(test::random_values(static_cast<size_t>(k.max_positions) * C, seed + 12));
  const auto dtype0 = round_to<DevReal>(test::random_values(static_cast<size_t>(k.type_vocab) * C, seed + 13));
  const auto dgamma0 = round_to<DevReal>(test::random_values(C, seed + 14));
  const auto dbeta0 = round_to<DevReal>(test::random_values(C, seed + 15));
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    // The statistics come from this backend's own forward (as in training).
    EmbeddingForwardArgs<R> f;
    fill_forward(d, k, in, f);
    f.out = d.template nan<R>(n);
    f.mean = d.template nan<stat_t<R>>(N);
    f.rstd = d.template nan<stat_t<R>>(N);
    be.embedding_forward(f);
    EmbeddingBackwardArgs<R> a;
    a.B = f.B;
    a.T = f.T;
    a.C = f.C;
    a.vocab = f.vocab;
    a.max_positions = f.max_positions;
    a.type_vocab = f.type_vocab;
    a.input_ids = f.input_ids;
    a.token_type_ids = f.token_type_ids;
    a.word = f.word;
    a.pos = f.pos;
    a.type = f.type;
    a.gamma = f.gamma;
    a.beta = f.beta;
    a.dropout = f.dropout;
    a.mean = f.mean;
    a.rstd = f.rstd;
    a.dout = d.template upload<R>(dout);
    if (tables) {
      a.dword = d.template upload<R>(dword0);
      a.dpos = d.template upload<R>(dpos0);
      a.dtype = d.template upload<R>(dtype0);
    }
    if (params) {
      a.dgamma = d.template upload<R>(dgamma0);
      a.dbeta = d.template upload<R>(dbeta0);
    }
    be.embedding_backward(a);
    Outputs o;
    if (tables) {
      o.push_back(d.real("dword", a.dword, static_cast<size_t>(k.vocab) * C));
      o.push_back(d.real("dpos", a.dpos, static_cast<size_t>(k.max_positions) * C));
      o.push_back(d.real("dtype", a.dtype, static_cast<size_t>(k.type_vocab) * C));
    }
    if (params) {
      o.push_back(d.real("dgamma", a.dgamma, C));
      o.push_back(d.real("dbeta", a.dbeta, C));
    }
    return o;
  };
  std::string what = describe("embedding_backward", k);
  if (!tables) what += " params-only";
  if (!params) what += " tables-only";
  test::expect_parity<DevReal>(what, run);
  if (tables) test::expect_deterministic<DevReal>(what, run);
}

template <class DevReal>
void forward_cases() {
  uint64_t seed = 300;
  for (const Case& k : cases()) check_forward<DevReal>(k, seed += 20);
}

template <class DevReal>
void backward_cases() {
  uint64_t seed = 600;
  for (const Case& k : cases()) check_backward<DevReal>(k, seed += 20, true, true);
  const Case k{3, 70, 96, 40, 80, 2, true, 0.1f, 0.6};
  check_backward<DevReal>(k, seed += 20, false, true);
  check_backward<DevReal>(k, seed += 20, true, false);
}

TEST(ParityEmbedding, ForwardFp32) {
  FT_REQUIRE_DEVICE(float);
  forward_cases<float>();
}
TEST(ParityEmbedding, ForwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  forward_cases<bf16>();
}
TEST(ParityEmbedding, BackwardFp32) {
  FT_REQUIRE_DEVICE(float);
  backward_cases<float>();
}
TEST(ParityEmbedding, BackwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  backward_cases<bf16>();
}

// An id outside the vocabulary is an error naming it (the device reports it at its next
// synchronisation), and the backend stays usable afterwards.
TEST(ParityEmbedding, BadIdIsAnError) {
  FT_REQUIRE_DEVICE(float);
  const Case k{2, 6, 16, 10, 8, 2, true, 0.0f, 0.0};
  Inputs in = make_inputs<float>(k, 42);
  in.ids[7] = 10;  // batch 1, position 1
  auto be = test::device_backend<float>();
  Dev<float> d(*be);
  EmbeddingForwardArgs<float> a;
  fill_forward(d, k, in, a);
  const size_t n = static_cast<size_t>(k.B) * k.T * k.C;
  a.out = d.nan<float>(n);
  a.mean = d.nan<float>(k.B * k.T);
  a.rstd = d.nan<float>(k.B * k.T);
  try {
    be->embedding_forward(a);
    be->synchronize();
    ADD_FAILURE() << "an out-of-vocabulary id was accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("input id 10"), std::string::npos) << msg;
    EXPECT_NE(msg.find("batch 1, position 1"), std::string::npos) << msg;
  }
  // The same backend, good ids: no stale error.
  in.ids[7] = 3;
  EmbeddingForwardArgs<float> b;
  fill_forward(d, k, in, b);
  b.out = a.out;
  b.mean = a.mean;
  b.rstd = a.rstd;
  EXPECT_NO_THROW({
    be->embedding_forward(b);
    be->synchronize();
  });
}

}  // namespace
}  // namespace ft
