// Embedding input checks: an id outside the vocabulary, a token type outside the type table, or a
// sequence longer than the position table throws ft::Error naming the value, where it is and the
// limit; nothing is written.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/cpu/ops.h"
#include "core/error.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

struct EmbeddingInput {
  int B = 2, T = 3, C = 4, vocab = 10, max_positions = 3, type_vocab = 2;
  std::vector<int32_t> ids{1, 2, 3, 4, 5, 6};
  std::vector<int32_t> types{0, 1, 0, 1, 0, 1};
  std::vector<float> word = random_vector<float>(40, 1), pos = random_vector<float>(12, 2);
  std::vector<float> type = random_vector<float>(8, 3), gamma = random_vector<float>(4, 4);
  std::vector<float> beta = random_vector<float>(4, 5);
  std::vector<float> out = poisoned_vector<float>(24), mean = poisoned_vector<float>(6), rstd = poisoned_vector<float>(6);

  // Runs the forward; returns the ft::Error message, or "" when it did not throw.
  std::string forward_error() {
    EmbeddingForwardArgs<float> a;
    a.B = B; a.T = T; a.C = C; a.vocab = vocab; a.max_positions = max_positions; a.type_vocab = type_vocab;
    a.input_ids = ids.data(); a.token_type_ids = types.data(); a.word = word.data(); a.pos = pos.data();
    a.type = type.data(); a.gamma = gamma.data(); a.beta = beta.data(); a.out = out.data(); a.mean = mean.data();
    a.rstd = rstd.data();
    try {
      cpu::embedding_forward(a);
    } catch (const ft::Error& e) {
      return e.what();
    }
    return "";
  }
};

void expect_contains(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "message \"" << message << "\" lacks \"" << part << "\"";
}

TEST(CpuEmbeddingErrors, ValidInputDoesNotThrow) {
  EmbeddingInput s;
  EXPECT_EQ(s.forward_error(), "");
  for (float v : s.out) EXPECT_FALSE(std::isnan(v));
}

TEST(CpuEmbeddingErrors, IdPastTheVocabulary) {
  EmbeddingInput s;
  s.ids[4] = 10;  // batch 1, position 1
  const std::string m = s.forward_error();
  expect_contains(m, "input id 10");
  expect_contains(m, "batch 1, position 1");
  expect_contains(m, "vocabulary of 10");
  for (float v : s.out) EXPECT_TRUE(std::isnan(v)) << "nothing may be written on bad input";
}

TEST(CpuEmbeddingErrors, NegativeId) {
  EmbeddingInput s;
  s.ids[0] = -1;
  const std::string m = s.forward_error();
  expect_contains(m, "input id -1");
  expect_contains(m, "batch 0, position 0");
}

TEST(CpuEmbeddingErrors, TokenTypePastTheTable) {
  EmbeddingInput s;
  s.types[2] = 2;
  const std::string m = s.forward_error();
  expect_contains(m, "token type id 2");
  expect_contains(m, "batch 0, position 2");
  expect_contains(m, "2 token types");
}

TEST(CpuEmbeddingErrors, SequenceLongerThanThePositionTable) {
  EmbeddingInput s;
  s.max_positions = 2;
  const std::string m = s.forward_error();
  expect_contains(m, "sequence length 3");
  expect_contains(m, "2 positions");
}

}  // namespace
}  // namespace ft::test
