// Gradient check of the embedding layer (word + type + position, LayerNorm, dropout) in double:
// every element of the three tables, gamma and beta; repeated ids so rows share table rows;
// without and with dropout, with and without token type ids. Also the accumulate and null rules.
// Case: tests/cases/embedding.h.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/embedding.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

using cases::EmbeddingCase;

// The forward and the backward chained on one set of host buffers; loss = sum(dout * out).
struct Chained : ChainedOp<EmbeddingForwardArgs<double>, EmbeddingBackwardArgs<double>> {
  EmbeddingCase c;
  explicit Chained(EmbeddingCase ec)
      : ChainedOp(31, cpu::embedding_forward, &EmbeddingForwardArgs<double>::out, "dout", ec.n()), c(ec) {
    fwd = cases::embedding_forward_args<double>(c, inputs);
    bwd = cases::embedding_backward_args<double>(c, inputs, fwd);
  }

  void backward(double* dword, double* dpos, double* dtype, double* dgamma, double* dbeta) {
    EmbeddingBackwardArgs<double> a = bwd;
    a.dword = dword;
    a.dpos = dpos;
    a.dtype = dtype;
    a.dgamma = dgamma;
    a.dbeta = dbeta;
    cpu::embedding_backward(a);
  }

  struct Grads {
    std::vector<double> word, pos, type, gamma, beta;
  };
  Grads zero_grads() {
    return {std::vector<double>(input("word").size(), 0.0), std::vector<double>(input("pos").size(), 0.0),
            std::vector<double>(input("type").size(), 0.0), std::vector<double>(input("gamma").size(), 0.0),
            std::vector<double>(input("beta").size(), 0.0)};
  }
  void backward(Grads& g) { backward(g.word.data(), g.pos.data(), g.type.data(), g.gamma.data(), g.beta.data()); }

  void check() {
    loss();
    Grads g = zero_grads();
    backward(g);
    expect_gradients_match([&] { return loss(); }, {{"word", &input("word"), g.word},
                                                    {"pos", &input("pos"), g.pos},
                                                    {"type", &input("type"), g.type},
                                                    {"gamma", &input("gamma"), g.gamma},
                                                    {"beta", &input("beta"), g.beta}});
  }
};

TEST(GradcheckEmbedding, WithoutDropout) {
  Chained t(cases::embedding_gradcheck_case());
  t.check();
}

TEST(GradcheckEmbedding, WithDropout) {
  EmbeddingCase c = cases::embedding_gradcheck_case();
  c.p = 0.2f;
  Chained t(c);
  t.check();
}

TEST(GradcheckEmbedding, WithoutTokenTypeIds) {
  EmbeddingCase c = cases::embedding_gradcheck_case();
  c.type_ids = false;  // all type 0: type row 1 gets no gradient
  Chained t(c);
  t.check();
}

TEST(GradcheckEmbedding, ParameterGradientsAccumulate) {
  Chained t(cases::embedding_gradcheck_case());
  t.loss();
  auto once = t.zero_grads();
  t.backward(once);
  Chained::Grads before{random_vector<double>(once.word.size(), 101), random_vector<double>(once.pos.size(), 102),
                        random_vector<double>(once.type.size(), 103), random_vector<double>(once.gamma.size(), 104),
                        random_vector<double>(once.beta.size(), 105)};
  auto after = before;
  t.backward(after);
  expect_accumulated("dword", after.word, before.word, once.word);
  expect_accumulated("dpos", after.pos, before.pos, once.pos);
  expect_accumulated("dtype", after.type, before.type, once.type);
  expect_accumulated("dgamma", after.gamma, before.gamma, once.gamma);
  expect_accumulated("dbeta", after.beta, before.beta, once.beta);
}

TEST(GradcheckEmbedding, NullGradientsAreSkipped) {
  Chained t(cases::embedding_gradcheck_case());
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
