// Shared pieces of the per-op benchmarks (bench/<op>.cpp): backends, random device buffers, timing
// of device work, and the counters every kernel benchmark reports.
//
// Each benchmark states its napkin math (bytes moved, or FLOPs) per call; the counters are
//   GB/s or TFLOP/s   achieved = that amount / measured time per call
//   %peak             of the device's HBM bandwidth or dense tensor/fp32 peak (table below; CUDA only)
// CUDA cases are registered only when a GPU is usable; without one the binary runs its CPU cases
// and says so. Timing of device work: each iteration enqueues `kRepeat` calls and synchronises once,
// so launch latency overlaps and the synchronisation costs 1/kRepeat of an iteration; the manual
// iteration time is the time per call.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/backend_registry.h"
#include "core/dtype.h"
#include "tests/cases/buffers.h"
#ifdef FTENGINE_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace ft::bench {

// ---- the device's peaks (public spec sheets; dense, no sparsity)
struct DevicePeak {
  std::string name;
  double hbm_gbps = 0.0;      // GB/s (1e9 bytes)
  double fp32_tflops = 0.0;   // non-tensor fp32
  double bf16_tflops = 0.0;   // dense bf16 tensor cores
};

inline DevicePeak device_peak() {
  DevicePeak p;
#ifdef FTENGINE_HAVE_CUDA
  cudaDeviceProp prop{};
  if (ft::cuda_device_count() > 0 && cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
    p.name = prop.name;
    const std::string n = prop.name;
    auto has = [&](const char* s) { return n.find(s) != std::string::npos; };
    if (has("H200")) p = {n, 4800, 67, 989};
    else if (has("H100") && has("PCIe")) p = {n, 2000, 51, 756};
    else if (has("H100")) p = {n, 3350, 67, 989};
    else if (has("A100") && has("80GB")) p = {n, 2039, 19.5, 312};
    else if (has("A100")) p = {n, 1555, 19.5, 312};
  }
#endif
  return p;
}

// ---- backends

template <class Real>
std::unique_ptr<Backend<Real>> cpu_backend() {
  return make_backend<Real>(DeviceSpec{});
}

template <class Real>
std::unique_ptr<Backend<Real>> cuda_backend() {
  DeviceSpec s;
  s.kind = DeviceSpec::Kind::Cuda;
  return make_backend<Real>(s);
}

inline const char* real_name(float*) { return "fp32"; }
inline const char* real_name(bf16*) { return "bf16"; }
template <class Real>
const char* real_name() {
  return real_name(static_cast<Real*>(nullptr));
}

// ---- buffers

template <class T>
T host_value(float x) {
  if constexpr (std::is_same_v<T, bf16>) return bf16::from_float(x);
  else return static_cast<T>(x);
}

// A device buffer of n values uniform in [lo, hi).
template <class T, class Real>
BackendBuffer<T, Real> random_buffer(Backend<Real>& be, int64_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  BackendBuffer<T, Real> buf(be, n);
  std::vector<T> host(static_cast<size_t>(n));
  std::mt19937 gen(static_cast<uint32_t>(seed));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (auto& x : host) x = host_value<T>(dist(gen));
  be.upload(buf.get(), host.data(), buf.bytes());
  be.synchronize();
  return buf;
}

// ---- timing and counters

enum class Measure { Bytes, Flops };

// Runs `op` under the benchmark loop. amount: bytes moved or FLOPs per call. tensor_flops: FLOPs
// run on bf16 tensor cores (picks the bf16 peak) rather than fp32.
template <class Real>
void run_timed(benchmark::State& state, Backend<Real>& be, const std::function<void()>& op, Measure measure,
               double amount, bool tensor_flops = false) {
  const bool device = be.on_device();
  const int repeat = device ? 20 : 1;
  op();  // warm-up: GEMM heuristics, scratch growth
  be.synchronize();
  double total = 0.0;
  int64_t calls = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < repeat; ++i) op();
    be.synchronize();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(dt / repeat);
    total += dt;
    calls += repeat;
  }
  const double per_call = total / static_cast<double>(calls);
  const DevicePeak peak = device ? device_peak() : DevicePeak{};
  if (measure == Measure::Bytes) {
    const double gbps = amount / per_call / 1e9;
    state.counters["GB/s"] = gbps;
    state.counters["MB/call"] = amount / 1e6;
    if (peak.hbm_gbps > 0) state.counters["%peak"] = 100.0 * gbps / peak.hbm_gbps;
  } else {
    const double tflops = amount / per_call / 1e12;
    state.counters["TFLOP/s"] = tflops;
    state.counters["GFLOP/call"] = amount / 1e9;
    const double p = tensor_flops ? peak.bf16_tflops : peak.fp32_tflops;
    if (p > 0) state.counters["%peak"] = 100.0 * tflops / p;
  }
  state.SetLabel(be.name() + (peak.name.empty() ? "" : " " + peak.name));
}

// Times backend op `op` on the argument struct that case builder `build` (tests/cases/<op>.h) makes on
// fresh buffers of the benchmarked backend; `amount` is what a call moves (Measure::Bytes) or
// computes (Measure::Flops, on bf16 tensor cores when Real is bf16).
template <class Real, class Case, class Args>
void time_case(benchmark::State& st, Backend<Real>& be, const Case& c,
               Args (*build)(const Case&, cases::BackendBuffers<Real>&), void (Backend<Real>::*op)(const Args&),
               Measure measure, double amount) {
  cases::BackendBuffers<Real> b(be);
  const Args a = build(c, b);
  run_timed(st, be, [&] { (be.*op)(a); }, measure, amount, measure == Measure::Flops && std::is_same_v<Real, bf16>);
}

// Registers a benchmark with manual (per-call) timing in microseconds.
inline benchmark::internal::Benchmark* add(const std::string& name, std::function<void(benchmark::State&)> fn) {
  return benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& s) { fn(s); })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

// main(): CPU cases always, CUDA cases when a GPU is usable.
inline int bench_main(int argc, char** argv, const std::function<void(bool cuda)>& register_cases) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const bool cuda = ft::cuda_device_count() > 0;
  if (!cuda)
    std::fprintf(stderr, "note: %s; only the CPU cases run\n",
                 ft::cuda_compiled() ? "no usable CUDA GPU" : "this build has no CUDA backend");
  register_cases(cuda);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace ft::bench

namespace ft::bench {

// One backend per (kind, type) for the whole run, never destroyed (the CUDA runtime may be gone by
// the time static destructors run).
template <class Real>
Backend<Real>& shared_cpu() {
  static Backend<Real>* b = cpu_backend<Real>().release();
  return *b;
}
template <class Real>
Backend<Real>& shared_cuda() {
  static Backend<Real>* b = cuda_backend<Real>().release();
  return *b;
}

// Registers fn(state, backend) for the CPU in fp32 (unless cpu is false) and, with a GPU, for CUDA
// in fp32 and bf16; fn is generic over Backend<Real>&. Names are "op/cuda/bf16/args".
template <class Fn>
void register_backends(const std::string& op, const std::string& args, bool cuda, Fn fn, bool cpu = true) {
  if (cpu) add(op + "/cpu/fp32/" + args, [fn](benchmark::State& s) { fn(s, shared_cpu<float>()); });
  if (cuda) {
    add(op + "/cuda/fp32/" + args, [fn](benchmark::State& s) { fn(s, shared_cuda<float>()); });
    add(op + "/cuda/bf16/" + args, [fn](benchmark::State& s) { fn(s, shared_cuda<bf16>()); });
  }
}

}  // namespace ft::bench
