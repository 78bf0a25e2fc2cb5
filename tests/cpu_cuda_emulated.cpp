// The CUDA backend's kernels and launchers (cuda/*.cu, all but attention and the cuBLASLt/CUB
// wrappers), compiled as plain C++ and run on the CPU by tests/support/cuda_emulator.h, against the
// CPU backend's ops. This checks, on every machine with the CUDA headers (no GPU needed): indexing,
// tails and vector paths, launch geometry, the scratch layouts, the two-stage reductions, the
// embedding's sorted scatter, the dropout masks, the GEMM argument mapping of linear and pooler
// (cuBLASLt replaced by a reference column-major GEMM that also checks the leading dimensions), and
// that no result depends on the order in which threads run (every op runs twice, threads forward
// and in reverse, and must give the same bits).
//
// Tolerances: fp32 kernels against the fp32 CPU ops differ only in summation order: relative L2
// <= 1e-5 (see tests/support/parity.h; observed ~1e-7). bf16 kernels against the fp32 CPU ops on
// the same bf16-representable inputs: each output is rounded to bf16 once (relative error <= 2^-9)
// after fp32 arithmetic, at most twice where an intermediate is bf16: relative L2 <= 1e-2 (2.5x the
// worst case 2 * 2^-9 = 3.9e-3).
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1

#include "cuda/adamw.cu"
#include "cuda/column_sums.cu"
#include "cuda/dropout.cu"
#include "cuda/embedding.cu"
#include "cuda/gelu.cu"
#include "cuda/grad_norm.cu"
#include "cuda/layernorm.cu"
#include "cuda/linear.cu"
#include "cuda/pooler.cu"
#include "cuda/regression_head.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/support/parity.h"

// ---- stand-ins for the cuBLASLt and CUB wrappers
namespace ft::cuda {

// D (m x n, ldd) = alpha op(A) op(B) + beta D + bias, column-major, as cuBLASLt; fp64 accumulation.
void gemm(const GemmCall& g, const Context&) {
  if (g.m == 0 || g.n == 0) return;
  const bool an = g.ta == CUBLAS_OP_N, bn = g.tb == CUBLAS_OP_N;
  if (g.k <= 0 || g.lda < (an ? g.m : g.k) || g.ldb < (bn ? g.k : g.n) || g.ldd < g.m)
    ::ft::cuda::emu::fail("gemm: a leading dimension smaller than its matrix");
  auto load = [](const void* p, cudaDataType_t t, int64_t i) -> double {
    return t == CUDA_R_32F ? static_cast<const float*>(p)[i]
                           : static_cast<double>(__bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]));
  };
  for (int j = 0; j < g.n; ++j)
    for (int i = 0; i < g.m; ++i) {
      double acc = 0.0;
      for (int p = 0; p < g.k; ++p) {
        const int64_t ia = an ? i + static_cast<int64_t>(p) * g.lda : p + static_cast<int64_t>(i) * g.lda;
        const int64_t ib = bn ? p + static_cast<int64_t>(j) * g.ldb : j + static_cast<int64_t>(p) * g.ldb;
        const double x = load(g.a, g.ab_type, ia), y = load(g.b, g.ab_type, ib);
        acc += x * y;
      }
      const int64_t at = i + static_cast<int64_t>(j) * g.ldd;
      double v = g.alpha * acc;
      if (g.beta != 0.0f) v += g.beta * load(g.d, g.d_type, at);
      if (g.bias) v += load(g.bias, g.d_type, i);
      if (g.d_type == CUDA_R_32F) static_cast<float*>(g.d)[at] = static_cast<float>(v);
      else static_cast<__nv_bfloat16*>(g.d)[at] = __float2bfloat16_rn(static_cast<float>(v));
    }
}

size_t sort_rows_temp_bytes(int, int) { return 16; }

void sort_rows_by_key(void*, size_t, const uint32_t* keys_in, uint32_t* keys_out, const int32_t* rows_in,
                      int32_t* rows_out, int n, int end_bit, cudaStream_t) {
  std::vector<int> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  for (int i = 0; i < n; ++i)
    if (end_bit < 32 && (keys_in[i] >> end_bit) != 0) ::ft::cuda::emu::fail("sort key above end_bit");
  std::stable_sort(idx.begin(), idx.end(), [&](int x, int y) { return keys_in[x] < keys_in[y]; });
  for (int i = 0; i < n; ++i) {
    keys_out[i] = keys_in[idx[i]];
    rows_out[i] = rows_in[idx[i]];
  }
}

}  // namespace ft::cuda

