// attention, CUDA backend against the CPU backend: forward and backward, fp32 and bf16, on random
// inputs (never zero) with NaN-poisoned outputs, odd sizes, sequence lengths that are not multiples
// of the kernels' 64-row tiles, batches of very different lengths (down to a single real token),
// dropout off and on, head sizes 32, 64 and 128; and determinism (two runs, identical bits).
// Cases: tests/cases/attention.h; references and the argued tolerances: tests/support/attention_reference.h.
// Skips without a usable GPU (ctest label gpu; FTENGINE_PARITY_SELFTEST=1 runs the fp32 test with
// the CPU backend standing in, FTENGINE_PARITY_QUICK=1 keeps to small shapes, tests/support/parity.h);
// tests/emulated_attention.cpp runs the same kernel source on the CPU everywhere.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/backend_registry.h"
#include "core/dtype.h"
#include "core/error.h"
#include "tests/support/attention_reference.h"
#include "tests/support/parity.h"

namespace ft::test::attention {
namespace {

template <class Real>
std::vector<Real> to_real(const std::vector<float>& v) {
  std::vector<Real> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if constexpr (std::is_same_v<Real, bf16>) {
      r[i] = bf16::from_float(v[i]);
    } else {
      r[i] = v[i];
    }
  }
  return r;
}

template <class Real>
std::vector<float> to_float(const std::vector<Real>& v) {
  std::vector<float> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = static_cast<float>(v[i]);
  return r;
}

// A device buffer holding `host`'s values.
template <class T, class Real>
BackendBuffer<T, Real> uploaded(Backend<Real>& be, const std::vector<T>& host) {
  BackendBuffer<T, Real> buf(be, static_cast<int64_t>(host.size()));
  be.upload(buf.get(), host.data(), buf.bytes());
  return buf;
}

template <class T, class Real>
std::vector<T> downloaded(Backend<Real>& be, const BackendBuffer<T, Real>& buf) {
  std::vector<T> host(static_cast<size_t>(buf.size()));
  be.download(host.data(), buf.get(), buf.bytes());
  return host;
}

// The CUDA backend as an Impl; outputs are NaN-filled on the device before each op.
template <class Real>
Impl cuda_impl(Backend<Real>& be) {
  const Real nan = to_real<Real>({std::numeric_limits<float>::quiet_NaN()})[0];
  Impl impl;
  impl.forward = [&be, nan](const Case& c, const std::vector<float>& qkv_f, std::vector<float>& out_f,
                            std::vector<float>& lse) {
    auto qkv = uploaded(be, to_real<Real>(qkv_f));
    auto lengths = uploaded(be, c.lengths);
    auto out = uploaded(be, std::vector<Real>(c.out_size(), nan));
    auto lse_d = uploaded(be, poisoned_vector<float>(c.lse_size()));
    be.attention_forward(cases::attention_forward_args<Real>(c, qkv.get(), lengths.get(), out.get(), lse_d.get()));
    be.synchronize();
    out_f = to_float(downloaded(be, out));
    lse = downloaded(be, lse_d);
  };
  impl.backward = [&be, nan](const Case& c, const std::vector<float>& qkv_f, const std::vector<float>& out_f,
                             const std::vector<float>& lse_f, const std::vector<float>& dout_f,
                             std::vector<float>& dqkv_f) {
    auto qkv = uploaded(be, to_real<Real>(qkv_f));
    auto lengths = uploaded(be, c.lengths);
    auto out = uploaded(be, to_real<Real>(out_f));
    auto lse = uploaded(be, lse_f);
    auto dout = uploaded(be, to_real<Real>(dout_f));
    auto dqkv = uploaded(be, std::vector<Real>(c.qkv_size(), nan));
    be.attention_backward(cases::attention_backward_args<Real>(c, qkv.get(), lengths.get(), out.get(), lse.get(),
                                                               dout.get(), dqkv.get()));
    be.synchronize();
    dqkv_f = to_float(downloaded(be, dqkv));
  };
  return impl;
}

std::vector<Case> parity_cases() { return cases::attention_parity_cases(quick_mode()); }

TEST(ParityAttention, Fp32MatchesCpuBackend) {
  FT_REQUIRE_DEVICE(float);
  auto be = device_backend<float>();
  const Impl impl = cuda_impl(*be);
  for (const Case& c : parity_cases()) check_fp32(c, impl);
}

TEST(ParityAttention, Bf16WithinTwicePlainBf16Error) {
  FT_REQUIRE_DEVICE(bf16);
  auto be = device_backend<bf16>();
  const Impl impl = cuda_impl(*be);
  for (const Case& c : parity_cases()) check_bf16(c, impl);
}

// The kernels cover D = 32, 64 and 128; any other head size is an ft::Error that names it.
TEST(ParityAttention, UnsupportedHeadSizeIsAClearError) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no usable CUDA GPU (this checks the CUDA kernels' head sizes)";
  auto be = device_backend<float>();
  const Case c{"D 48", 1, 4, 2, 48, {4}, 0.0f};
  auto qkv = uploaded(*be, random_inputs(c.qkv_size(), 5, 1.0, false));
  auto lengths = uploaded(*be, c.lengths);
  BackendBuffer<float, float> out(*be, static_cast<int64_t>(c.out_size()));
  BackendBuffer<float, float> lse(*be, static_cast<int64_t>(c.lse_size()));
  try {
    be->attention_forward(cases::attention_forward_args<float>(c, qkv.get(), lengths.get(), out.get(), lse.get()));
    FAIL() << "D = 48 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("D = 48"), std::string::npos) << e.what();
  }
}

// A length outside 1..T cannot be reported from a kernel without a synchronisation; the rows of
// that sequence become NaN instead (the CPU backend throws), and the other sequences are unaffected.
TEST(ParityAttention, LengthOutOfRangeGivesNaNRows) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no usable CUDA GPU (the CPU backend throws on bad lengths)";
  auto be = device_backend<float>();
  const Impl impl = cuda_impl(*be);
  const Case c = cases::attention_bad_length_case();
  std::vector<float> out, lse;
  impl.forward(c, random_inputs(c.qkv_size(), 9, 1.0, false), out, lse);
  for (int t = 0; t < c.T; ++t) {
    EXPECT_TRUE(std::isfinite(out[static_cast<size_t>(t) * c.C()])) << "sequence 0, row " << t;
    EXPECT_TRUE(std::isnan(out[static_cast<size_t>(c.T + t) * c.C()])) << "sequence 1, row " << t;
  }
}

}  // namespace
}  // namespace ft::test::attention
