// The float CPU ops against PyTorch / Hugging Face float32 (tests/golden/ops/ops.json, written by
// tools/golden/ops.py): forward outputs and gradients of every op, and AdamW's parameters and
// moments over three steps.
//
// Tolerance of the layer ops: both sides compute in float32 (unit roundoff u = 6e-8) with
// accumulations of at most 48 terms (the golden's largest C or K), in different orders, so each
// side is within ~48 u = 3e-6 of the sum of the magnitudes of its terms, which at these sizes is a
// small multiple of the largest output. kRelToMax = 1e-5 of the largest |value| of each golden
// array covers both sides' rounding; a wrong formula moves values far more (unbiased variance:
// 1 %; tanh-approximate GELU: 1e-4 of the largest output; a missing mask or scale: order 1).
// AdamW has its own, tighter criterion (see its test).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/support/random.h"
#include "tests/support/test_data.h"

namespace ft::test {
namespace {

using json = nlohmann::json;
constexpr double kRelToMax = 1e-5;

const json& golden() {
  static const json j = [] {
    std::ifstream in(golden_dir() / "ops" / "ops.json");
    return in ? json::parse(in) : json();
  }();
  return j;
}

#define REQUIRE_GOLDEN()                                                                                   \
  do {                                                                                                     \
    FT_REQUIRE_PATH(golden_dir() / "ops" / "ops.json");                                                   \
  } while (0)

std::vector<float> floats(const json& j) { return j.get<std::vector<float>>(); }
std::vector<int32_t> ints(const json& j) { return j.get<std::vector<int32_t>>(); }

void expect_close(const std::string& name, const std::vector<float>& ours, const json& expected_json) {
  const auto expected = floats(expected_json);
  ASSERT_EQ(ours.size(), expected.size()) << name;
  double scale = 0.0;
  for (float e : expected) scale = std::max(scale, static_cast<double>(std::fabs(e)));
  const double tol = kRelToMax * std::max(scale, 1e-30);
  int bad = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(ours[i]) - expected[i]);
    if (!(diff <= tol) && bad++ < 5)
      ADD_FAILURE() << name << "[" << i << "]: ours " << ours[i] << ", torch " << expected[i] << " (tolerance " << tol
                    << ")";
  }
  EXPECT_EQ(bad, 0) << name << ": " << bad << " of " << ours.size() << " elements differ";
}

TEST(CpuHfGolden, Linear) {
  REQUIRE_GOLDEN();
  const json& g = golden()["linear"];
  const int N = g["N"], in = g["in"], out = g["out"];
  auto x = floats(g["x"]), w = floats(g["w"]), b = floats(g["b"]), dy = floats(g["dy"]);
  auto y = poisoned_vector<float>(static_cast<size_t>(N) * out);
  LinearForwardArgs<float> f;
  f.N = N; f.in = in; f.out = out; f.x = x.data(); f.w = w.data(); f.b = b.data(); f.y = y.data();
  cpu::linear_forward(f);
  expect_close("y", y, g["y"]);
  auto dx = poisoned_vector<float>(x.size());
  std::vector<float> dw(w.size(), 0.0f), db(b.size(), 0.0f);
  LinearBackwardArgs<float> bw;
  bw.N = N; bw.in = in; bw.out = out; bw.x = x.data(); bw.w = w.data(); bw.dy = dy.data();
  bw.dx = dx.data(); bw.dw = dw.data(); bw.db = db.data();
  cpu::linear_backward(bw);
  expect_close("dx", dx, g["dx"]);
  expect_close("dw", dw, g["dw"]);
  expect_close("db", db, g["db"]);
}

