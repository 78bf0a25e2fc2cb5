// Parity testing of a backend against the CPU oracle: run one op on the CPU backend in fp64 (the
// reference), on the CPU backend in fp32 (for the bf16 baseline), and on the device backend (CUDA,
// float or bf16) from the same random host inputs, then compare.
//
// How a test uses it (the case and its buffers: tests/cases/<op>.h, tests/cases/buffers.h):
//   auto run = [&]<class R>(ft::Backend<R>& be) {
//     cases::BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
//     be.layernorm_forward(cases::layernorm_forward_args<R>(c, b));
//     return Outputs{real_output(b, "out"), fp32_output(b, "mean")};
//   };
//   ft::test::expect_parity<float>(c.forward_name(), run);
// Inputs are drawn already representable in the device type (the buffers' rounding), so all three
// runs see the same values. Written outputs are poisoned with NaN first, so an element an op forgets
// to write shows up as non-finite; accumulated outputs start from drawn values.
//
// Tolerances (argued once here; tests state any exception next to it):
//  - fp32 on the device: relative L2 error against fp64 <= 1e-5 and max |error| <= 1e-4 * max |ref|.
//    Every op accumulates at most a few thousand fp32 terms in the tests' shapes: the rounding
//    error of such a sum is ~ sqrt(K) * 2^-24 ~ 1e-6 relative (K = 4096), so 1e-5 has 10x headroom
//    while any real fault (a missed tail element, a wrong mask, a wrong index) is >= 1e-3. The
//    per-element bound is looser because single elements of a sum can cancel.
//  - bf16 on the device: an output of bf16 type may be off by at most twice the error that a plain
//    bf16 implementation makes against the same fp64 reference. The plain implementation is the
//    fp32 CPU backend on the same (bf16) inputs with its outputs rounded to bf16 (a test may supply
//    its own when a plain implementation rounds an intermediate, e.g. the residual sum). Its error is
//    the rounding of the outputs, ~2^-9 relative; the CUDA kernels compute in fp32 and round once,
//    so they sit at ~1x of it, and ~1.4x where a GEMM input must be a rounded bf16 intermediate.
//    When an output is so small that its baseline is by chance near zero, the floor is a quarter
//    of a bf16 unit roundoff (2^-10), below any typical baseline (~2^-9). fp32 outputs of a bf16 op
//    (statistics, predictions, the loss, master weights) use max(2x baseline, the fp32 bound).
//    Per element: max |error| <= 4x the baseline's max |error| (two roundings of half an ulp each,
//    times two), with the same floors.
//
// Where there is no GPU every parity test skips with a message (FT_REQUIRE_DEVICE). Setting
// FTENGINE_PARITY_SELFTEST=1 runs the fp32 tests with the CPU fp32 backend standing in for the device,
// which checks the tests themselves on a machine without a GPU (bf16 tests still skip).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/backend.h"
#include "core/backend_registry.h"
#include "core/dtype.h"
#include "tests/cases/buffers.h"

namespace ft::test {

// ---- the device under test

inline bool parity_selftest() {
  const char* e = std::getenv("FTENGINE_PARITY_SELFTEST");
  return e && std::strcmp(e, "1") == 0;
}

// Why the device tests of type Real cannot run here, or "" when they can.
template <class Real>
std::string device_unavailable() {
  if (ft::cuda_device_count() > 0) return "";
  if (parity_selftest() && std::is_same_v<Real, float>) return "";
  if (!ft::cuda_compiled()) return "this build has no CUDA backend (configure with -DFTENGINE_CUDA=ON)";
  return "no usable CUDA GPU on this machine (parity tests compare the CUDA backend with the CPU backend)";
}

// Skips the current test unless a device backend of type Real exists.
#define FT_REQUIRE_DEVICE(Real)                                              \
  do {                                                                       \
    const std::string ft_why_ = ::ft::test::device_unavailable<Real>();      \
    if (!ft_why_.empty()) GTEST_SKIP() << ft_why_;                           \
  } while (0)

template <class Real>
std::unique_ptr<Backend<Real>> device_backend() {
  DeviceSpec spec;
  if (ft::cuda_device_count() > 0) {
    spec.kind = DeviceSpec::Kind::Cuda;
    spec.index = 0;
  } else if constexpr (!std::is_same_v<Real, float>) {
    throw std::runtime_error("no device backend for this type");
  }
  return make_backend<Real>(spec);
}

inline bool quick_mode() {  // FTENGINE_PARITY_QUICK=1: small shapes only (for compute-sanitizer runs)
  const char* e = std::getenv("FTENGINE_PARITY_QUICK");
  return e && std::strcmp(e, "1") == 0;
}

// ---- values

using cases::from_value;
using cases::to_value;
// x rounded to the nearest value of T (T = float or bf16), back in double.
template <class T>
double round_to(double x) {
  return from_value(to_value<T>(x));
}
template <class T>
std::vector<double> round_to(std::vector<double> v) {
  for (double& x : v) x = round_to<T>(x);
  return v;
}

// ---- outputs

enum class Stored { Real, Fp32 };  // how the device stores an output: the Real type, or fp32/fp64

struct Output {
  std::string name;
  std::vector<double> values;
  Stored stored = Stored::Real;
};
using Outputs = std::vector<Output>;

// An output of a case's buffers (tests/cases/buffers.h), by name: stored in the Real type, or in
// fp32 (statistics, the loss, master weights).
template <class Buffers>
Output real_output(const Buffers& b, const std::string& name) {
  return {name, b.read(name), Stored::Real};
}
template <class Buffers>
Output fp32_output(const Buffers& b, const std::string& name) {
  return {name, b.read(name), Stored::Fp32};
}

// ---- comparison

struct ErrorStats {
  double rel_l2 = 0.0;   // ||got - ref|| / ||ref||
  double max_abs = 0.0;  // max |got - ref|
  double ref_max = 0.0;  // max |ref|
  size_t nonfinite = 0;  // non-finite values in got
  size_t first_nonfinite = 0;
};

inline ErrorStats error_stats(const std::vector<double>& got, const std::vector<double>& ref) {
  ErrorStats s;
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) {
      if (s.nonfinite++ == 0) s.first_nonfinite = i;
      continue;
    }
    const double e = got[i] - ref[i];
    num += e * e;
    den += ref[i] * ref[i];
    s.max_abs = std::max(s.max_abs, std::fabs(e));
    s.ref_max = std::max(s.ref_max, std::fabs(ref[i]));
  }
  s.rel_l2 = den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
  return s;
}

