// adamw's cases (adamw_step and master_to_working), once: the parameter buffer, its segments and
// updates per mode, how the optimizer state and gradients are drawn, which buffer is which argument
// (tests/cases/buffers.h). Used by parity_adamw, emulated_adamw and bench/adamw. No gradient check:
// the optimizer is not differentiated (tests/cpu_optimizer.cpp checks it against torch's formula).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/ops.h"
#include "tests/cases/buffers.h"

namespace ft::cases {

// The hyper-parameters of one update that change from step to step (beta1, beta2 and eps are
// torch's defaults, the AdamWArgs defaults).
struct AdamWUpdate {
  float lr = 2e-5f;
  int64_t step = 1;  // 1-based count after this update (bias correction)
  float grad_scale = 1.0f;  // the clipping coefficient
};

struct AdamWCase {
  int64_t params = 0;                  // elements of master (and the working copy)
  std::vector<AdamWSegment> segments;  // the host array every update points to: outlives the args
  std::vector<AdamWUpdate> updates;    // consecutive updates, each with its own gradients
  bool separate_working = false;       // fp32 / fp64: a working copy apart from master (bf16 always)

  // Elements of grads, m and v.
  int64_t grads() const {
    int64_t n = 0;
    for (const AdamWSegment& s : segments) n = std::max(n, s.grad_offset + s.count);
    return n;
  }
  std::string name() const {
    return "adamw " + shape_name({{"params", params}, {"segments", static_cast<int64_t>(segments.size())},
                                  {"updates", static_cast<int64_t>(updates.size())}}) +
           (separate_working ? " separate working copy" : "");
  }
};

struct MasterToWorkingCase {
  int64_t n = 0;
  std::string name() const { return "master_to_working n=" + std::to_string(n); }
};

// master_to_working takes no argument struct: this is the one its cases fill.
template <class R>
struct MasterToWorkingArgs {
  const master_t<R>* master = nullptr;
  R* working = nullptr;
  int64_t n = 0;
};

// ---- shapes

// A parameter buffer of 9000 elements with gradients for four segments of it: different weight
// decays (and none), gaps between segments (frozen ranges never touched), odd lengths, one of three
// elements; three updates with a learning-rate schedule and a clipping scale on the second.
inline AdamWCase adamw_parity_case(bool separate_working) {
  return {.params = 9000,
          .segments = {{0, 0, 1537, 0.01f}, {1600, 1537, 3, 0.0f}, {2000, 1540, 4099, 0.1f}, {8500, 5639, 500, 0.0f}},
          .updates = {{2e-5f, 1, 1.0f}, {4e-5f, 2, 0.37f}, {6e-5f, 3, 1.0f}},
          .separate_working = separate_working};
}

// The emulator runs every thread on the CPU: 5003 gradients in two segments (a third with weight
// decay) with a frozen gap of 100 between them, one update.
inline AdamWCase adamw_emulated_case(bool separate_working) {
  return {.params = 5103,
          .segments = {{0, 0, 1667, 0.01f}, {1767, 1667, 3336, 0.0f}},
          .updates = {{1e-3f, 3, 0.7f}},
          .separate_working = separate_working};
}

// BERT-base's 110M parameters on the GPU, the CPU a tenth of that (the same per-element work, a
// bearable run time): two segments, with and without weight decay (1 %), clipping folded in.
inline AdamWCase adamw_bench_case(int64_t n) {
  return {.params = n,
          .segments = {{0, 0, n - n / 100, 0.01f}, {n - n / 100, n - n / 100, n / 100, 0.0f}},
          .updates = {{2e-5f, 10, 0.5f}}};
}
inline AdamWCase adamw_bench_cpu_case() { return adamw_bench_case(11'000'000); }
inline AdamWCase adamw_bench_gpu_case() { return adamw_bench_case(110'000'000); }

// Odd sizes: a tail in the last block; on the GPU several grid strides of the bf16 copy kernel.
inline std::vector<MasterToWorkingCase> master_to_working_parity_shapes() { return {{1000003}}; }
inline std::vector<MasterToWorkingCase> master_to_working_emulated_shapes() { return {{1003}}; }

// ---- inputs and arguments

// The optimizer state (master weights, moments) is fp32 in every precision: drawn at fp32, never at
// the mode's bf16 rounding (buffers.h rounds what it draws); the moments are drawn in units of
// their scale, then scaled and rounded to fp32.
template <class T, class Buffers>
T* adamw_state(Buffers& b, const std::string& name, size_t n, Range unit, double scale) {
  std::vector<double> v = draw(name, n, unit, b.seed());
  for (double& x : v) x = static_cast<double>(static_cast<float>(x * scale));
  return b.template put<T>(name, v);
}

// One AdamWArgs per update, in order, all on the same state; update s reads gradients "grads s".
// Without a separate working copy params is master (the fp32 and fp64 training path).
template <class R, class Buffers>
std::vector<AdamWArgs<R>> adamw_args(const AdamWCase& c, Buffers& b) {
  using M = master_t<R>;
  const size_t np = static_cast<size_t>(c.params), ng = static_cast<size_t>(c.grads());
  M* master = adamw_state<M>(b, "master", np, {-0.5, 0.5}, 1.0);
  R* params = nullptr;
  if constexpr (std::is_same_v<R, M>) params = c.separate_working ? b.template out<R>("params", np) : master;
  else params = b.template out<R>("params", np);
  M* m = adamw_state<M>(b, "m", ng, {-1, 1}, 1e-3);
  M* v = adamw_state<M>(b, "v", ng, {0, 1}, 1e-4);
  std::vector<AdamWArgs<R>> args;
  for (size_t s = 0; s < c.updates.size(); ++s) {
    const AdamWUpdate& u = c.updates[s];
    args.push_back({.master = master,
                    .params = params,
                    .grads = b.template in<R>("grads " + std::to_string(s + 1), ng, {-0.05, 0.05}),
                    .m = m,
                    .v = v,
                    .segments = c.segments.data(),
                    .num_segments = static_cast<int>(c.segments.size()),
                    .lr = u.lr,
                    .step = u.step,
                    .grad_scale = u.grad_scale});
  }
  return args;
}

// The segments' elements of a whole parameter buffer, in segment order (the rest is never written).
inline std::vector<double> adamw_segment_values(const AdamWCase& c, const std::vector<double>& all) {
  std::vector<double> out;
  for (const AdamWSegment& s : c.segments)
    out.insert(out.end(), all.begin() + s.param_offset, all.begin() + s.param_offset + s.count);
  return out;
}

// The working copy after the updates, on the segments: "params", or master where they are one buffer.
template <class Buffers>
std::vector<double> adamw_working(const AdamWCase& c, const Buffers& b) {
  return adamw_segment_values(c, b.read(b.has("params") ? "params" : "master"));
}

// The master weights are fp32 (not bf16-representable), so the bf16 copy has something to round.
template <class R, class Buffers>
MasterToWorkingArgs<R> master_to_working_args(const MasterToWorkingCase& c, Buffers& b) {
  return {.master = adamw_state<master_t<R>>(b, "master", static_cast<size_t>(c.n), {-1, 1}, 1.0),
          .working = b.template out<R>("working", static_cast<size_t>(c.n)),
          .n = c.n};
}

// What the benchmark moves per updated element: reads master (4), grad (s), m (4), v (4); writes
// master (4), m (4), v (4); with a separate working copy (bf16) also writes it (s). fp32
// (params == master): 28 bytes; bf16: 28 bytes. Memory-bound: GB/s against the HBM peak.
template <class R>
double adamw_bytes(const AdamWCase& c) {
  const bool working = !std::is_same_v<R, master_t<R>> || c.separate_working;
  return (24.0 + sizeof(R) + (working ? sizeof(R) : 0.0)) * static_cast<double>(c.grads());
}

}  // namespace ft::cases
