// grad_norm_squared's cases, once: sizes per mode, how the gradients are drawn, where they start
// (tests/cases/buffers.h). Used by parity_grad_norm, emulated_grad_norm and bench/grad_norm. No
// gradient check: the norm is not differentiated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/cases/buffers.h"

namespace ft::cases {

struct GradNormCase {
  int64_t n = 0;
  int offset = 0;  // elements by which the gradients start off their 16-byte alignment

  std::string name() const { return "grad_norm_squared n=" + std::to_string(n) + (offset ? " misaligned" : ""); }
};

// grad_norm_squared takes no argument struct: this is the one its cases fill.
template <class R>
struct GradNormArgs {
  const R* grads = nullptr;
  int64_t n = 0;
};

// ---- sizes

// Below, at and past one vector (4 fp32, 8 bf16 elements), tails past the vectors, one and several
// blocks, and past the largest grid (1024 blocks of 256 threads) for one and many grid strides.
inline std::vector<GradNormCase> grad_norm_parity_shapes(bool quick) {
  if (quick) return {{1}, {5000}};
  return {{1}, {3}, {8}, {1000}, {4099}, {(1 << 20) + 5}, {30'000'001}};
}

// The emulator runs every thread on the CPU: one size, with a tail, over several blocks.
inline std::vector<GradNormCase> grad_norm_emulated_shapes() { return {{5003}}; }

// BERT-base's 110M parameters on the GPU; the CPU runs a tenth of that (the same per-element work,
// a bearable run time).
inline GradNormCase grad_norm_bench_cpu_shape() { return {11'000'000}; }
inline GradNormCase grad_norm_bench_gpu_shape() { return {110'000'000}; }

// ---- inputs and arguments

// Before a misaligned start, `offset` elements of kGradNormSentinel: a kernel that reads before the
// start adds 9 for each (the buffers' own offset would leave those elements unset on a device).
inline constexpr double kGradNormSentinel = 3.0;

// Gradients of a fine-tuning step's order. values("grads") includes the sentinels.
template <class R, class Buffers>
GradNormArgs<R> grad_norm_args(const GradNormCase& c, Buffers& b) {
  const Range range{-0.01, 0.01};
  if (c.offset == 0) return {.grads = b.template in<R>("grads", static_cast<size_t>(c.n), range), .n = c.n};
  std::vector<double> v(static_cast<size_t>(c.offset), kGradNormSentinel);
  const std::vector<double> g = b.drawn("grads", static_cast<size_t>(c.n), range);
  v.insert(v.end(), g.begin(), g.end());
  return {.grads = b.template put<R>("grads", v) + c.offset, .n = c.n};
}

// What the benchmark moves per call, s = sizeof(R): n gradients read (n s bytes), plus one 8-byte
// read-back and a synchronisation, which are part of the op.
template <class R>
double grad_norm_bytes(const GradNormCase& c) {
  return static_cast<double>(c.n) * sizeof(R);
}

}  // namespace ft::cases