namespace ft {
namespace {

using test::random_values;

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

// Host vectors of the two element types.
template <class T>
std::vector<T> to(const std::vector<double>& v) {
  std::vector<T> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = test::to_value<T>(v[i]);
  return out;
}
template <class T>
std::vector<double> back(const std::vector<T>& v) {
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = test::from_value(v[i]);
  return out;
}
template <class T>
std::vector<T> nan_vec(size_t n) {
  std::vector<T> v(n);
  if constexpr (std::is_same_v<T, bf16>) {
    for (auto& x : v) x.bits = 0x7fc0;
  } else {
    for (auto& x : v) x = std::numeric_limits<T>::quiet_NaN();
  }
  return v;
}

void expect_close(const std::string& what, const std::vector<double>& got, const std::vector<double>& want,
                  double tol) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const test::ErrorStats s = test::error_stats(got, want);
  std::printf("[emulated] %-58s rel_l2 %.3g (tol %.3g) max_abs %.3g\n", what.c_str(), s.rel_l2, tol, s.max_abs);
  EXPECT_EQ(s.nonfinite, 0u) << what << ": " << s.nonfinite << " non-finite (first at " << s.first_nonfinite << ")";
  EXPECT_LE(s.rel_l2, tol) << what;
}

// Runs `op` (which writes into its own fresh buffers and returns them as doubles) with threads in
// forward and in reverse order: the two must agree bit for bit.
template <class Op>
std::vector<std::vector<double>> run_both_orders(const std::string& what, Op&& op) {
  cuda::emu::set_order(cuda::emu::Order::Forward);
  auto a = op();
  cuda::emu::set_order(cuda::emu::Order::Reverse);
  auto b = op();
  cuda::emu::set_order(cuda::emu::Order::Forward);
  EXPECT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size() && k < b.size(); ++k)
    EXPECT_EQ(0, std::memcmp(a[k].data(), b[k].data(), a[k].size() * sizeof(double)))
        << what << ": output " << k << " depends on the order of threads";
  return a;
}

template <class T>
constexpr double tolerance() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-2;
}

template <class T>
std::vector<double> rounded(const std::vector<double>& v) {  // representable in T
  return test::round_to<T>(v);
}

// ---------------------------------------------------------------- layernorm

template <class T>
void layernorm_case(int N, int C, bool residual, int offset) {
  const size_t n = static_cast<size_t>(N) * C;
  const auto x = rounded<T>(random_values(n, 1, -1, 3)), r = rounded<T>(random_values(n, 2));
  const auto g = rounded<T>(random_values(C, 3, 0.5, 1.5)), b = rounded<T>(random_values(C, 4));
  const std::string what = "layernorm_forward N=" + std::to_string(N) + " C=" + std::to_string(C) +
                           (residual ? " +res" : "") + (offset ? " misaligned" : "") +
                           (std::is_same_v<T, float> ? " fp32" : " bf16");
  auto pad = [&](std::vector<T> v) {
    v.insert(v.begin(), offset, v.empty() ? T{} : v[0]);
    return v;
  };
  auto out = run_both_orders(what, [&] {
    Emu e;
    auto xd = pad(to<T>(x)), rd = pad(to<T>(r)), gd = pad(to<T>(g)), bd = pad(to<T>(b));
    auto sum = nan_vec<T>(n + offset), y = nan_vec<T>(n + offset);
    auto mean = nan_vec<float>(N), rstd = nan_vec<float>(N);
    LayerNormForwardArgs<T> a;
    a.N = N;
    a.C = C;
    a.x = xd.data() + offset;
    a.residual = residual ? rd.data() + offset : nullptr;
    a.gamma = gd.data() + offset;
    a.beta = bd.data() + offset;
    a.sum = residual ? sum.data() + offset : nullptr;
    a.out = y.data() + offset;
    a.mean = mean.data();
    a.rstd = rstd.data();
    cuda::layernorm_forward(a, e.ctx);
    y.erase(y.begin(), y.begin() + offset);
    sum.erase(sum.begin(), sum.begin() + offset);
    return std::vector<std::vector<double>>{back(y), back(mean), back(rstd),
                                            residual ? back(sum) : std::vector<double>{}};
  });
  // CPU reference in fp32 on the (rounded) sum the device normalises.
  std::vector<float> xs(n), ys(n), ms(N), rs(N), gs = to<float>(g), bs = to<float>(b);
  for (size_t i = 0; i < n; ++i) xs[i] = residual ? test::round_to<T>(x[i] + r[i]) : static_cast<float>(x[i]);
  LayerNormForwardArgs<float> c;
  c.N = N;
  c.C = C;
  c.x = xs.data();
  c.gamma = gs.data();
  c.beta = bs.data();
  c.out = ys.data();
  c.mean = ms.data();
  c.rstd = rs.data();
  cpu::layernorm_forward(c);
  expect_close(what + " out", out[0], back(ys), tolerance<T>());
  expect_close(what + " mean", out[1], back(ms), 1e-5);
  expect_close(what + " rstd", out[2], back(rs), 1e-5);
  if (residual) expect_close(what + " sum", out[3], back(xs), 0.0);
}

