// pooler's cases, once: shapes per mode, how each input is drawn, which buffer is which argument
// (tests/cases/buffers.h). Used by gradcheck_pooler, parity_pooler, emulated_pooler and
// bench/pooler.
#pragma once

#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/buffers.h"

namespace ft::cases {

struct PoolerCase {
  int B = 0, T = 0, C = 0;
  bool dhidden = true;  // backward: dhidden asked for
  bool params = true;   // backward: dw, db asked for

  std::string shape() const { return shape_name({{"B", B}, {"T", T}, {"C", C}}); }
  std::string forward_name() const { return "pooler_forward " + shape(); }
  std::string backward_name() const {
    return "pooler_backward " + shape() + (dhidden ? "" : " no-dhidden") + (params ? "" : " no-params");
  }
  size_t nh() const { return static_cast<size_t>(B) * T * C; }
  size_t nw() const { return static_cast<size_t>(C) * C; }
  size_t np() const { return static_cast<size_t>(B) * C; }
};

// ---- shapes

// Small enough to perturb every element; T > 1 so that rows t > 0 (which get no gradient) exist.
inline std::vector<PoolerCase> pooler_gradcheck_cases() { return {{3, 4, 5}}; }

// One row per sequence (T = 1), odd C off the GEMM tiles, MiniLM's and BERT-base's widths.
inline std::vector<PoolerCase> pooler_parity_shapes(bool quick) {
  if (quick) return {{3, 4, 16}};
  return {{1, 1, 8}, {3, 4, 16}, {5, 7, 33}, {32, 12, 384}, {16, 3, 768}};
}

// The GEMMs' leading dimension T*C over the [CLS] rows, and T = 1 where it is just C.
inline std::vector<PoolerCase> pooler_emulated_shapes() { return {{3, 4, 16}, {5, 1, 7}}; }
// The bf16 path: one shape is enough, the mapping is the fp32 one.
inline std::vector<PoolerCase> pooler_emulated_bf16_shapes() { return {{3, 4, 16}}; }

// A fine-tuning batch: 32 sequences of 128 tokens, BERT-base.
inline std::vector<PoolerCase> pooler_bench_shapes() { return {{32, 128, 768}}; }

// ---- inputs and arguments

// W small (|w| <= 0.1): the pre-activation stays of order 1 up to C = 768, where tanh is curved but
// not saturated (a saturated tanh has a vanishing gradient and would hide errors in it).
inline constexpr Range kPoolerWeightRange{-0.1, 0.1};

template <class R, class Buffers>
PoolerForwardArgs<R> pooler_forward_args(const PoolerCase& c, Buffers& b) {
  return {.B = c.B, .T = c.T, .C = c.C,
          .hidden = b.template in<R>("hidden", c.nh()),
          .w = b.template in<R>("w", c.nw(), kPoolerWeightRange),
          .b = b.template in<R>("b", c.C),
          .pooled = b.template out<R>("pooled", c.np())};
}

// A backward on its own: pooled drawn as tanh outputs would be, inside (-1, 1) and away from the
// saturated ends. dw and db accumulate (+=) and start from drawn values.
template <class R, class Buffers>
PoolerBackwardArgs<R> pooler_backward_args(const PoolerCase& c, Buffers& b) {
  return {.B = c.B, .T = c.T, .C = c.C,
          .hidden = b.template in<R>("hidden", c.nh()),
          .w = b.template in<R>("w", c.nw(), kPoolerWeightRange),
          .pooled = b.template in<R>("pooled", c.np(), {-0.95, 0.95}),
          .dpooled = b.template in<R>("dpooled", c.np()),
          .dhidden = c.dhidden ? b.template out<R>("dhidden", c.nh()) : nullptr,
          .dw = c.params ? b.template acc<R>("dw", c.nw()) : nullptr,
          .db = c.params ? b.template acc<R>("db", c.C) : nullptr};
}

// The backward of a forward that just ran, as the model chains them: its hidden, W and output.
template <class R>
void chain_pooler_backward(PoolerBackwardArgs<R>& bwd, const PoolerForwardArgs<R>& fwd) {
  bwd.hidden = fwd.hidden;
  bwd.w = fwd.w;
  bwd.pooled = fwd.pooled;
}

// The names of the outputs a case's backward writes.
inline std::vector<std::string> pooler_backward_outputs(const PoolerCase& c) {
  std::vector<std::string> v;
  if (c.dhidden) v.push_back("dhidden");
  if (c.params) v.insert(v.end(), {"dw", "db"});
  return v;
}

// What the benchmark computes per call, B sequences of width C: forward 2 B C^2 FLOPs, backward
// 4 B C^2 (dh0 and dW); zeroing dhidden (B T C elements) and the tanh are not counted. At B = 32
// these GEMMs are far too small to fill a GPU: the number shows the fixed cost the pooler adds to a
// step, in TFLOP/s and microseconds.
inline double pooler_forward_flops(const PoolerCase& c) { return 2.0 * c.B * c.C * c.C; }
inline double pooler_backward_flops(const PoolerCase& c) { return 4.0 * c.B * c.C * c.C; }

}  // namespace ft::cases
