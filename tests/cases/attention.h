// attention's cases, once: the case type, the shapes of every mode, and which buffer is which
// argument. Used by gradcheck_attention, parity_attention and emulated_attention (through the
// references and tolerances of tests/support/attention_reference.h) and bench/attention.
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/philox.h"
#include "tests/cases/buffers.h"

namespace ft::cases {

struct AttentionCase {
  std::string name;
  int B = 1, T = 1, H = 1, D = 32;
  std::vector<int32_t> lengths;
  float dropout_p = 0.0f;
  double input_scale = 1.5;  // qkv uniform in [-input_scale, input_scale], never 0

  int C() const { return H * D; }
  float scale() const { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(D))); }
  size_t qkv_size() const { return static_cast<size_t>(B) * T * 3 * C(); }
  size_t out_size() const { return static_cast<size_t>(B) * T * C(); }
  size_t lse_size() const { return static_cast<size_t>(B) * H * T; }
  DropoutSpec dropout() const {
    return {.p = dropout_p, .seed = 0x5eed0123456789ull, .stream = dropout_stream(3, DropoutSite::AttentionProbs),
            .step = 11};
  }
  std::string full_name() const {
    std::ostringstream os;
    os << name << " (B " << B << ", T " << T << ", H " << H << ", D " << D << ", lengths";
    for (int32_t l : lengths) os << ' ' << l;
    os << ", dropout " << dropout_p << ")";
    return os.str();
  }
};

// ---- shapes

// Odd sizes (D 3, H 2, C 6) and padding (lengths 5, 1, 3 of T 5: full, a single real token,
// partly padded), small enough to perturb every element of qkv.
inline std::vector<AttentionCase> attention_gradcheck_cases() {
  return {{"padded", 3, 5, 2, 3, {5, 1, 3}, 0.0f}, {"padded, dropout", 3, 5, 2, 3, {5, 1, 3}, 0.25f}};
}

// Odd sizes, lengths that are not multiples of the kernels' 64-row tiles, batches of very different
// lengths (down to a single real token), dropout off and on, head sizes 32, 64 and 128. quick
// (compute-sanitizer runs): small shapes that still cross a tile, pad, drop out, and cover every head size.
inline std::vector<AttentionCase> attention_parity_cases(bool quick) {
  if (quick)
    return {
        {"single token", 1, 1, 1, 64, {1}, 0.0f},
        {"ragged, dropout", 2, 70, 1, 32, {70, 5}, 0.1f},
        {"three key tiles, dropout", 1, 130, 1, 64, {130}, 0.25f},
        {"D 128, dropout", 1, 70, 1, 128, {70}, 0.1f},
    };
  return {
      {"single token", 1, 1, 1, 64, {1}, 0.0f},
      {"MiniLM heads, ragged", 3, 77, 2, 32, {77, 5, 1}, 0.0f},
      {"MiniLM heads, ragged, dropout", 3, 77, 2, 32, {77, 5, 1}, 0.1f},
      {"very different lengths, heavy dropout", 4, 37, 3, 32, {1, 37, 2, 20}, 0.5f},
      {"BERT-base heads", 2, 128, 12, 64, {128, 100}, 0.0f},
      {"BERT-base heads, dropout", 2, 128, 12, 64, {128, 100}, 0.1f},
      {"past 512, dropout", 2, 513, 2, 64, {513, 200}, 0.1f},
      {"D 128", 2, 200, 2, 128, {200, 67}, 0.0f},
      {"D 128, dropout", 2, 200, 2, 128, {129, 64}, 0.1f},
  };
}

// Small enough to emulate in seconds, large enough to cross tile boundaries (64) with odd sizes,
// padding, a single real key, and every head size.
inline std::vector<AttentionCase> attention_emulated_cases() {
  return {
      {"single token", 1, 1, 1, 64, {1}, 0.0f},
      {"MiniLM-like, ragged", 3, 77, 2, 32, {77, 5, 1}, 0.0f},
      {"MiniLM-like, ragged, dropout", 3, 77, 2, 32, {77, 5, 1}, 0.1f},
      {"two key tiles and a bit", 2, 130, 1, 64, {130, 65}, 0.25f},
      {"D 128", 2, 70, 1, 128, {70, 33}, 0.0f},
      {"D 128, dropout", 1, 70, 1, 128, {64}, 0.5f},
  };
}
// Three or more steps in every loop (T 150, tiles of 64): the third step reuses the first step's
// buffers, which is where a missing barrier shows.
inline AttentionCase attention_thread_order_case() { return {"order", 2, 150, 1, 32, {150, 140}, 0.2f}; }
// Sequence 1 claims 10 tokens of T 9.
inline AttentionCase attention_bad_length_case() { return {"bad length", 2, 9, 1, 32, {9, 10}, 0.0f}; }