template <class T>
void layernorm_backward_case(int N, int C, bool accumulate, bool din, bool params) {
  const size_t n = static_cast<size_t>(N) * C;
  const auto x = rounded<T>(random_values(n, 5, -1, 3)), g = rounded<T>(random_values(C, 6, 0.5, 1.5));
  const auto dout = rounded<T>(random_values(n, 7)), din0 = rounded<T>(random_values(n, 8));
  const auto dg0 = rounded<T>(random_values(C, 9)), db0 = rounded<T>(random_values(C, 10));
  std::vector<float> mean(N), rstd(N);
  for (int row = 0; row < N; ++row) {
    double s = 0, q = 0;
    for (int c = 0; c < C; ++c) s += x[static_cast<size_t>(row) * C + c];
    for (int c = 0; c < C; ++c) q += std::pow(x[static_cast<size_t>(row) * C + c] - s / C, 2);
    mean[row] = static_cast<float>(s / C);
    rstd[row] = static_cast<float>(1 / std::sqrt(q / C + 1e-12));
  }
  const std::string what = "layernorm_backward N=" + std::to_string(N) + " C=" + std::to_string(C) +
                           (accumulate ? " +=" : "") + (din ? "" : " no-din") + (params ? "" : " no-params") +
                           (std::is_same_v<T, float> ? " fp32" : " bf16");
  auto out = run_both_orders(what, [&] {
    Emu e;
    auto xd = to<T>(x), gd = to<T>(g), dd = to<T>(dout);
    auto dind = accumulate ? to<T>(din0) : nan_vec<T>(n);
    auto dgd = to<T>(dg0), dbd = to<T>(db0);
    LayerNormBackwardArgs<T> a;
    a.N = N;
    a.C = C;
    a.in = xd.data();
    a.gamma = gd.data();
    a.mean = mean.data();
    a.rstd = rstd.data();
    a.dout = dd.data();
    a.din = din ? dind.data() : nullptr;
    a.din_accumulate = accumulate;
    a.dgamma = params ? dgd.data() : nullptr;
    a.dbeta = params ? dbd.data() : nullptr;
    cuda::layernorm_backward(a, e.ctx);
    return std::vector<std::vector<double>>{back(dind), back(dgd), back(dbd)};
  });
  auto xs = to<float>(x), gs = to<float>(g), ds = to<float>(dout), dis = to<float>(din0), dgs = to<float>(dg0),
       dbs = to<float>(db0);
  LayerNormBackwardArgs<float> c;
  c.N = N;
  c.C = C;
  c.in = xs.data();
  c.gamma = gs.data();
  c.mean = mean.data();
  c.rstd = rstd.data();
  c.dout = ds.data();
  c.din = dis.data();
  c.din_accumulate = accumulate;
  c.dgamma = dgs.data();
  c.dbeta = dbs.data();
  cpu::layernorm_backward(c);
  if (din) expect_close(what + " din", out[0], back(dis), tolerance<T>());
  if (params) {
    expect_close(what + " dgamma", out[1], back(dgs), tolerance<T>());
    expect_close(what + " dbeta", out[2], back(dbs), tolerance<T>());
  } else {
    EXPECT_EQ(out[1], dg0) << "dgamma changed although not requested";
  }
}

TEST(CudaEmulated, LayerNormForward) {
  for (auto [N, C] : {std::pair{5, 33}, std::pair{37, 384}, std::pair{6, 1040}, std::pair{3, 1030}}) {
    layernorm_case<float>(N, C, false, 0);
    layernorm_case<float>(N, C, true, 0);
    layernorm_case<bf16>(N, C, true, 0);
  }
  layernorm_case<float>(9, 256, true, 1);
  layernorm_case<bf16>(9, 256, false, 3);
}

