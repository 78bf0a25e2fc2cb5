// Gradient check of attention in double: every element of qkv (queries, keys and values of every
// head, padded positions included), with padding (lengths 5, 1, 3 of T = 5), odd sizes (D = 3,
// H = 2, C = 6), without and with dropout on the probabilities.
#include <gtest/gtest.h>

#include <cmath>

#include "core/cpu/ops.h"
#include "tests/support/gradcheck.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

struct AttentionCase {
  int B = 3, T = 5, H = 2, D = 3;
  int C() const { return H * D; }
  std::vector<int32_t> lengths{5, 1, 3};  // full, a single real token, partly padded
  std::vector<double> qkv = random_vector<double>(static_cast<size_t>(B) * T * 3 * C(), 81, 1.5);  // (B, T, 3C)
  std::vector<double> dout = random_vector<double>(static_cast<size_t>(B) * T * C(), 82);         // (B, T, C)
  DropoutSpec dropout;
  // Saved by the last forward:
  std::vector<double> out, lse;

  double loss() {
    out = poisoned_vector<double>(static_cast<size_t>(B) * T * C());
    lse = poisoned_vector<double>(static_cast<size_t>(B) * H * T);
    AttentionForwardArgs<double> a;
    a.B = B; a.T = T; a.H = H; a.D = D;
    a.qkv = qkv.data(); a.lengths = lengths.data(); a.scale = static_cast<float>(1.0 / std::sqrt(D));
    a.dropout = dropout; a.out = out.data(); a.lse = lse.data();
    cpu::attention_forward(a);
    return weighted_sum(dout, out.data(), out.size());
  }

  std::vector<double> backward() {
    auto dqkv = poisoned_vector<double>(qkv.size());
    AttentionBackwardArgs<double> a;
    a.B = B; a.T = T; a.H = H; a.D = D;
    a.qkv = qkv.data(); a.lengths = lengths.data(); a.scale = static_cast<float>(1.0 / std::sqrt(D));
    a.dropout = dropout; a.out = out.data(); a.lse = lse.data(); a.dout = dout.data(); a.dqkv = dqkv.data();
    cpu::attention_backward(a);
    return dqkv;
  }
};

TEST(GradcheckAttention, PaddedWithoutDropout) {
  AttentionCase t;
  t.loss();
  auto dqkv = t.backward();
  expect_gradients_match([&] { return t.loss(); }, {{"qkv", &t.qkv, dqkv}});
}

TEST(GradcheckAttention, PaddedWithDropout) {
  AttentionCase t;
  t.dropout.p = 0.25f; t.dropout.seed = 99; t.dropout.stream = dropout_stream(1, DropoutSite::AttentionProbs);
  t.dropout.step = 3;
  t.loss();
  auto dqkv = t.backward();
  expect_gradients_match([&] { return t.loss(); }, {{"qkv", &t.qkv, dqkv}});
}

// Keys and values past a sequence's length have no influence, so their gradient is exactly 0.
TEST(GradcheckAttention, PaddedKeysAndValuesGetExactlyZeroGradient) {
  AttentionCase t;
  t.loss();
  const auto dqkv = t.backward();
  const int C = t.C();
  for (int b = 0; b < t.B; ++b)
    for (int j = t.lengths[b]; j < t.T; ++j)
      for (int c = C; c < 3 * C; ++c)
        EXPECT_EQ(dqkv[(static_cast<size_t>(b) * t.T + j) * 3 * C + c], 0.0) << "b " << b << " key " << j << " col " << c;
}

}  // namespace
}  // namespace ft::test
