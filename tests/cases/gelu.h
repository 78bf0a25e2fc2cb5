// GELU's cases, once: sizes per mode, how each input is drawn, which buffer is which argument
// (tests/cases/buffers.h). Used by gradcheck_gelu, parity_gelu, emulated_gelu and bench/gelu.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/buffers.h"

namespace ft::cases {

struct GeluCase {
  int64_t n = 0;
  bool in_place = false;  // forward: y aliases x; backward: dx aliases dy

  std::string forward_name() const { return "gelu_forward" + tag(); }
  std::string backward_name() const { return "gelu_backward" + tag(); }
  std::string tag() const { return " n=" + std::to_string(n) + (in_place ? " in-place" : ""); }
  size_t size() const { return static_cast<size_t>(n); }
  // The buffers holding y and dx after the call (the input's buffer when in place).
  const char* y() const { return in_place ? "x" : "y"; }
  const char* dx() const { return in_place ? "dy" : "dx"; }
};

// ---- sizes

// Every element is perturbed; 37 is not a multiple of any vector width.
inline GeluCase gelu_gradcheck_case() { return {.n = 37}; }

// The 128-bit path (n a multiple of the vector width: 4 fp32, 8 bf16), its scalar tail, and one
// size above a million.
inline std::vector<GeluCase> gelu_parity_cases(bool quick) {
  if (quick) return {{1}, {13}, {4099}};
  return {{1}, {3}, {4}, {7}, {8}, {9}, {1000}, {4099}, {(1 << 20) + 3}};
}

// The emulator runs every thread on the CPU: small sizes, one per path.
inline std::vector<GeluCase> gelu_emulated_cases() { return {{1}, {7}, {8}, {13}, {4099}}; }

// The intermediate activation (N, F) of BERT-base at B x T = 8 x 512 and 32 x 512; the op sees
// n = N F elements.
struct GeluBenchShape {
  int N = 0, F = 0;
  GeluCase gelu_case() const { return {.n = static_cast<int64_t>(N) * F}; }
  std::string args() const { return "N=" + std::to_string(N) + ",F=" + std::to_string(F); }
};
inline std::vector<GeluBenchShape> gelu_bench_shapes() { return {{4096, 3072}, {16384, 3072}}; }

// ---- inputs and arguments

// x in [-5, 5]: the curved middle and both tails, out to where erf(x / sqrt(2)) is +-1 in fp32
// (|x| > ~3.9).
inline constexpr Range kGeluInputRange{-5, 5};

template <class R, class Buffers>
GeluForwardArgs<R> gelu_forward_args(const GeluCase& c, Buffers& b) {
  R* x = b.template in<R>("x", c.size(), kGeluInputRange);
  return {.n = c.n, .x = x, .y = c.in_place ? x : b.template out<R>("y", c.size())};
}

template <class R, class Buffers>
GeluBackwardArgs<R> gelu_backward_args(const GeluCase& c, Buffers& b) {
  const R* x = b.template in<R>("x", c.size(), kGeluInputRange);
  R* dy = b.template in<R>("dy", c.size());
  return {.n = c.n, .x = x, .dy = dy, .dx = c.in_place ? dy : b.template out<R>("dx", c.size())};
}

// The backward of a forward that just ran, as the model chains them: its input.
template <class R>
void chain_gelu_backward(GeluBackwardArgs<R>& bwd, const GeluForwardArgs<R>& fwd) {
  bwd.x = fwd.x;
}

// What the benchmark moves per call, s = sizeof(R): forward reads x and writes y (2 n s); backward
// reads x, dy and writes dx (3 n s). erf and exp cost ~30 instructions per element, below the
// bandwidth limit on A100/H100: the counter is GB/s against the HBM peak.
template <class R>
double gelu_forward_bytes(const GeluCase& c) {
  return 2.0 * static_cast<double>(c.n) * sizeof(R);
}
template <class R>
double gelu_backward_bytes(const GeluCase& c) {
  return 3.0 * static_cast<double>(c.n) * sizeof(R);
}

}  // namespace ft::cases