TEST(CudaEmulated, LayerNormBackward) {
  for (auto [N, C] : {std::pair{5, 33}, std::pair{37, 384}, std::pair{6, 1040}, std::pair{3, 1030}}) {
    layernorm_backward_case<float>(N, C, false, true, true);
    layernorm_backward_case<bf16>(N, C, false, true, true);
  }
  layernorm_backward_case<float>(21, 96, true, true, true);
  layernorm_backward_case<float>(21, 96, false, false, true);
  layernorm_backward_case<float>(21, 96, false, true, false);
  layernorm_backward_case<float>(4500, 24, false, true, true);  // more rows than one stride of the grid
}

// ---------------------------------------------------------------- embedding

struct EmbCase {
  int B, T, C, vocab, positions, types;
  bool type_ids;
  float p;
};

template <class T>
void embedding_case(const EmbCase& k, uint64_t seed) {
  const int N = k.B * k.T;
  const size_t n = static_cast<size_t>(N) * k.C;
  auto ids = test::random_ints(N, seed, 1, k.vocab - 1);
  const auto u = random_values(N, seed + 1, 0, 1);
  for (int i = 0; i < N; ++i)
    if (u[i] < 0.6) ids[i] = 0;  // a long group crossing many chunks
  const auto tt = test::random_ints(N, seed + 2, 0, k.types - 1);
  const auto word = rounded<T>(random_values(static_cast<size_t>(k.vocab) * k.C, seed + 3, -0.5, 1.5));
  const auto pos = rounded<T>(random_values(static_cast<size_t>(k.positions) * k.C, seed + 4));
  const auto type = rounded<T>(random_values(static_cast<size_t>(k.types) * k.C, seed + 5));
  const auto gamma = rounded<T>(random_values(k.C, seed + 6, 0.5, 1.5));
  const auto beta = rounded<T>(random_values(k.C, seed + 7));
  const auto dout = rounded<T>(random_values(n, seed + 8));
  const auto dword0 = rounded<T>(random_values(static_cast<size_t>(k.vocab) * k.C, seed + 9));
  const auto dpos0 = rounded<T>(random_values(static_cast<size_t>(k.positions) * k.C, seed + 10));
  const auto dtype0 = rounded<T>(random_values(static_cast<size_t>(k.types) * k.C, seed + 11));
  const auto dg0 = rounded<T>(random_values(k.C, seed + 12)), db0 = rounded<T>(random_values(k.C, seed + 13));
  const DropoutSpec drop{k.p, 77, dropout_stream(2, DropoutSite::Embedding), 4};
  const std::string what = "embedding B=" + std::to_string(k.B) + " T=" + std::to_string(k.T) + " C=" +
                           std::to_string(k.C) + (std::is_same_v<T, float> ? " fp32" : " bf16");

  // Runs forward then backward on the element type U with `run_fwd` / `run_bwd`.
  auto run = [&]<class U>(U*, auto&& fwd, auto&& bwd) {
    auto wd = to<U>(word), pd = to<U>(pos), td = to<U>(type), gd = to<U>(gamma), bd = to<U>(beta), dd = to<U>(dout);
    auto out = nan_vec<U>(n);
    auto mean = nan_vec<float>(N), rstd = nan_vec<float>(N);
    EmbeddingForwardArgs<U> f;
    f.B = k.B;
    f.T = k.T;
    f.C = k.C;
    f.vocab = k.vocab;
    f.max_positions = k.positions;
    f.type_vocab = k.types;
    f.input_ids = ids.data();
    f.token_type_ids = k.type_ids ? tt.data() : nullptr;
    f.word = wd.data();
    f.pos = pd.data();
    f.type = td.data();
    f.gamma = gd.data();
    f.beta = bd.data();
    f.dropout = drop;
    f.out = out.data();
    f.mean = mean.data();
    f.rstd = rstd.data();
    fwd(f);
    auto dw = to<U>(dword0), dp = to<U>(dpos0), dt = to<U>(dtype0), dgm = to<U>(dg0), dbt = to<U>(db0);
    EmbeddingBackwardArgs<U> a;
    a.B = f.B;
    a.T = f.T;
    a.C = f.C;
    a.vocab = f.vocab;
    a.max_positions = f.max_positions;
    a.type_vocab = f.type_vocab;
    a.input_ids = f.input_ids;
    a.token_type_ids = f.token_type_ids;
    a.word = f.word;
    a.pos = f.pos;
    a.type = f.type;
    a.gamma = f.gamma;
    a.beta = f.beta;
    a.dropout = drop;
    a.mean = f.mean;
    a.rstd = f.rstd;
    a.dout = dd.data();
    a.dword = dw.data();
    a.dpos = dp.data();
    a.dtype = dt.data();
    a.dgamma = dgm.data();
    a.dbeta = dbt.data();
    bwd(a);
    return std::vector<std::vector<double>>{back(out), back(mean), back(rstd), back(dw), back(dp), back(dt),
                                            back(dgm), back(dbt)};
  };
  auto got = run_both_orders(what, [&] {
    Emu e;
    return run(static_cast<T*>(nullptr), [&](const auto& f) { cuda::embedding_forward(f, e.ctx); },
               [&](const auto& a) { cuda::embedding_backward(a, e.ctx); });
  });
  auto want = run(static_cast<float*>(nullptr), [](const auto& f) { cpu::embedding_forward(f); },
                  [](const auto& a) { cpu::embedding_backward(a); });
  const char* names[] = {"out", "mean", "rstd", "dword", "dpos", "dtype", "dgamma", "dbeta"};
  for (int i = 0; i < 8; ++i)
    expect_close(what + " " + names[i], got[i], want[i], (i == 1 || i == 2) ? 1e-5 : tolerance<T>());
}