TEST(CpuHfGolden, LayerNormWithResidual) {
  REQUIRE_GOLDEN();
  const json& g = golden()["layernorm"];
  const int N = g["N"], C = g["C"];
  auto x = floats(g["x"]), res = floats(g["residual"]), gamma = floats(g["gamma"]), beta = floats(g["beta"]);
  auto dout = floats(g["dout"]);
  auto sum = poisoned_vector<float>(x.size()), out = poisoned_vector<float>(x.size());
  auto mean = poisoned_vector<float>(static_cast<size_t>(N)), rstd = poisoned_vector<float>(static_cast<size_t>(N));
  LayerNormForwardArgs<float> f;
  f.N = N; f.C = C; f.x = x.data(); f.residual = res.data(); f.gamma = gamma.data(); f.beta = beta.data();
  f.eps = 1e-12f; f.sum = sum.data(); f.out = out.data(); f.mean = mean.data(); f.rstd = rstd.data();
  cpu::layernorm_forward(f);
  expect_close("out", out, g["out"]);
  auto din = poisoned_vector<float>(x.size());
  std::vector<float> dgamma(gamma.size(), 0.0f), dbeta(beta.size(), 0.0f);
  LayerNormBackwardArgs<float> bw;
  bw.N = N; bw.C = C; bw.in = sum.data(); bw.gamma = gamma.data(); bw.mean = mean.data(); bw.rstd = rstd.data();
  bw.dout = dout.data(); bw.din = din.data(); bw.dgamma = dgamma.data(); bw.dbeta = dbeta.data();
  cpu::layernorm_backward(bw);
  expect_close("dx", din, g["dx"]);
  expect_close("dresidual", din, g["dresidual"]);
  expect_close("dgamma", dgamma, g["dgamma"]);
  expect_close("dbeta", dbeta, g["dbeta"]);
}

TEST(CpuHfGolden, Gelu) {
  REQUIRE_GOLDEN();
  const json& g = golden()["gelu"];
  const int64_t n = g["n"];
  auto x = floats(g["x"]), dy = floats(g["dy"]);
  auto y = poisoned_vector<float>(x.size()), dx = poisoned_vector<float>(x.size());
  GeluForwardArgs<float> f;
  f.n = n; f.x = x.data(); f.y = y.data();
  cpu::gelu_forward(f);
  expect_close("y", y, g["y"]);
  GeluBackwardArgs<float> bw;
  bw.n = n; bw.x = x.data(); bw.dy = dy.data(); bw.dx = dx.data();
  cpu::gelu_backward(bw);
  expect_close("dx", dx, g["dx"]);
}

TEST(CpuHfGolden, AttentionWithPadding) {
  REQUIRE_GOLDEN();
  const json& g = golden()["attention"];
  const int B = g["B"], T = g["T"], H = g["H"], D = g["D"], C = H * D;
  auto qkv = floats(g["qkv"]), dout = floats(g["dout"]);
  auto lengths = ints(g["lengths"]);
  auto out = poisoned_vector<float>(static_cast<size_t>(B) * T * C);
  auto lse = poisoned_vector<float>(static_cast<size_t>(B) * H * T);
  AttentionForwardArgs<float> f;
  f.B = B; f.T = T; f.H = H; f.D = D; f.qkv = qkv.data(); f.lengths = lengths.data();
  f.scale = static_cast<float>(g["scale"].get<double>()); f.out = out.data(); f.lse = lse.data();
  cpu::attention_forward(f);
  expect_close("out", out, g["out"]);
  expect_close("lse", lse, g["lse"]);
  auto dqkv = poisoned_vector<float>(qkv.size());
  AttentionBackwardArgs<float> bw;
  bw.B = B; bw.T = T; bw.H = H; bw.D = D; bw.qkv = qkv.data(); bw.lengths = lengths.data(); bw.scale = f.scale;
  bw.out = out.data(); bw.lse = lse.data(); bw.dout = dout.data(); bw.dqkv = dqkv.data();
  cpu::attention_backward(bw);
  expect_close("dqkv", dqkv, g["dqkv"]);
}

