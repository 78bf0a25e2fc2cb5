// Attention properties beyond the gradient check: agreement with a naive double implementation of
// HF's formula (scores * scale + finfo.min mask, softmax, dropout at element index
// ((b * H + h) * T + i) * T + j, times v) at a realistic shape with padding and dropout;
// invariance to whatever the padded positions' keys and values hold; rejection of bad lengths.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/cpu/ops.h"
#include "core/error.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

struct Shape {
  int B = 3, T = 19, H = 4, D = 8;
  int C() const { return H * D; }
};

template <class Real>
void forward(const Shape& s, const std::vector<Real>& qkv, const std::vector<int32_t>& lengths, const DropoutSpec& d,
             std::vector<Real>& out, std::vector<stat_t<Real>>& lse) {
  out = poisoned_vector<Real>(static_cast<size_t>(s.B) * s.T * s.C());
  lse = poisoned_vector<stat_t<Real>>(static_cast<size_t>(s.B) * s.H * s.T);
  AttentionForwardArgs<Real> a;
  a.B = s.B; a.T = s.T; a.H = s.H; a.D = s.D; a.qkv = qkv.data(); a.lengths = lengths.data();
  a.scale = 1.0f / std::sqrt(static_cast<float>(s.D)); a.dropout = d; a.out = out.data(); a.lse = lse.data();
  cpu::attention_forward(a);
}

TEST(CpuAttention, MatchesNaiveHfFormulaWithPaddingAndDropout) {
  Shape s;
  const std::vector<int32_t> lengths{19, 1, 7};
  const auto qkv = random_vector<double>(static_cast<size_t>(s.B) * s.T * 3 * s.C(), 401, 2.0);
  DropoutSpec d;
  d.p = 0.1f; d.seed = 8; d.stream = dropout_stream(3, DropoutSite::AttentionProbs); d.step = 5;
  std::vector<double> out, lse;
  forward(s, qkv, lengths, d, out, lse);
  const double scale = static_cast<double>(1.0f / std::sqrt(static_cast<float>(s.D)));
  const double dscale = 1.0 / (1.0 - static_cast<double>(d.p));
  const int C = s.C(), ld = 3 * C;
  int dropped = 0;
  for (int b = 0; b < s.B; ++b)
    for (int h = 0; h < s.H; ++h)
      for (int i = 0; i < s.T; ++i) {
        // HF: scores + (0 or finfo(float32).min), softmax over all T keys
        std::vector<double> p(static_cast<size_t>(s.T));
        double mx = -std::numeric_limits<double>::infinity();
        for (int j = 0; j < s.T; ++j) {
          double dot = 0.0;
          for (int e = 0; e < s.D; ++e)
            dot += qkv[(static_cast<size_t>(b) * s.T + i) * ld + h * s.D + e] *
                   qkv[(static_cast<size_t>(b) * s.T + j) * ld + C + h * s.D + e];
          p[j] = dot * scale + (j < lengths[b] ? 0.0 : static_cast<double>(std::numeric_limits<float>::lowest()));
          mx = std::max(mx, p[j]);
        }
        double sum = 0.0;
        for (int j = 0; j < s.T; ++j) sum += (p[j] = std::exp(p[j] - mx));
        EXPECT_NEAR(lse[(static_cast<size_t>(b) * s.H + h) * s.T + i], mx + std::log(sum), 1e-12);
        for (int e = 0; e < s.D; ++e) {
          double o = 0.0;
          for (int j = 0; j < s.T; ++j) {
            const uint64_t idx = ((static_cast<uint64_t>(b) * s.H + h) * s.T + i) * s.T + j;
            const bool keep = dropout_keep(d.seed, d.stream, d.step, idx, d.p);
            if (e == 0 && j < lengths[b] && !keep) ++dropped;
            o += (keep ? p[j] / sum * dscale : 0.0) * qkv[(static_cast<size_t>(b) * s.T + j) * ld + 2 * C + h * s.D + e];
          }
          // Values are O(1) sums of at most 19 terms: 1e-13 is ~500 ulp of double.
          EXPECT_NEAR(out[(static_cast<size_t>(b) * s.T + i) * C + h * s.D + e], o, 1e-13)
              << "b " << b << " h " << h << " i " << i << " e " << e;
        }
      }
  EXPECT_GT(dropped, 0) << "the test must exercise dropped probabilities";
}

TEST(CpuAttention, PaddedKeysAndValuesAreNeverRead) {
  Shape s;
  const std::vector<int32_t> lengths{5, 19, 2};
  auto qkv = random_vector<float>(static_cast<size_t>(s.B) * s.T * 3 * s.C(), 402);
  std::vector<float> out1, lse1, out2, lse2;
  forward(s, qkv, lengths, DropoutSpec{}, out1, lse1);
  const int C = s.C();
  for (int b = 0; b < s.B; ++b)
    for (int j = lengths[b]; j < s.T; ++j)
      for (int c = C; c < 3 * C; ++c) qkv[(static_cast<size_t>(b) * s.T + j) * 3 * C + c] = 1e6f;
  forward(s, qkv, lengths, DropoutSpec{}, out2, lse2);
  EXPECT_EQ(out1, out2);
  EXPECT_EQ(lse1, lse2);
}

TEST(CpuAttention, RejectsLengthsOutsideOneToT) {
  Shape s;
  const auto qkv = random_vector<float>(static_cast<size_t>(s.B) * s.T * 3 * s.C(), 403);
  std::vector<float> out, lse;
  for (int32_t bad : {0, 20, -3}) {
    const std::vector<int32_t> lengths{4, bad, 4};
    try {
      forward(s, qkv, lengths, DropoutSpec{}, out, lse);
      ADD_FAILURE() << "length " << bad << " accepted";
    } catch (const ft::Error& e) {
      EXPECT_NE(std::string(e.what()).find("lengths[1] = " + std::to_string(bad)), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace ft::test