TEST(CudaEmulated, Embedding) {
  embedding_case<float>({2, 5, 24, 11, 8, 2, true, 0.1f}, 10);
  embedding_case<float>({3, 70, 33, 40, 80, 2, false, 0.0f}, 20);   // scalar path, null type ids
  embedding_case<float>({4, 100, 64, 30, 128, 3, true, 0.2f}, 30);  // 400 rows: groups across chunks
  embedding_case<float>({2, 9, 1040, 20, 16, 2, true, 0.1f}, 40);   // uncached vector path
  embedding_case<bf16>({4, 100, 64, 30, 128, 3, true, 0.2f}, 50);
  embedding_case<bf16>({3, 70, 40, 40, 80, 2, true, 0.1f}, 60);     // bf16, C % 8 == 0
}

TEST(CudaEmulated, EmbeddingBadIdIsReported) {
  Emu e;
  const int B = 2, T = 3, C = 8;
  std::vector<int32_t> ids = {1, 2, 3, 4, 9, 5};  // vocab 6: id 9 at (batch 1, position 1)
  const auto table = to<float>(random_values(6 * C, 1));
  std::vector<float> gamma(C, 1.0f), beta(C, 0.0f), out(B * T * C), mean(B * T), rstd(B * T);
  EmbeddingForwardArgs<float> f;
  f.B = B;
  f.T = T;
  f.C = C;
  f.vocab = 6;
  f.max_positions = 6;
  f.type_vocab = 1;
  f.input_ids = ids.data();
  f.word = f.pos = f.type = table.data();
  f.gamma = gamma.data();
  f.beta = beta.data();
  f.out = out.data();
  f.mean = mean.data();
  f.rstd = rstd.data();
  cuda::embedding_forward(f, e.ctx);
  EXPECT_EQ(e.status.code, cuda::kFaultTokenId);
  EXPECT_EQ(e.status.batch, 1);
  EXPECT_EQ(e.status.position, 1);
  EXPECT_EQ(e.status.value, 9);
  EXPECT_EQ(e.status.limit, 6);
  EXPECT_TRUE(std::isnan(out[4 * C])) << "the bad row is poisoned";
  EXPECT_FALSE(std::isnan(out[3 * C])) << "good rows are normalised";
}

// ---------------------------------------------------------------- linear and pooler (GEMM mapping)