struct ParityOptions {
  double fp32_rel = 1e-5;  // see the file comment
  double fp32_max = 1e-4;
};

inline constexpr double kBf16RelFloor = 1.0 / 1024.0;  // a quarter of bf16's unit roundoff 2^-8

template <class Fn>
Outputs run_on_cpu_float(Fn& fn) {
  auto cpu = make_backend<float>(DeviceSpec{});
  return fn(*cpu);
}

// Runs `run` on CPU fp64, CPU fp32 (or `plain`, a callable on Backend<float>&, for the bf16
// baseline) and the device in DevReal, and checks every output (see the file comment).
template <class DevReal, class Run, class Plain>
void expect_parity_with_plain(const std::string& what, Run&& run, Plain&& plain, ParityOptions opt = {}) {
  auto cpu64 = make_backend<double>(DeviceSpec{});
  const Outputs ref = run(*cpu64);
  auto device = device_backend<DevReal>();
  const Outputs got = run(*device);
  Outputs base;
  if constexpr (std::is_same_v<DevReal, bf16>) base = plain();
  ASSERT_EQ(ref.size(), got.size()) << what;
  for (size_t k = 0; k < ref.size(); ++k) {
    const Output& r = ref[k];
    const Output& g = got[k];
    const std::string label = what + " / " + r.name;
    ASSERT_EQ(r.values.size(), g.values.size()) << label;
    const ErrorStats ref_check = error_stats(r.values, r.values);
    ASSERT_EQ(ref_check.nonfinite, 0u) << label << ": the fp64 CPU reference has " << ref_check.nonfinite
                                       << " non-finite values (first at " << ref_check.first_nonfinite << ")";
    const ErrorStats s = error_stats(g.values, r.values);
    EXPECT_EQ(s.nonfinite, 0u) << label << ": " << s.nonfinite << " non-finite values on the device (first at index "
                               << s.first_nonfinite << "): an element left unwritten, or a NaN produced";
    double rel_tol = opt.fp32_rel, max_tol = opt.fp32_max * s.ref_max;
    std::string basis = "fp32 bound";
    if constexpr (std::is_same_v<DevReal, bf16>) {
      ASSERT_EQ(base.size(), ref.size()) << label;
      std::vector<double> plain_values = base[k].values;
      if (r.stored == Stored::Real)
        for (double& x : plain_values) x = round_to<bf16>(x);
      const ErrorStats b = error_stats(plain_values, r.values);
      const bool real = r.stored == Stored::Real;
      rel_tol = std::max(2.0 * b.rel_l2, real ? kBf16RelFloor : opt.fp32_rel);
      max_tol = std::max(4.0 * b.max_abs, (real ? kBf16RelFloor : opt.fp32_max) * s.ref_max);
      char buf[128];
      std::snprintf(buf, sizeof buf, "plain bf16 baseline rel %.3g max %.3g", b.rel_l2, b.max_abs);
      basis = buf;
    }
    std::printf("[parity] %-60s rel_l2 %.3g (tol %.3g)  max_abs %.3g (tol %.3g, |ref| <= %.3g)  [%s]\n",
                label.c_str(), s.rel_l2, rel_tol, s.max_abs, max_tol, s.ref_max, basis.c_str());
    EXPECT_LE(s.rel_l2, rel_tol) << label << ": relative L2 error against fp64 (" << basis << ")";
    EXPECT_LE(s.max_abs, max_tol) << label << ": max |error| against fp64 (" << basis << ")";
  }
}

template <class DevReal, class Run>
void expect_parity(const std::string& what, Run&& run, ParityOptions opt = {}) {
  expect_parity_with_plain<DevReal>(what, run, [&] { return run_on_cpu_float(run); }, opt);
}

// Two runs of `run` on the device must give the same bits.
template <class DevReal, class Run>
void expect_deterministic(const std::string& what, Run&& run) {
  auto device = device_backend<DevReal>();
  const Outputs first = run(*device);
  const Outputs second = run(*device);
  ASSERT_EQ(first.size(), second.size());
  for (size_t k = 0; k < first.size(); ++k) {
    size_t differ = 0;
    for (size_t i = 0; i < first[k].values.size(); ++i) {
      const double a = first[k].values[i], b = second[k].values[i];
      if (std::memcmp(&a, &b, sizeof a) != 0) ++differ;
    }
    EXPECT_EQ(differ, 0u) << what << " / " << first[k].name << ": " << differ << " of " << first[k].values.size()
                          << " values differ between two identical runs";
  }
}

}  // namespace ft::test
