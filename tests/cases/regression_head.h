// regression_head's cases, once: shapes per mode, how each input is drawn, which buffer is which
// argument (tests/cases/buffers.h). Used by gradcheck_regression_head, parity_regression_head,
// emulated_regression_head and bench/regression_head.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/buffers.h"

namespace ft::cases {

struct RegressionHeadCase {
  int B = 0, C = 0;
  float p = 0.0f;           // dropout on pooled
  bool targets = true;      // false: prediction only (no loss, so no backward)
  float loss_scale = 1.0f;  // backward: d(total)/d(loss)

  DropoutSpec dropout() const {
    return {.p = p, .seed = 99, .stream = dropout_stream(0, DropoutSite::Classifier), .step = 3};
  }
  std::string name() const {
    return "regression_head " + shape_name({{"B", B}, {"C", C}}) + (p > 0 ? " dropout" : "") +
           (targets ? "" : " no-targets");
  }
  size_t n() const { return static_cast<size_t>(B) * C; }
};

// ---- shapes

// Small enough to perturb every element; with and without dropout on pooled.
inline std::vector<RegressionHeadCase> regression_head_gradcheck_cases() {
  return {{.B = 5, .C = 7}, {.B = 5, .C = 7, .p = 0.3f}};
}

// A single element; 1 to 200 rows (up to 25 per warp of the forward's 8); widths off a warp's 32
// lanes; prediction only; loss scales; MiniLM and BERT-base widths.
inline std::vector<RegressionHeadCase> regression_head_parity_shapes(bool quick) {
  if (quick) return {{3, 16, 0.1f, true, 1.0f}};
  return {{1, 1, 0.0f, true, 1.0f},     {3, 16, 0.1f, true, 1.0f},   {7, 33, 0.1f, false, 1.0f},
          {32, 384, 0.1f, true, 0.25f}, {64, 768, 0.0f, true, 0.5f}, {200, 100, 0.3f, true, 1.0f}};
}

// The emulator runs every thread on the CPU: a single element, and a small batch with dropout.
inline std::vector<RegressionHeadCase> regression_head_emulated_shapes() {
  return {{1, 1, 0.0f, true, 0.5f}, {19, 40, 0.2f, true, 0.5f}};
}

// A fine-tuning batch of 32 at BERT-base width.
inline std::vector<RegressionHeadCase> regression_head_bench_shapes() { return {{32, 768, 0.1f}}; }

// ---- inputs and arguments

// pooled is a tanh output; w is small, as initialised, so that predictions are of the targets' order.
// Targets are fp32 in every precision: drawn at fp32, not at the mode's bf16 rounding (buffers.h
// rounds every input it draws).
template <class R, class Buffers>
RegressionHeadForwardArgs<R> regression_head_forward_args(const RegressionHeadCase& c, Buffers& b) {
  using Stat = stat_t<R>;
  return {.B = c.B, .C = c.C,
          .pooled = b.template in<R>("pooled", c.n(), {-0.99, 0.99}),
          .w = b.template in<R>("w", c.C, {-0.1, 0.1}),
          .b = b.template in<R>("b", 1),
          .dropout = c.dropout(),
          .targets = c.targets ? b.template put<Stat>("targets", draw("targets", c.B, {-2, 2}, b.seed())) : nullptr,
          .pred = b.template out<Stat>("pred", c.B),
          .loss = b.template out<Stat>("loss", 1)};
}

// The backward of a forward (on the same buffers), as the model chains them: its inputs, dropout
// mask and saved predictions.
template <class R, class Buffers>
RegressionHeadBackwardArgs<R> regression_head_backward_args(const RegressionHeadCase& c, Buffers& b,
                                                            const RegressionHeadForwardArgs<R>& fwd) {
  if (!c.targets) throw std::logic_error("regression_head: a backward needs targets");
  return {.B = c.B, .C = c.C, .pooled = fwd.pooled, .w = fwd.w, .dropout = fwd.dropout, .targets = fwd.targets,
          .pred = fwd.pred, .loss_scale = c.loss_scale,
          .dpooled = b.template out<R>("dpooled", c.n()),
          .dw = b.template acc<R>("dw", c.C),
          .db = b.template acc<R>("db", 1)};
}

// What the benchmark moves per call, s = sizeof(R): the forward reads pooled (B C s), the backward
// also writes dpooled (B C s); w and the B predictions are negligible. At B = 32, C = 768 that is
// ~100 KB: the kernels are latency-bound, and the number to read is the time per call (a few
// microseconds is the floor of a launch).
template <class R>
double regression_head_forward_bytes(const RegressionHeadCase& c) {
  return static_cast<double>(c.n()) * sizeof(R);
}
template <class R>
double regression_head_backward_bytes(const RegressionHeadCase& c) {
  return 2.0 * static_cast<double>(c.n()) * sizeof(R);
}

}  // namespace ft::cases
