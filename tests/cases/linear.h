// linear's cases, once: shapes per mode, how each input is drawn, which buffer is which argument
// (tests/cases/buffers.h). Used by gradcheck_linear, parity_linear, emulated_linear and
// bench/linear.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "core/ops.h"
#include "tests/cases/buffers.h"

namespace ft::cases {

struct LinearCase {
  int N = 0, in = 0, out = 0;
  bool bias = true;            // forward: b given
  bool dx = true;              // backward: dx asked for
  bool dx_accumulate = false;  // backward: dx +=
  bool dw = true;              // backward: dw asked for
  bool db = true;              // backward: db asked for

  std::string shape() const { return shape_name({{"N", N}, {"in", in}, {"out", out}}); }
  std::string forward_name() const { return "linear_forward " + shape() + (bias ? " +bias" : ""); }
  std::string backward_name() const {
    return "linear_backward " + shape() + (dx ? "" : " no-dx") + (dx_accumulate ? " dx+=" : "") + (dw ? "" : " no-dw") +
           (db ? "" : " no-db");
  }
  size_t nx() const { return static_cast<size_t>(N) * in; }
  size_t nw() const { return static_cast<size_t>(out) * in; }
  size_t ny() const { return static_cast<size_t>(N) * out; }
};

// ---- shapes

// Odd sizes, in != out, so that a transposed index or a swapped dimension cannot pass.
inline std::vector<LinearCase> linear_gradcheck_cases() { return {{7, 5, 6}}; }

// Degenerate 1 x 1, odd sizes off every GEMM tile, BERT widths (K up to 1152 products per output),
// a long reduction into few outputs.
inline std::vector<LinearCase> linear_parity_shapes(bool quick) {
  if (quick) return {{3, 5, 7}, {16, 32, 48}};
  return {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 128, 96}, {300, 384, 1152}, {129, 768, 384}, {2, 1000, 3}};
}

// The GEMM argument mapping (leading dimensions, transposes), the bias epilogue with and without a
// bias, and db over two row chunks of the column sums (N = 300). The backward accumulates into dx,
// so the beta = 1 path of the dx GEMM runs too.
inline std::vector<LinearCase> linear_emulated_shapes() {
  return {{.N = 7, .in = 5, .out = 3, .dx_accumulate = true},
          {.N = 300, .in = 24, .out = 40, .bias = false, .dx_accumulate = true}};
}
// The bf16 path: one shape is enough, the mapping is the fp32 one.
inline std::vector<LinearCase> linear_emulated_bf16_shapes() { return {{.N = 33, .in = 16, .out = 24, .dx_accumulate = true}}; }

// BERT-base's four projections, at B x T = 8 x 512 and 32 x 512 rows.
struct LinearBenchShape {
  std::string layer;
  LinearCase c;
};
inline std::vector<LinearBenchShape> linear_bench_shapes() {
  std::vector<LinearBenchShape> v;
  for (int N : {4096, 16384})
    for (auto [layer, in, out] : {std::tuple{"qkv", 768, 2304}, std::tuple{"attn_out", 768, 768},
                                  std::tuple{"ffn_in", 768, 3072}, std::tuple{"ffn_out", 3072, 768}})
      v.push_back({layer, {N, in, out}});
  return v;
}

// ---- inputs and arguments

// W small (|w| <= 0.1) so that y stays of order 1 up to in = 1000 and no output is dominated by a
// few products.
inline constexpr Range kLinearWeightRange{-0.1, 0.1};

template <class R, class Buffers>
LinearForwardArgs<R> linear_forward_args(const LinearCase& c, Buffers& b) {
  return {.N = c.N, .in = c.in, .out = c.out,
          .x = b.template in<R>("x", c.nx()),
          .w = b.template in<R>("w", c.nw(), kLinearWeightRange),
          .b = c.bias ? b.template in<R>("b", c.out) : nullptr,
          .y = b.template out<R>("y", c.ny())};
}

// dw and db always accumulate (+=): they start from drawn values so a write that forgets the +=
// shows up; dx starts as NaN unless it accumulates.
template <class R, class Buffers>
LinearBackwardArgs<R> linear_backward_args(const LinearCase& c, Buffers& b) {
  return {.N = c.N, .in = c.in, .out = c.out,
          .x = b.template in<R>("x", c.nx()),
          .w = b.template in<R>("w", c.nw(), kLinearWeightRange),
          .dy = b.template in<R>("dy", c.ny()),
          .dx = !c.dx ? nullptr : c.dx_accumulate ? b.template acc<R>("dx", c.nx()) : b.template out<R>("dx", c.nx()),
          .dx_accumulate = c.dx_accumulate,
          .dw = c.dw ? b.template acc<R>("dw", c.nw()) : nullptr,
          .db = c.db ? b.template acc<R>("db", c.out) : nullptr};
}

// The backward of a forward that ran on other buffers, as the model chains them: the same x and W.
template <class R>
void chain_linear_backward(LinearBackwardArgs<R>& bwd, const LinearForwardArgs<R>& fwd) {
  bwd.x = fwd.x;
  bwd.w = fwd.w;
}

// The names of the outputs a case's backward writes.
inline std::vector<std::string> linear_backward_outputs(const LinearCase& c) {
  std::vector<std::string> v;
  if (c.dx) v.push_back("dx");
  if (c.dw) v.push_back("dw");
  if (c.db) v.push_back("db");
  return v;
}

// What the benchmark computes per call on x (N, in), W (out, in): forward 2 N in out FLOPs,
// backward 4 N in out (dx and dW). The bias add and db (N out each) are not counted: under 0.1% at
// the benchmark's widths. Compute-bound: the counter is TFLOP/s.
inline double linear_forward_flops(const LinearCase& c) { return 2.0 * c.N * c.in * c.out; }
inline double linear_backward_flops(const LinearCase& c) { return 4.0 * c.N * c.in * c.out; }

}  // namespace ft::cases