template <class T>
void linear_case(int N, int in, int out, bool bias) {
  const auto x = rounded<T>(random_values(static_cast<size_t>(N) * in, 1));
  const auto w = rounded<T>(random_values(static_cast<size_t>(out) * in, 2, -0.2, 0.2));
  const auto b = rounded<T>(random_values(out, 3));
  const auto dy = rounded<T>(random_values(static_cast<size_t>(N) * out, 4));
  const auto dx0 = rounded<T>(random_values(static_cast<size_t>(N) * in, 5));
  const auto dw0 = rounded<T>(random_values(static_cast<size_t>(out) * in, 6));
  const auto db0 = rounded<T>(random_values(out, 7));
  const std::string what = "linear N=" + std::to_string(N) + " in=" + std::to_string(in) + " out=" +
                           std::to_string(out) + (std::is_same_v<T, float> ? " fp32" : " bf16");
  auto run = [&]<class U>(U*, auto&& fwd, auto&& bwd) {
    auto xd = to<U>(x), wd = to<U>(w), bd = to<U>(b), dyd = to<U>(dy), dxd = to<U>(dx0), dwd = to<U>(dw0),
         dbd = to<U>(db0);
    auto y = nan_vec<U>(static_cast<size_t>(N) * out);
    LinearForwardArgs<U> f;
    f.N = N;
    f.in = in;
    f.out = out;
    f.x = xd.data();
    f.w = wd.data();
    f.b = bias ? bd.data() : nullptr;
    f.y = y.data();
    fwd(f);
    LinearBackwardArgs<U> a;
    a.N = N;
    a.in = in;
    a.out = out;
    a.x = xd.data();
    a.w = wd.data();
    a.dy = dyd.data();
    a.dx = dxd.data();
    a.dx_accumulate = true;
    a.dw = dwd.data();
    a.db = dbd.data();
    bwd(a);
    return std::vector<std::vector<double>>{back(y), back(dxd), back(dwd), back(dbd)};
  };
  auto got = run_both_orders(what, [&] {
    Emu e;
    return run(static_cast<T*>(nullptr), [&](const auto& f) { cuda::linear_forward(f, e.ctx); },
               [&](const auto& a) { cuda::linear_backward(a, e.ctx); });
  });
  auto want = run(static_cast<float*>(nullptr), [](const auto& f) { cpu::linear_forward(f); },
                  [](const auto& a) { cpu::linear_backward(a); });
  const char* names[] = {"y", "dx (+=)", "dw", "db"};
  for (int i = 0; i < 4; ++i) expect_close(what + " " + names[i], got[i], want[i], tolerance<T>());
}

TEST(CudaEmulated, Linear) {
  linear_case<float>(7, 5, 3, true);
  linear_case<float>(300, 24, 40, false);  // db over two row chunks
  linear_case<bf16>(33, 16, 24, true);
}

template <class T>
void pooler_case(int B, int Tn, int C) {
  const auto h = rounded<T>(random_values(static_cast<size_t>(B) * Tn * C, 1));
  const auto w = rounded<T>(random_values(static_cast<size_t>(C) * C, 2, -0.3, 0.3));
  const auto b = rounded<T>(random_values(C, 3));
  const auto dp = rounded<T>(random_values(static_cast<size_t>(B) * C, 4));
  const auto dw0 = rounded<T>(random_values(static_cast<size_t>(C) * C, 5)), db0 = rounded<T>(random_values(C, 6));
  const std::string what = "pooler B=" + std::to_string(B) + " T=" + std::to_string(Tn) + " C=" + std::to_string(C) +
                           (std::is_same_v<T, float> ? " fp32" : " bf16");
  auto run = [&]<class U>(U*, auto&& fwd, auto&& bwd) {
    auto hd = to<U>(h), wd = to<U>(w), bd = to<U>(b), dpd = to<U>(dp), dwd = to<U>(dw0), dbd = to<U>(db0);
    auto pooled = nan_vec<U>(static_cast<size_t>(B) * C), dh = nan_vec<U>(static_cast<size_t>(B) * Tn * C);
    PoolerForwardArgs<U> f;
    f.B = B;
    f.T = Tn;
    f.C = C;
    f.hidden = hd.data();
    f.w = wd.data();
    f.b = bd.data();
    f.pooled = pooled.data();
    fwd(f);
    PoolerBackwardArgs<U> a;
    a.B = B;
    a.T = Tn;
    a.C = C;
    a.hidden = hd.data();
    a.w = wd.data();
    a.pooled = pooled.data();
    a.dpooled = dpd.data();
    a.dhidden = dh.data();
    a.dw = dwd.data();
    a.db = dbd.data();
    bwd(a);
    return std::vector<std::vector<double>>{back(pooled), back(dh), back(dwd), back(dbd)};
  };
  auto got = run_both_orders(what, [&] {
    Emu e;
    return run(static_cast<T*>(nullptr), [&](const auto& f) { cuda::pooler_forward(f, e.ctx); },
               [&](const auto& a) { cuda::pooler_backward(a, e.ctx); });
  });
  auto want = run(static_cast<float*>(nullptr), [](const auto& f) { cpu::pooler_forward(f); },
                  [](const auto& a) { cpu::pooler_backward(a); });
  const char* names[] = {"pooled", "dhidden", "dw", "db"};
  for (int i = 0; i < 4; ++i) expect_close(what + " " + names[i], got[i], want[i], tolerance<T>());
}

TEST(CudaEmulated, Pooler) {
  pooler_case<float>(3, 4, 16);
  pooler_case<float>(5, 1, 7);
  pooler_case<bf16>(3, 4, 16);
}

