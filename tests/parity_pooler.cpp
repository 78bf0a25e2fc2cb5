// pooler ([CLS] row, dense, tanh) forward and backward: the CUDA backend against the CPU backend
// (tests/support/parity.h; fp32 GEMMs without TF32, K = C <= 768). In bf16 the backward's GEMMs
// take dz = dpooled * (1 - pooled^2) rounded to bf16 (a GEMM input), as a plain bf16 implementation
// does: about sqrt(2) times the output-rounding baseline, inside the 2x bound.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

struct Shape {
  int B, T, C;
};

std::vector<Shape> shapes() {
  if (test::quick_mode()) return {{3, 4, 16}};
  return {{1, 1, 8}, {3, 4, 16}, {5, 7, 33}, {32, 12, 384}, {16, 3, 768}};
}

template <class DevReal>
void check_forward(Shape s, uint64_t seed) {
  using test::round_to;
  const size_t nh = static_cast<size_t>(s.B) * s.T * s.C, nw = static_cast<size_t>(s.C) * s.C,
               np = static_cast<size_t>(s.B) * s.C;
  const auto h = round_to<DevReal>(test::random_values(nh, seed));
  const auto w = round_to<DevReal>(test::random_values(nw, seed + 1, -0.1, 0.1));
  const auto b = round_to<DevReal>(test::random_values(s.C, seed + 2));
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    PoolerForwardArgs<R> a;
    a.B = s.B;
    a.T = s.T;
    a.C = s.C;
    a.hidden = d.template upload<R>(h);
    a.w = d.template upload<R>(w);
    a.b = d.template upload<R>(b);
    a.pooled = d.template nan<R>(np);
    be.pooler_forward(a);
    return Outputs{d.real("pooled", a.pooled, np)};
  };
  test::expect_parity<DevReal>(
      "pooler_forward B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " C=" + std::to_string(s.C), run);
}

template <class DevReal>
void check_backward(Shape s, bool dhidden, bool params, uint64_t seed) {
  using test::round_to;
  const size_t nh = static_cast<size_t>(s.B) * s.T * s.C, nw = static_cast<size_t>(s.C) * s.C,
               np = static_cast<size_t>(s.B) * s.C;
  const auto h = round_to<DevReal>(test::random_values(nh, seed));
  const auto w = round_to<DevReal>(test::random_values(nw, seed + 1, -0.1, 0.1));
  const auto pooled = round_to<DevReal>(test::random_values(np, seed + 2, -0.95, 0.95));  // tanh outputs
  const auto dpooled = round_to<DevReal>(test::random_values(np, seed + 3));
  const auto dw0 = round_to<DevReal>(test::random_values(nw, seed + 4));
  const auto db0 = round_to<DevReal>(test::random_values(s.C, seed + 5));
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    PoolerBackwardArgs<R> a;
    a.B = s.B;
    a.T = s.T;
    a.C = s.C;
    a.hidden = d.template upload<R>(h);
    a.w = d.template upload<R>(w);
    a.pooled = d.template upload<R>(pooled);
    a.dpooled = d.template upload<R>(dpooled);
    if (dhidden) a.dhidden = d.template nan<R>(nh);
    if (params) {
      a.dw = d.template upload<R>(dw0);
      a.db = d.template upload<R>(db0);
    }
    be.pooler_backward(a);
    Outputs o;
    if (dhidden) o.push_back(d.real("dhidden", a.dhidden, nh));
    if (params) {
      o.push_back(d.real("dw", a.dw, nw));
      o.push_back(d.real("db", a.db, s.C));
    }
    return o;
  };
  std::string what =
      "pooler_backward B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " C=" + std::to_string(s.C);
  if (!dhidden) what += " no-dhidden";
  if (!params) what += " no-params";
  test::expect_parity<DevReal>(what, run);
}

template <class DevReal>
void cases() {
  uint64_t seed = 5000;
  for (Shape s : shapes()) {
    check_forward<DevReal>(s, seed += 10);
    check_backward<DevReal>(s, true, true, seed += 10);
  }
  check_backward<DevReal>({6, 5, 48}, false, true, seed += 10);
  check_backward<DevReal>({6, 5, 48}, true, false, seed += 10);
}

TEST(ParityPooler, Fp32) {
  FT_REQUIRE_DEVICE(float);
  cases<float>();
}
TEST(ParityPooler, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  cases<bf16>();
}

}  // namespace
}  // namespace ft
