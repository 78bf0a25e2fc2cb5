// What every emulated_<op>.cpp shares: a context for the CUDA launchers on host memory, and the
// comparison against the CPU backend. An emulated test compiles the op's cuda/<op>.cu as plain C++
// (FT_CUDA_EMULATE, tests/support/cuda_emulator.h) and runs its kernels on the CPU, thread by
// thread, against the CPU backend's op on the same inputs (tests/cases/<op>.h). This checks, on
// every machine with the CUDA headers (no GPU needed): indexing, tails and vector paths, launch
// geometry, the scratch layouts, the two-stage reductions, and that no result depends on the order
// in which threads run (every op runs twice, threads forward and in reverse, and must give the same
// bits).
//
// Tolerances: fp32 kernels against the fp32 CPU ops differ only in summation order: relative L2
// <= 1e-5 (see tests/support/parity.h; observed ~1e-7). bf16 kernels against the fp32 CPU ops on
// the same bf16-representable inputs: each output is rounded to bf16 once (relative error <= 2^-9)
// after fp32 arithmetic, at most twice where an intermediate is bf16: relative L2 <= 1e-2 (2.5x the
// worst case 2 * 2^-9 = 3.9e-3).
//
// Include after the cuda/*.cu files, which must come first (they see FT_CUDA_EMULATE). The
// emulated_<op> tests are built where the build has the CUDA headers (tests/CMakeLists.txt).
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "tests/cases/buffers.h"
#include "tests/support/parity.h"

namespace ft::test {

class HostScratch final : public cuda::Scratch {
 public:
  void* get(size_t bytes) override {
    buf_.assign((bytes + 256) / 8 + 1, 0.0);  // fresh each time, 8-byte aligned (the carver aligns within)
    std::memset(buf_.data(), 0xff, buf_.size() * sizeof(double));  // NaN: scratch starts as garbage
    return buf_.data();
  }

 private:
  std::vector<double> buf_;
};

// The launchers' context, on host memory.
struct Emu {
  HostScratch scratch;
  cuda::DeviceStatus status;
  cuda::Context ctx;
  Emu() {
    ctx.smem_optin = 227 * 1024;  // an H100's / H200's opt-in limit
    ctx.sm_count = 2;  // small grids: fewer blocks to emulate, more grid-stride iterations
    ctx.scratch = &scratch;
    ctx.status = &status;
  }
};

template <class T>
constexpr double emulated_tolerance() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-2;
}

template <class T>
const char* type_name() {
  return std::is_same_v<T, float> ? "fp32" : "bf16";
}

inline void expect_close(const std::string& what, const std::vector<double>& got, const std::vector<double>& want,
                         double tol) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const ErrorStats s = error_stats(got, want);
  std::printf("[emulated] %-58s rel_l2 %.3g (tol %.3g) max_abs %.3g\n", what.c_str(), s.rel_l2, tol, s.max_abs);
  EXPECT_EQ(s.nonfinite, 0u) << what << ": " << s.nonfinite << " non-finite (first at " << s.first_nonfinite << ")";
  EXPECT_LE(s.rel_l2, tol) << what;
}

// Runs `op` (which builds its own fresh buffers, runs and returns them) with threads in forward and
// in reverse order: every named output must agree bit for bit.
template <class Op>
cases::HostBuffers run_both_orders(const std::string& what, const std::vector<std::string>& outputs, Op&& op) {
  cuda::emu::set_order(cuda::emu::Order::Forward);
  cases::HostBuffers a = op();
  cuda::emu::set_order(cuda::emu::Order::Reverse);
  cases::HostBuffers b = op();
  cuda::emu::set_order(cuda::emu::Order::Forward);
  for (const std::string& name : outputs) {
    const std::vector<double> x = a.read(name), y = b.read(name);
    EXPECT_TRUE(x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0)
        << what << ": " << name << " depends on the order of threads";
  }
  return a;
}

// check.operator()<float>(c) for every case of `fp32`, and <bf16> for every case of `bf16_cases`.
template <class Case, class Check>
void for_each_case(const std::vector<Case>& fp32, const std::vector<Case>& bf16_cases, Check&& check) {
  for (const Case& c : fp32) check.template operator()<float>(c);
  for (const Case& c : bf16_cases) check.template operator()<bf16>(c);
}

// One emulated check: `on_device(buffers, ctx)` runs the CUDA launchers (emulated, in both thread
// orders) and `on_cpu(buffers)` the CPU op in fp32, each on fresh buffers of the same seed with the
// inputs rounded to T (the device's moved `offset` elements off their 16-byte alignment); then every
// named output is compared, within emulated_tolerance<T>() unless `tolerances` names another. The
// device's buffers are returned for checks of their own.
struct EmulatedCheck {
  std::string what = {};
  std::vector<std::string> outputs = {};
  int offset = 0;
  uint64_t seed = 1;
  std::map<std::string, double> tolerances = {};
  std::vector<std::string> order_only = {};  // outputs checked for thread-order independence alone
};

template <class T, class OnDevice, class OnCpu>
cases::HostBuffers expect_emulated_matches_cpu(const EmulatedCheck& check, OnDevice&& on_device, OnCpu&& on_cpu) {
  const std::string what = check.what + (check.offset ? " misaligned " : " ") + type_name<T>();
  const cases::Rounding rounding = cases::rounding_of<T>();
  std::vector<std::string> ordered = check.outputs;
  ordered.insert(ordered.end(), check.order_only.begin(), check.order_only.end());
  cases::HostBuffers got = run_both_orders(what, ordered, [&] {
    Emu e;
    cases::HostBuffers b(check.seed, rounding, check.offset);
    on_device(b, e.ctx);
    return b;
  });
  cases::HostBuffers want(check.seed, rounding);
  on_cpu(want);
  for (const std::string& name : check.outputs) {
    const auto it = check.tolerances.find(name);
    expect_close(what + " " + name, got.read(name), want.read(name),
                 it != check.tolerances.end() ? it->second : emulated_tolerance<T>());
  }
  return got;
}

}  // namespace ft::test