// ---------------------------------------------------------------- element-wise ops

template <class T>
void elementwise_case(int64_t n, int offset) {
  const auto x = rounded<T>(random_values(static_cast<size_t>(n) + offset, 1, -4, 4));
  const auto dy = rounded<T>(random_values(static_cast<size_t>(n) + offset, 2));
  const std::string tag = " n=" + std::to_string(n) + (offset ? " misaligned" : "") +
                          (std::is_same_v<T, float> ? " fp32" : " bf16");
  const DropoutSpec drop{0.3f, 5, 17, 2};
  auto run = [&]<class U>(U*, auto&& gf, auto&& gb, auto&& dr) {
    auto xd = to<U>(x), dyd = to<U>(dy), y = nan_vec<U>(n + offset), dx = nan_vec<U>(n + offset), xr = to<U>(x);
    GeluForwardArgs<U> f{n, xd.data() + offset, y.data() + offset};
    gf(f);
    GeluBackwardArgs<U> b{n, xd.data() + offset, dyd.data() + offset, dx.data() + offset};
    gb(b);
    DropoutArgs<U> d;
    d.n = n;
    d.dropout = drop;
    d.x = xr.data() + offset;
    dr(d);
    for (auto* v : {&y, &dx, &xr}) v->erase(v->begin(), v->begin() + offset);
    return std::vector<std::vector<double>>{back(y), back(dx), back(xr)};
  };
  auto got = run_both_orders("elementwise" + tag, [&] {
    Emu e;
    return run(static_cast<T*>(nullptr), [&](const auto& a) { cuda::gelu_forward(a, e.ctx); },
               [&](const auto& a) { cuda::gelu_backward(a, e.ctx); },
               [&](const auto& a) { cuda::dropout_forward(a, e.ctx); });
  });
  auto want = run(static_cast<float*>(nullptr), [](const auto& a) { cpu::gelu_forward(a); },
                  [](const auto& a) { cpu::gelu_backward(a); }, [](const auto& a) { cpu::dropout_forward(a); });
  expect_close("gelu_forward" + tag, got[0], want[0], tolerance<T>());
  expect_close("gelu_backward" + tag, got[1], want[1], tolerance<T>());
  expect_close("dropout" + tag, got[2], want[2], tolerance<T>());
}

TEST(CudaEmulated, ElementWise) {
  for (int64_t n : {1, 7, 8, 13, 4099}) {
    elementwise_case<float>(n, 0);
    elementwise_case<bf16>(n, 0);
  }
  elementwise_case<float>(1001, 1);
  elementwise_case<bf16>(1001, 3);
}

// ---------------------------------------------------------------- regression head

template <class T>
void head_case(int B, int C, float p) {
  const auto pooled = rounded<T>(random_values(static_cast<size_t>(B) * C, 1));
  const auto w = rounded<T>(random_values(C, 2)), b = rounded<T>(random_values(1, 3));
  const auto y = to<float>(random_values(B, 4, -2, 2));
  const auto dw0 = rounded<T>(random_values(C, 5)), db0 = rounded<T>(random_values(1, 6));
  const DropoutSpec drop{p, 9, dropout_stream(0, DropoutSite::Classifier), 1};
  const std::string what = "regression_head B=" + std::to_string(B) + " C=" + std::to_string(C) +
                           (std::is_same_v<T, float> ? " fp32" : " bf16");
  auto run = [&]<class U>(U*, auto&& fwd, auto&& bwd) {
    auto pd = to<U>(pooled), wd = to<U>(w), bd = to<U>(b), dwd = to<U>(dw0), dbd = to<U>(db0);
    auto pred = nan_vec<float>(B), loss = nan_vec<float>(1);
    auto dp = nan_vec<U>(static_cast<size_t>(B) * C);
    RegressionHeadForwardArgs<U> f;
    f.B = B;
    f.C = C;
    f.pooled = pd.data();
    f.w = wd.data();
    f.b = bd.data();
    f.dropout = drop;
    f.targets = y.data();
    f.pred = pred.data();
    f.loss = loss.data();
    fwd(f);
    RegressionHeadBackwardArgs<U> a;
    a.B = B;
    a.C = C;
    a.pooled = pd.data();
    a.w = wd.data();
    a.dropout = drop;
    a.targets = y.data();
    a.pred = pred.data();
    a.loss_scale = 0.5f;
    a.dpooled = dp.data();
    a.dw = dwd.data();
    a.db = dbd.data();
    bwd(a);
    return std::vector<std::vector<double>>{back(pred), back(loss), back(dp), back(dwd), back(dbd)};
  };
  auto got = run_both_orders(what, [&] {
    Emu e;
    return run(static_cast<T*>(nullptr), [&](const auto& f) { cuda::regression_head_forward(f, e.ctx); },
               [&](const auto& a) { cuda::regression_head_backward(a, e.ctx); });
  });
  auto want = run(static_cast<float*>(nullptr), [](const auto& f) { cpu::regression_head_forward(f); },
                  [](const auto& a) { cpu::regression_head_backward(a); });
  const char* names[] = {"pred", "loss", "dpooled", "dw", "db"};
  for (int i = 0; i < 5; ++i) expect_close(what + " " + names[i], got[i], want[i], i < 2 ? 1e-5 : tolerance<T>());
}

