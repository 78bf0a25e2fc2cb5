// linear forward and backward (cuBLASLt with the bias epilogue, our deterministic bias gradient):
// the CUDA backend against the CPU backend (tests/support/parity.h for the method and the
// tolerances; fp32 GEMMs run without TF32, so the fp32 bound holds: K <= 1152 products per output).
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

struct Shape {
  int N, in, out;
};

std::vector<Shape> shapes() {
  if (test::quick_mode()) return {{3, 5, 7}, {16, 32, 48}};
  return {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 128, 96}, {300, 384, 1152}, {129, 768, 384}, {2, 1000, 3}};
}

template <class DevReal>
void check_forward(Shape s, bool bias, int offset, uint64_t seed) {
  using test::round_to;
  const size_t nx = static_cast<size_t>(s.N) * s.in, nw = static_cast<size_t>(s.out) * s.in,
               ny = static_cast<size_t>(s.N) * s.out;
  const auto x = round_to<DevReal>(test::random_values(nx, seed));
  const auto w = round_to<DevReal>(test::random_values(nw, seed + 1, -0.1, 0.1));
  const auto b = round_to<DevReal>(test::random_values(s.out, seed + 2));
  auto pad = [&](const std::vector<double>& v) {
    std::vector<double> p(offset, 0.5);
    p.insert(p.end(), v.begin(), v.end());
    return p;
  };
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    LinearForwardArgs<R> a;
    a.N = s.N;
    a.in = s.in;
    a.out = s.out;
    a.x = d.template upload<R>(pad(x)) + offset;
    a.w = d.template upload<R>(pad(w)) + offset;
    a.b = bias ? d.template upload<R>(pad(b)) + offset : nullptr;
    a.y = d.template nan<R>(ny + offset) + offset;
    be.linear_forward(a);
    return Outputs{d.real("y", a.y, ny)};
  };
  const std::string what = "linear_forward N=" + std::to_string(s.N) + " in=" + std::to_string(s.in) +
                           " out=" + std::to_string(s.out) + (bias ? " +bias" : "") + (offset ? " misaligned" : "");
  test::expect_parity<DevReal>(what, run);
}

struct Want {
  bool dx, dx_accumulate, dw, db;
};

template <class DevReal>
void check_backward(Shape s, Want want, int offset, uint64_t seed) {
  using test::round_to;
  const size_t nx = static_cast<size_t>(s.N) * s.in, nw = static_cast<size_t>(s.out) * s.in,
               ny = static_cast<size_t>(s.N) * s.out;
  const auto x = round_to<DevReal>(test::random_values(nx, seed));
  const auto w = round_to<DevReal>(test::random_values(nw, seed + 1, -0.1, 0.1));
  const auto dy = round_to<DevReal>(test::random_values(ny, seed + 2));
  const auto dx0 = round_to<DevReal>(test::random_values(nx, seed + 3));
  const auto dw0 = round_to<DevReal>(test::random_values(nw, seed + 4));
  const auto db0 = round_to<DevReal>(test::random_values(s.out, seed + 5));
  auto pad = [&](const std::vector<double>& v) {
    std::vector<double> p(offset, 0.5);
    p.insert(p.end(), v.begin(), v.end());
    return p;
  };
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    LinearBackwardArgs<R> a;
    a.N = s.N;
    a.in = s.in;
    a.out = s.out;
    a.x = d.template upload<R>(pad(x)) + offset;
    a.w = d.template upload<R>(pad(w)) + offset;
    a.dy = d.template upload<R>(pad(dy)) + offset;
    if (want.dx) a.dx = (want.dx_accumulate ? d.template upload<R>(pad(dx0)) : d.template nan<R>(nx + offset)) + offset;
    a.dx_accumulate = want.dx_accumulate;
    if (want.dw) a.dw = d.template upload<R>(pad(dw0)) + offset;
    if (want.db) a.db = d.template upload<R>(pad(db0)) + offset;
    be.linear_backward(a);
    Outputs o;
    if (want.dx) o.push_back(d.real("dx", a.dx, nx));
    if (want.dw) o.push_back(d.real("dw", a.dw, nw));
    if (want.db) o.push_back(d.real("db", a.db, s.out));
    return o;
  };
  std::string what = "linear_backward N=" + std::to_string(s.N) + " in=" + std::to_string(s.in) +
                     " out=" + std::to_string(s.out);
  if (!want.dx) what += " no-dx";
  if (want.dx_accumulate) what += " dx+=";
  if (!want.dw) what += " no-dw";
  if (!want.db) what += " no-db";
  if (offset) what += " misaligned";
  test::expect_parity<DevReal>(what, run);
}

template <class DevReal>
void forward_cases() {
  uint64_t seed = 1000;
  for (Shape s : shapes())
    for (bool bias : {true, false}) check_forward<DevReal>(s, bias, 0, seed += 10);
  check_forward<DevReal>({19, 64, 40}, true, 1, seed += 10);
}

template <class DevReal>
void backward_cases() {
  uint64_t seed = 2000;
  for (Shape s : shapes()) check_backward<DevReal>(s, {true, false, true, true}, 0, seed += 10);
  const Shape s{37, 96, 80};
  check_backward<DevReal>(s, {true, true, true, true}, 0, seed += 10);
  check_backward<DevReal>(s, {false, false, true, true}, 0, seed += 10);
  check_backward<DevReal>(s, {true, false, false, false}, 0, seed += 10);
  check_backward<DevReal>(s, {false, false, false, true}, 0, seed += 10);
  check_backward<DevReal>({19, 64, 40}, {true, true, true, true}, 1, seed += 10);
}

TEST(ParityLinear, ForwardFp32) {
  FT_REQUIRE_DEVICE(float);
  forward_cases<float>();
}
TEST(ParityLinear, ForwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  forward_cases<bf16>();
}
TEST(ParityLinear, BackwardFp32) {
  FT_REQUIRE_DEVICE(float);
  backward_cases<float>();
}
TEST(ParityLinear, BackwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  backward_cases<bf16>();
}

// The bias gradient over many rows (several chunks of the two-stage reduction): same bits twice.
TEST(ParityLinear, BackwardDeterministic) {
  FT_REQUIRE_DEVICE(float);
  const Shape s{test::quick_mode() ? 600 : 4096, 256, 384};
  const auto x = test::random_values(static_cast<size_t>(s.N) * s.in, 1);
  const auto w = test::random_values(static_cast<size_t>(s.out) * s.in, 2, -0.1, 0.1);
  const auto dy = test::random_values(static_cast<size_t>(s.N) * s.out, 3);
  const auto dw0 = test::random_values(static_cast<size_t>(s.out) * s.in, 4);
  const auto db0 = test::random_values(s.out, 5);
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    LinearBackwardArgs<R> a;
    a.N = s.N;
    a.in = s.in;
    a.out = s.out;
    a.x = d.template upload<R>(x);
    a.w = d.template upload<R>(w);
    a.dy = d.template upload<R>(dy);
    a.dx = d.template nan<R>(static_cast<size_t>(s.N) * s.in);
    a.dw = d.template upload<R>(dw0);
    a.db = d.template upload<R>(db0);
    be.linear_backward(a);
    return Outputs{d.real("dx", a.dx, static_cast<size_t>(s.N) * s.in),
                   d.real("dw", a.dw, static_cast<size_t>(s.out) * s.in), d.real("db", a.db, s.out)};
  };
  test::expect_deterministic<float>("linear_backward N=4096", run);
}

}  // namespace
}  // namespace ft
