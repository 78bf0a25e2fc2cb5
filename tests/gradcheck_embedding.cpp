// Gradient check of the embedding layer (word + type + position, LayerNorm, dropout) in double:
// every element of the three tables, gamma and beta; repeated ids so rows share table rows;
// without and with dropout, with and without token type ids. Also the accumulate and null rules.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

struct EmbeddingCase {
  int B = 2, T = 5, C = 6, vocab = 7, max_positions = 6, type_vocab = 2;
  // Token 3 appears four times, token 0 twice (as padding would): the scatter must add them all.
  std::vector<int32_t> ids{3, 1, 3, 0, 0, 2, 3, 6, 3, 5};           // (B, T)
  std::vector<int32_t> types{0, 0, 1, 1, 1, 0, 1, 0, 0, 1};         // (B, T)
  bool use_types = true;
  std::vector<double> word = random_vector<double>(static_cast<size_t>(vocab) * C, 91);          // (vocab, C)
  std::vector<double> pos = random_vector<double>(static_cast<size_t>(max_positions) * C, 92);   // (P, C)
  std::vector<double> type = random_vector<double>(static_cast<size_t>(type_vocab) * C, 93);     // (2, C)
  std::vector<double> gamma = random_vector<double>(static_cast<size_t>(C), 94);
  std::vector<double> beta = random_vector<double>(static_cast<size_t>(C), 95);
  std::vector<double> dout = random_vector<double>(static_cast<size_t>(B) * T * C, 96);         // (B, T, C)
  DropoutSpec dropout;
  std::vector<double> mean, rstd;  // saved by the last forward

  double loss() {
    auto out = poisoned_vector<double>(dout.size());
    mean = poisoned_vector<double>(static_cast<size_t>(B) * T);
    rstd = poisoned_vector<double>(static_cast<size_t>(B) * T);
    EmbeddingForwardArgs<double> a;
    a.B = B; a.T = T; a.C = C; a.vocab = vocab; a.max_positions = max_positions; a.type_vocab = type_vocab;
    a.input_ids = ids.data(); a.token_type_ids = use_types ? types.data() : nullptr;
    a.word = word.data(); a.pos = pos.data(); a.type = type.data(); a.gamma = gamma.data(); a.beta = beta.data();
    a.dropout = dropout; a.out = out.data(); a.mean = mean.data(); a.rstd = rstd.data();
    cpu::embedding_forward(a);
    return weighted_sum(dout, out.data(), out.size());
  }

  void backward(double* dword, double* dpos, double* dtype, double* dgamma, double* dbeta) {
    EmbeddingBackwardArgs<double> a;
    a.B = B; a.T = T; a.C = C; a.vocab = vocab; a.max_positions = max_positions; a.type_vocab = type_vocab;
    a.input_ids = ids.data(); a.token_type_ids = use_types ? types.data() : nullptr;
    a.word = word.data(); a.pos = pos.data(); a.type = type.data(); a.gamma = gamma.data(); a.beta = beta.data();
    a.dropout = dropout; a.mean = mean.data(); a.rstd = rstd.data(); a.dout = dout.data();
    a.dword = dword; a.dpos = dpos; a.dtype = dtype; a.dgamma = dgamma; a.dbeta = dbeta;
    cpu::embedding_backward(a);
  }

  struct Grads {
    std::vector<double> word, pos, type, gamma, beta;
  };
  Grads zero_grads() const {
    return {std::vector<double>(word.size(), 0.0), std::vector<double>(pos.size(), 0.0),
            std::vector<double>(type.size(), 0.0), std::vector<double>(gamma.size(), 0.0),
            std::vector<double>(beta.size(), 0.0)};
  }
  void backward(Grads& g) { backward(g.word.data(), g.pos.data(), g.type.data(), g.gamma.data(), g.beta.data()); }

  void check() {
    loss();
    Grads g = zero_grads();
    backward(g);
    expect_gradients_match([&] { return loss(); }, {{"word", &word, g.word},
                                                    {"pos", &pos, g.pos},
                                                    {"type", &type, g.type},
                                                    {"gamma", &gamma, g.gamma},
                                                    {"beta", &beta, g.beta}});
  }
};

TEST(GradcheckEmbedding, WithoutDropout) {
  EmbeddingCase t;
  t.check();
}

TEST(GradcheckEmbedding, WithDropout) {
  EmbeddingCase t;
  t.dropout.p = 0.2f; t.dropout.seed = 5; t.dropout.stream = dropout_stream(6, DropoutSite::Embedding);
  t.dropout.step = 11;
  t.check();
}

TEST(GradcheckEmbedding, WithoutTokenTypeIds) {
  EmbeddingCase t;
  t.use_types = false;  // all type 0: type row 1 gets no gradient
  t.check();
}

TEST(GradcheckEmbedding, ParameterGradientsAccumulate) {
  EmbeddingCase t;
  t.loss();
  auto once = t.zero_grads();
  t.backward(once);
  EmbeddingCase::Grads before{random_vector<double>(t.word.size(), 101), random_vector<double>(t.pos.size(), 102),
                              random_vector<double>(t.type.size(), 103), random_vector<double>(t.gamma.size(), 104),
                              random_vector<double>(t.beta.size(), 105)};
  auto after = before;
  t.backward(after);
  expect_accumulated("dword", after.word, before.word, once.word);
  expect_accumulated("dpos", after.pos, before.pos, once.pos);
  expect_accumulated("dtype", after.type, before.type, once.type);
  expect_accumulated("dgamma", after.gamma, before.gamma, once.gamma);
  expect_accumulated("dbeta", after.beta, before.beta, once.beta);
}

TEST(GradcheckEmbedding, NullGradientsAreSkipped) {
  EmbeddingCase t;
  t.loss();
  auto all = t.zero_grads();
  t.backward(all);
  auto one = t.zero_grads();
  t.backward(one.word.data(), nullptr, nullptr, nullptr, nullptr);
  t.backward(nullptr, one.pos.data(), nullptr, nullptr, nullptr);
  t.backward(nullptr, nullptr, one.type.data(), nullptr, nullptr);
  t.backward(nullptr, nullptr, nullptr, one.gamma.data(), nullptr);
  t.backward(nullptr, nullptr, nullptr, nullptr, one.beta.data());
  t.backward(nullptr, nullptr, nullptr, nullptr, nullptr);
  EXPECT_EQ(one.word, all.word);
  EXPECT_EQ(one.pos, all.pos);
  EXPECT_EQ(one.type, all.type);
  EXPECT_EQ(one.gamma, all.gamma);
  EXPECT_EQ(one.beta, all.beta);
}

}  // namespace
}  // namespace ft::test