TEST(CudaEmulated, RegressionHead) {
  head_case<float>(1, 1, 0.0f);
  head_case<float>(19, 40, 0.2f);
  head_case<bf16>(19, 40, 0.2f);
}

// ---------------------------------------------------------------- optimizer

template <class T>
void optimizer_case(int64_t n) {
  const auto g = rounded<T>(random_values(static_cast<size_t>(n), 1, -0.05, 0.05));
  const auto master0 = to<float>(random_values(static_cast<size_t>(n) + 100, 2));
  const auto m0 = to<float>(random_values(static_cast<size_t>(n), 3, -1e-3, 1e-3));
  const auto v0 = to<float>(random_values(static_cast<size_t>(n), 4, 0, 1e-4));
  const std::vector<AdamWSegment> segments = {{0, 0, n / 3, 0.01f}, {n / 3 + 100, n / 3, n - n / 3, 0.0f}};
  const std::string what = "optimizer n=" + std::to_string(n) + (std::is_same_v<T, float> ? " fp32" : " bf16");
  auto run = [&]<class U>(U*, auto&& norm, auto&& step) {
    auto gd = to<U>(g);
    auto master = master0, m = m0, v = v0;
    auto work = nan_vec<U>(master.size());
    std::vector<double> sq{norm(gd.data())};
    AdamWArgs<U> a;
    a.master = master.data();
    if constexpr (std::is_same_v<U, float>) a.params = master.data();
    else a.params = work.data();
    a.grads = gd.data();
    a.m = m.data();
    a.v = v.data();
    a.segments = segments.data();
    a.num_segments = 2;
    a.lr = 1e-3f;
    a.step = 3;
    a.grad_scale = 0.7f;
    step(a);
    std::vector<double> w;
    if constexpr (!std::is_same_v<U, float>)
      for (const auto& s : segments)
        for (int64_t i = 0; i < s.count; ++i) w.push_back(test::from_value(work[s.param_offset + i]));
    return std::vector<std::vector<double>>{sq, back(master), back(m), back(v), w};
  };
  auto got = run_both_orders(what, [&] {
    Emu e;
    return run(static_cast<T*>(nullptr), [&](const T* p) { return cuda::grad_norm_squared(p, n, e.ctx); },
               [&](const auto& a) { cuda::adamw_step(a, e.ctx); });
  });
  auto want = run(static_cast<float*>(nullptr), [&](const float* p) { return cpu::grad_norm_squared(p, n); },
                  [](const auto& a) { cpu::adamw_step(a); });
  expect_close(what + " grad_norm_squared", got[0], want[0], 1e-12);
  // fp32 AdamW uses the same explicitly rounded operations on both sides: bit for bit.
  expect_close(what + " master", got[1], want[1], 0.0);
  expect_close(what + " m", got[2], want[2], 0.0);
  expect_close(what + " v", got[3], want[3], 0.0);
  if constexpr (!std::is_same_v<T, float>) {
    std::vector<double> w;
    for (const auto& s : segments)
      for (int64_t i = 0; i < s.count; ++i) w.push_back(test::round_to<bf16>(got[1][s.param_offset + i]));
    expect_close(what + " working copy", got[4], w, 0.0);
  }
}

TEST(CudaEmulated, Optimizer) {
  optimizer_case<float>(5003);
  optimizer_case<bf16>(5003);
  Emu e;
  const auto master = to<float>(random_values(1003, 1));
  auto w = nan_vec<bf16>(1003);
  cuda::master_to_working(master.data(), w.data(), 1003, e.ctx);
  for (size_t i = 0; i < master.size(); ++i) ASSERT_EQ(w[i].bits, bf16::from_float(master[i]).bits) << i;
}

}  // namespace
}  // namespace ft

#else
TEST(CudaEmulated, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