// Lengths spread evenly over 64..T (a padded batch).
inline std::vector<int32_t> spread_lengths(int B, int T) {
  std::vector<int32_t> l(static_cast<size_t>(B), T);
  if (B > 1)
    for (int b = 0; b < B; ++b) l[b] = 64 + static_cast<int32_t>(static_cast<int64_t>(T - 64) * b / (B - 1));
  return l;
}

// BERT-base (H 12, D 64) and MiniLM (H 12, D 32) with B 32 at T 128, 256 and 512, full lengths;
// BERT-base at T 512 as a padded batch; with dropout 0.1 (the training configuration).
inline std::vector<AttentionCase> attention_bench_cases() {
  const std::vector<int32_t> full128(32, 128), full256(32, 256), full512(32, 512);
  return {
      {"bert,T=128", 32, 128, 12, 64, full128, 0.0f},
      {"bert,T=256", 32, 256, 12, 64, full256, 0.0f},
      {"bert,T=512", 32, 512, 12, 64, full512, 0.0f},
      {"minilm,T=128", 32, 128, 12, 32, full128, 0.0f},
      {"minilm,T=256", 32, 256, 12, 32, full256, 0.0f},
      {"minilm,T=512", 32, 512, 12, 32, full512, 0.0f},
      {"bert,T=512,padded", 32, 512, 12, 64, spread_lengths(32, 512), 0.0f},
      {"bert,T=128,dropout=0.1", 32, 128, 12, 64, full128, 0.1f},
      {"bert,T=512,dropout=0.1", 32, 512, 12, 64, full512, 0.1f},  // the normal fine-tuning case
  };
}

// ---- arguments

template <class R>
AttentionForwardArgs<R> attention_forward_args(const AttentionCase& c, const R* qkv, const int32_t* lengths, R* out,
                                               stat_t<R>* lse) {
  return {.B = c.B, .T = c.T, .H = c.H, .D = c.D, .qkv = qkv, .lengths = lengths, .scale = c.scale(),
          .dropout = c.dropout(), .out = out, .lse = lse};
}

template <class R>
AttentionBackwardArgs<R> attention_backward_args(const AttentionCase& c, const R* qkv, const int32_t* lengths,
                                                 const R* out, const stat_t<R>* lse, const R* dout, R* dqkv) {
  return {.B = c.B, .T = c.T, .H = c.H, .D = c.D, .qkv = qkv, .lengths = lengths, .scale = c.scale(),
          .dropout = c.dropout(), .out = out, .lse = lse, .dout = dout, .dqkv = dqkv};
}

template <class R, class Buffers>
AttentionForwardArgs<R> attention_forward_args(const AttentionCase& c, Buffers& b) {
  const double s = c.input_scale;
  return attention_forward_args<R>(c, b.template in<R>("qkv", c.qkv_size(), {-s, s}), b.ids("lengths", c.lengths),
                                   b.template out<R>("out", c.out_size()),
                                   b.template out<stat_t<R>>("lse", c.lse_size()));
}

// The backward of the forward `f` (its inputs, output and logsumexp), as the model chains them.
template <class R, class Buffers>
AttentionBackwardArgs<R> attention_backward_args(const AttentionCase& c, const AttentionForwardArgs<R>& f,
                                                 Buffers& b) {
  return attention_backward_args<R>(c, f.qkv, f.lengths, f.out, f.lse, b.template in<R>("dout", c.out_size()),
                                    b.template out<R>("dqkv", c.qkv_size()));
}

// sum over (b, h) of T * L * D: only real keys count (the kernels skip padded key tiles; padded
// query rows are computed, as in the CPU backend).
inline double attention_tld(const AttentionCase& c) {
  double sum = 0.0;
  for (int32_t l : c.lengths) sum += static_cast<double>(c.T) * l * c.D * c.H;
  return sum;
}
// Forward: S = Q K^T and O = P V, 2 T L D FLOPs each. Backward: 2.5 x forward, the usual
// flash-attention convention (S recomputed once, dP = dO V^T, dV = P^T dO, dQ = dS K, dK = dS^T Q);
// the kernels execute 14 T L D (the dQ kernel and the dK/dV kernel each recompute S and dP, which
// buys determinism without atomics).
inline double attention_forward_flops(const AttentionCase& c) { return 4.0 * attention_tld(c); }
inline double attention_backward_flops(const AttentionCase& c) { return 10.0 * attention_tld(c); }
inline double attention_backward_executed_flops(const AttentionCase& c) { return 14.0 * attention_tld(c); }

}  // namespace ft::cases