TEST(CpuHfGolden, Embedding) {
  REQUIRE_GOLDEN();
  const json& g = golden()["embedding"];
  const int B = g["B"], T = g["T"], C = g["C"];
  auto ids = ints(g["input_ids"]), types = ints(g["token_type_ids"]);
  auto word = floats(g["word"]), pos = floats(g["pos"]), type = floats(g["type"]);
  auto gamma = floats(g["gamma"]), beta = floats(g["beta"]), dout = floats(g["dout"]);
  auto out = poisoned_vector<float>(static_cast<size_t>(B) * T * C);
  auto mean = poisoned_vector<float>(static_cast<size_t>(B) * T), rstd = poisoned_vector<float>(static_cast<size_t>(B) * T);
  EmbeddingForwardArgs<float> f;
  f.B = B; f.T = T; f.C = C; f.vocab = g["vocab"]; f.max_positions = g["max_positions"]; f.type_vocab = g["type_vocab"];
  f.input_ids = ids.data(); f.token_type_ids = types.data(); f.word = word.data(); f.pos = pos.data();
  f.type = type.data(); f.gamma = gamma.data(); f.beta = beta.data(); f.eps = 1e-12f;
  f.out = out.data(); f.mean = mean.data(); f.rstd = rstd.data();
  cpu::embedding_forward(f);
  expect_close("out", out, g["out"]);
  std::vector<float> dword(word.size(), 0.0f), dpos(pos.size(), 0.0f), dtype(type.size(), 0.0f);
  std::vector<float> dgamma(gamma.size(), 0.0f), dbeta(beta.size(), 0.0f);
  EmbeddingBackwardArgs<float> bw;
  bw.B = B; bw.T = T; bw.C = C; bw.vocab = f.vocab; bw.max_positions = f.max_positions; bw.type_vocab = f.type_vocab;
  bw.input_ids = ids.data(); bw.token_type_ids = types.data(); bw.word = word.data(); bw.pos = pos.data();
  bw.type = type.data(); bw.gamma = gamma.data(); bw.beta = beta.data(); bw.mean = mean.data(); bw.rstd = rstd.data();
  bw.dout = dout.data(); bw.dword = dword.data(); bw.dpos = dpos.data(); bw.dtype = dtype.data();
  bw.dgamma = dgamma.data(); bw.dbeta = dbeta.data();
  cpu::embedding_backward(bw);
  expect_close("dword", dword, g["dword"]);
  expect_close("dpos", dpos, g["dpos"]);
  expect_close("dtype", dtype, g["dtype"]);
  expect_close("dgamma", dgamma, g["dgamma"]);
  expect_close("dbeta", dbeta, g["dbeta"]);
}

TEST(CpuHfGolden, Pooler) {
  REQUIRE_GOLDEN();
  const json& g = golden()["pooler"];
  const int B = g["B"], T = g["T"], C = g["C"];
  auto hidden = floats(g["hidden"]), w = floats(g["w"]), b = floats(g["b"]), dpooled = floats(g["dpooled"]);
  auto pooled = poisoned_vector<float>(static_cast<size_t>(B) * C);
  PoolerForwardArgs<float> f;
  f.B = B; f.T = T; f.C = C; f.hidden = hidden.data(); f.w = w.data(); f.b = b.data(); f.pooled = pooled.data();
  cpu::pooler_forward(f);
  expect_close("pooled", pooled, g["pooled"]);
  auto dhidden = poisoned_vector<float>(hidden.size());
  std::vector<float> dw(w.size(), 0.0f), db(b.size(), 0.0f);
  PoolerBackwardArgs<float> bw;
  bw.B = B; bw.T = T; bw.C = C; bw.hidden = hidden.data(); bw.w = w.data(); bw.pooled = pooled.data();
  bw.dpooled = dpooled.data(); bw.dhidden = dhidden.data(); bw.dw = dw.data(); bw.db = db.data();
  cpu::pooler_backward(bw);
  expect_close("dhidden", dhidden, g["dhidden"]);
  expect_close("dw", dw, g["dw"]);
  expect_close("db", db, g["db"]);
}

TEST(CpuHfGolden, RegressionHeadAndMseLoss) {
  REQUIRE_GOLDEN();
  const json& g = golden()["regression_head"];
  const int B = g["B"], C = g["C"];
  auto pooled = floats(g["pooled"]), w = floats(g["w"]), b = floats(g["b"]), targets = floats(g["targets"]);
  auto pred = poisoned_vector<float>(static_cast<size_t>(B));
  float loss = std::nanf("");
  RegressionHeadForwardArgs<float> f;
  f.B = B; f.C = C; f.pooled = pooled.data(); f.w = w.data(); f.b = b.data(); f.targets = targets.data();
  f.pred = pred.data(); f.loss = &loss;
  cpu::regression_head_forward(f);
  expect_close("pred", pred, g["pred"]);
  expect_close("loss", {loss}, json::array({g["loss"]}));
  auto dpooled = poisoned_vector<float>(pooled.size());
  std::vector<float> dw(w.size(), 0.0f), db(1, 0.0f);
  RegressionHeadBackwardArgs<float> bw;
  bw.B = B; bw.C = C; bw.pooled = pooled.data(); bw.w = w.data(); bw.targets = targets.data(); bw.pred = pred.data();
  bw.loss_scale = 1.0f; bw.dpooled = dpooled.data(); bw.dw = dw.data(); bw.db = db.data();
  cpu::regression_head_backward(bw);
  expect_close("dpooled", dpooled, g["dpooled"]);
  expect_close("dw", dw, g["dw"]);
  expect_close("db", db, g["db"]);
}

