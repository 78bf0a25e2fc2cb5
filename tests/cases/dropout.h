// dropout's cases, once: sizes and drop probabilities per mode, the mask's spec, which buffer is
// which argument (tests/cases/buffers.h). Used by gradcheck_dropout, parity_dropout,
// emulated_dropout and bench/dropout.
//
// The op works in place: forward turns buffer "x" into y, backward turns buffer "dy" into dx, so a
// test reads its result back from the input's name (read), and what went in from values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/buffers.h"

namespace ft::cases {

struct DropoutCase {
  int64_t n = 0;
  float p = 0.1f;

  std::string forward_name() const { return "dropout_forward" + tag(); }
  std::string backward_name() const { return "dropout_backward" + tag(); }
  std::string tag() const { return " n=" + std::to_string(n) + " p=" + std::to_string(p).substr(0, 4); }
  size_t size() const { return static_cast<size_t>(n); }
};

// ---- sizes

// 37 is not a multiple of 4 (one Philox block); cpu_dropout covers many task blocks.
inline DropoutCase dropout_gradcheck_case() { return {.n = 37, .p = 0.3f}; }

// The packed path (a pack of 4 fp32 is one Philox block, 8 bf16 two), its tail, and one size above a
// million, each at two probabilities.
inline std::vector<DropoutCase> dropout_parity_cases(bool quick) {
  const std::vector<int64_t> sizes =
      quick ? std::vector<int64_t>{5, 4099} : std::vector<int64_t>{1, 2, 5, 8, 13, 1000, 4099, (1 << 20) + 7};
  std::vector<DropoutCase> cases;
  for (int64_t n : sizes)
    for (float p : {0.1f, 0.5f}) cases.push_back({.n = n, .p = p});
  return cases;
}

// The emulator runs every thread on the CPU: small sizes, one per path.
inline std::vector<DropoutCase> dropout_emulated_cases() {
  return {{.n = 1, .p = 0.3f}, {.n = 7, .p = 0.3f}, {.n = 8, .p = 0.3f}, {.n = 13, .p = 0.3f}, {.n = 4099, .p = 0.3f}};
}

// A hidden-state tensor (N, C = 768) of BERT-base at B x T = 8 x 512 and 32 x 512, at BERT's p.
struct DropoutBenchShape {
  int N = 0, C = 768;
  DropoutCase dropout_case() const { return {.n = static_cast<int64_t>(N) * C, .p = 0.1f}; }
  std::string args() const { return "N=" + std::to_string(N) + ",C=" + std::to_string(C); }
};
inline std::vector<DropoutBenchShape> dropout_bench_shapes() { return {{4096}, {16384}}; }

// ---- inputs and arguments

// The mask follows from the buffers' seed as the inputs do: the same in every mode and run of one
// comparison, a different (seed, step) for each seed.
inline DropoutSpec dropout_spec(const DropoutCase& c, uint64_t seed) {
  return {.p = c.p,
          .seed = seed * 31 + 5,
          .stream = dropout_stream(3, DropoutSite::FfnOutput),
          .step = static_cast<uint32_t>(seed % 97)};
}

template <class R, class Buffers>
DropoutArgs<R> dropout_forward_args(const DropoutCase& c, Buffers& b) {
  return {.n = c.n, .dropout = dropout_spec(c, b.seed()), .x = b.template in<R>("x", c.size())};
}

// The gradient buffer is named "dy": it holds dy going in and dx coming out.
template <class R, class Buffers>
DropoutArgs<R> dropout_backward_args(const DropoutCase& c, Buffers& b) {
  return {.n = c.n, .dropout = dropout_spec(c, b.seed()), .x = b.template in<R>("dy", c.size())};
}

// What the benchmark moves per call, s = sizeof(R): x read and written in place (2 n s).
// Philox4x32-10 costs ~10 multiply rounds per 4 elements, which the bandwidth hides on A100/H100:
// the counter is GB/s against the HBM peak.
template <class R>
double dropout_bytes(const DropoutCase& c) {
  return 2.0 * static_cast<double>(c.n) * sizeof(R);
}

}  // namespace ft::cases
