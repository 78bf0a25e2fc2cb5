// Gradient check of attention in double: every element of qkv (queries, keys and values of every
// head, padded positions included), with padding, odd sizes, without and with dropout on the
// probabilities. Cases: tests/cases/attention.h.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/attention.h"
#include "tests/support/gradcheck.h"

namespace ft::test {
namespace {

using cases::AttentionCase;

// The forward and its backward; loss = sum(dout * out).
struct Chained : ChainedOp<AttentionForwardArgs<double>, AttentionBackwardArgs<double>> {
  AttentionCase c;
  explicit Chained(AttentionCase ac)
      : ChainedOp(81, cpu::attention_forward, &AttentionForwardArgs<double>::out, "dout", ac.out_size()), c(ac) {
    fwd = cases::attention_forward_args<double>(c, inputs);
    bwd = cases::attention_backward_args<double>(c, fwd, backward_inputs);
  }
  std::vector<double> backward() {
    cpu::attention_backward(bwd);
    return backward_inputs.read("dqkv");
  }
};

void check_qkv_gradient(const AttentionCase& c) {
  Chained t(c);
  t.loss();
  const auto dqkv = t.backward();
  expect_gradients_match([&] { return t.loss(); }, {{"qkv", &t.input("qkv"), dqkv}});
}

TEST(GradcheckAttention, PaddedWithoutDropout) { check_qkv_gradient(cases::attention_gradcheck_cases()[0]); }

TEST(GradcheckAttention, PaddedWithDropout) { check_qkv_gradient(cases::attention_gradcheck_cases()[1]); }

// Keys and values past a sequence's length have no influence, so their gradient is exactly 0.
TEST(GradcheckAttention, PaddedKeysAndValuesGetExactlyZeroGradient) {
  Chained t(cases::attention_gradcheck_cases()[0]);
  t.loss();
  const auto dqkv = t.backward();
  const int C = t.c.C();
  for (int b = 0; b < t.c.B; ++b)
    for (int j = t.c.lengths[b]; j < t.c.T; ++j)
      for (int c = C; c < 3 * C; ++c)
        EXPECT_EQ(dqkv[(static_cast<size_t>(b) * t.c.T + j) * 3 * C + c], 0.0) << "b " << b << " key " << j << " col " << c;
}

}  // namespace
}  // namespace ft::test