// Distance in units in the last place between two finite floats of the same sign (or zeros).
int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if (ia < 0) ia = std::numeric_limits<int32_t>::min() - ia;
  if (ib < 0) ib = std::numeric_limits<int32_t>::min() - ib;
  return std::llabs(static_cast<int64_t>(ia) - static_cast<int64_t>(ib));
}

// AdamW mirrors torch's single-tensor path operation by operation, in float, with torch's scalars
// (formed in double, rounded once to float), fusing the multiply-adds that torch's AVX-512 build
// fuses. Each element should therefore match torch bit for bit (with torch 2.15 all do); the one
// allowed ulp covers what cannot be mirrored for every torch build: whether its compiler fused a
// multiply-add (lerp, addcmul) in a given loop, and lr arriving as float. Carried over three
// steps, a one-ulp difference in m or v moves the next parameter update by at most about one ulp
// as well, so parameters and moments must stay within 1 ulp; a wrong formula (bias correction,
// eps outside the sqrt, coupled weight decay) moves them by thousands.
TEST(CpuHfGolden, AdamWMatchesTorchWithinOneUlp) {
  REQUIRE_GOLDEN();
  const json& g = golden()["adamw"];
  const auto sizes = g["sizes"].get<std::vector<int64_t>>();
  const auto wds = g["weight_decay"].get<std::vector<float>>();
  std::vector<float> master, m, v;
  std::vector<AdamWSegment> segments;
  for (size_t s = 0; s < sizes.size(); ++s) {
    AdamWSegment seg;
    seg.param_offset = seg.grad_offset = static_cast<int64_t>(master.size());
    seg.count = sizes[s];
    seg.weight_decay = wds[s];
    segments.push_back(seg);
    const auto init = floats(g["initial"][s]);
    master.insert(master.end(), init.begin(), init.end());
  }
  m.assign(master.size(), 0.0f);
  v.assign(master.size(), 0.0f);
  int64_t worst = 0, exact = 0, total = 0;
  int step = 0;
  for (const json& st : g["steps"]) {
    ++step;
    std::vector<float> grads;
    for (const json& gr : st["grads"]) {
      const auto x = floats(gr);
      grads.insert(grads.end(), x.begin(), x.end());
    }
    AdamWArgs<float> a;
    a.master = master.data(); a.params = master.data(); a.grads = grads.data(); a.m = m.data(); a.v = v.data();
    a.segments = segments.data(); a.num_segments = static_cast<int>(segments.size());
    a.lr = static_cast<float>(st["lr"].get<double>()); a.beta1 = static_cast<float>(g["beta1"].get<double>());
    a.beta2 = static_cast<float>(g["beta2"].get<double>()); a.eps = static_cast<float>(g["eps"].get<double>());
    a.step = step; a.grad_scale = static_cast<float>(st["grad_scale"].get<double>());
    cpu::adamw_step(a);
    for (const char* what : {"params", "exp_avg", "exp_avg_sq"}) {
      const std::vector<float>& ours = std::string(what) == "params" ? master : std::string(what) == "exp_avg" ? m : v;
      std::vector<float> expected;
      for (const json& part : st[what]) {
        const auto x = floats(part);
        expected.insert(expected.end(), x.begin(), x.end());
      }
      ASSERT_EQ(ours.size(), expected.size());
      for (size_t i = 0; i < ours.size(); ++i) {
        const int64_t d = ulp_distance(ours[i], expected[i]);
        worst = std::max(worst, d);
        exact += d == 0;
        ++total;
        EXPECT_LE(d, 1) << what << "[" << i << "] after step " << step << ": ours " << ours[i] << ", torch "
                        << expected[i];
      }
    }
  }
  std::cout << "adamw: " << exact << " of " << total << " values bit-identical to torch, worst " << worst << " ulp\n";
}

}  // namespace
}  // namespace ft::test
