// attention, CUDA backend against the CPU backend: forward and backward, fp32 and bf16, on random
// inputs (never zero) with NaN-poisoned outputs, odd sizes, sequence lengths that are not multiples
// of the kernels' 64-row tiles, batches of very different lengths (down to a single real token),
// dropout off and on, head sizes 32, 64 and 128; and determinism (two runs, identical bits).
// Cases, references and the argued tolerances: tests/support/attention_reference.h.
// Skips without a usable GPU (ctest label gpu; FTENGINE_PARITY_SELFTEST=1 runs the fp32 test with
// the CPU backend standing in, FTENGINE_PARITY_QUICK=1 keeps to small shapes, tests/support/parity.h);
// tests/cpu_attention_emulated.cpp runs the same kernel source on the CPU everywhere.
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
    AttentionForwardArgs<Real> a;
    a.B = c.B; a.T = c.T; a.H = c.H; a.D = c.D;
    a.qkv = qkv.get(); a.lengths = lengths.get(); a.scale = c.scale(); a.dropout = c.dropout();
    a.out = out.get(); a.lse = lse_d.get();
    be.attention_forward(a);
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
    AttentionBackwardArgs<Real> a;
    a.B = c.B; a.T = c.T; a.H = c.H; a.D = c.D;
    a.qkv = qkv.get(); a.lengths = lengths.get(); a.scale = c.scale(); a.dropout = c.dropout();
    a.out = out.get(); a.lse = lse.get(); a.dout = dout.get(); a.dqkv = dqkv.get();
    be.attention_backward(a);
    be.synchronize();
    dqkv_f = to_float(downloaded(be, dqkv));
  };
  return impl;
}

// FTENGINE_PARITY_QUICK=1 (compute-sanitizer runs): small shapes that still cross a 64-row tile,
// pad, drop out, and cover every head size.
std::vector<Case> parity_cases() {
  if (quick_mode())
    return {
        {"single token", 1, 1, 1, 64, {1}, 0.0f},
        {"ragged, dropout", 2, 70, 1, 32, {70, 5}, 0.1f},
        {"three key tiles, dropout", 1, 130, 1, 64, {130}, 0.25f},
        {"D 128, dropout", 1, 70, 1, 128, {70}, 0.1f},
    };
  return {
      {"single token", 1, 1, 1, 64, {1}, 0.0f},
      {"MiniLM heads, ragged", 3, 77, 2, 32, {77, 5, 1}, 0.0f},
      {"MiniLM heads, ragged, dropout", 3, 77, 2, 32, {77, 5, 1}, 0.1f},
      {"very different lengths, heavy dropout", 4, 37, 3, 32, {1, 37, 2, 20}, 0.5f},
      {"BERT-base heads", 2, 128, 12, 64, {128, 100}, 0.0f},
      {"BERT-base heads, dropout", 2, 128, 12, 64, {128, 100}, 0.1f},
      {"past 512, dropout", 2, 513, 2, 64, {513, 200}, 0.1f},
      {"D 128", 2, 200, 2, 128, {200, 67}, 0.0f},
      {"D 128, dropout", 2, 200, 2, 128, {129, 64}, 0.1f},
  };
}

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
  AttentionForwardArgs<float> a;
  a.B = c.B; a.T = c.T; a.H = c.H; a.D = c.D;
  a.qkv = qkv.get(); a.lengths = lengths.get(); a.scale = c.scale(); a.out = out.get(); a.lse = lse.get();
  try {
    be->attention_forward(a);
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
  const Case c{"bad length", 2, 9, 1, 32, {9, 10}, 0.0f};
  std::vector<float> out, lse;
  impl.forward(c, random_inputs(c.qkv_size(), 9, 1.0, false), out, lse);
  for (int t = 0; t < c.T; ++t) {
    EXPECT_TRUE(std::isfinite(out[static_cast<size_t>(t) * c.C()])) << "sequence 0, row " << t;
    EXPECT_TRUE(std::isnan(out[static_cast<size_t>(c.T + t) * c.C()])) << "sequence 1, row " << t;
  }
}

}  // namespace
}  // namespace ft::test::attention
