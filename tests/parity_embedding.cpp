// embedding forward and backward: the CUDA backend against the CPU backend (tests/support/parity.h
// for the method and the tolerances). Cases (tests/cases/embedding.h) draw the ids from a small
// vocabulary with one id (the padding id 0) taking most positions, so that the deterministic
// scatter meets groups of every length: single rows, groups inside one 64-row chunk, and groups
// crossing many chunks.
#include <string>
#include <vector>

#include "core/error.h"
#include "core/ops.h"
#include "tests/cases/embedding.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::BackendBuffers;
using cases::EmbeddingCase;
using test::Outputs;

template <class DevReal>
void check_forward(const EmbeddingCase& c, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
    be.embedding_forward(cases::embedding_forward_args<R>(c, b));
    return Outputs{test::real_output(b, "out"), test::fp32_output(b, "mean"), test::fp32_output(b, "rstd")};
  };
  test::expect_parity<DevReal>(c.forward_name(), run);
}

template <class DevReal>
void check_backward(const EmbeddingCase& c, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
    // The statistics come from this backend's own forward (as in training).
    const EmbeddingForwardArgs<R> f = cases::embedding_forward_args<R>(c, b);
    be.embedding_forward(f);
    be.embedding_backward(cases::embedding_backward_args<R>(c, b, f));
    Outputs o;
    if (c.tables)
      for (const char* name : {"dword", "dpos", "dtype"}) o.push_back(test::real_output(b, name));
    if (c.params)
      for (const char* name : {"dgamma", "dbeta"}) o.push_back(test::real_output(b, name));
    return o;
  };
  test::expect_parity<DevReal>(c.backward_name(), run);
  if (c.tables) test::expect_deterministic<DevReal>(c.backward_name(), run);
}

template <class DevReal>
void forward_cases() {
  uint64_t seed = 300;
  for (const EmbeddingCase& c : cases::embedding_parity_shapes(test::quick_mode())) check_forward<DevReal>(c, seed += 20);
}

template <class DevReal>
void backward_cases() {
  uint64_t seed = 600;
  for (const EmbeddingCase& c : cases::embedding_parity_shapes(test::quick_mode()))
    check_backward<DevReal>(c, seed += 20);
  EmbeddingCase c{3, 70, 96, 40, 80, 2, true, 0.1f, 0.6};
  c.tables = false;
  check_backward<DevReal>(c, seed += 20);
  c.tables = true;
  c.params = false;
  check_backward<DevReal>(c, seed += 20);
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
  constexpr uint64_t kSeed = 42;
  EmbeddingCase c{2, 6, 16, 10, 8, 2, true, 0.0f, 0.0};
  c.ids = cases::embedding_ids(c, kSeed).ids;
  c.ids[7] = 10;  // batch 1, position 1
  auto be = test::device_backend<float>();
  BackendBuffers<float> bad(*be, kSeed, cases::Rounding::Fp32);
  const EmbeddingForwardArgs<float> a = cases::embedding_forward_args<float>(c, bad);
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
  c.ids[7] = 3;
  BackendBuffers<float> good(*be, kSeed, cases::Rounding::Fp32);
  const EmbeddingForwardArgs<float> g = cases::embedding_forward_args<float>(c, good);
  EXPECT_NO_THROW({
    be->embedding_forward(g);
    be->synchronize();
  });
}

}  // namespace
}  // namespace ft
