// layernorm forward and backward: the CUDA backend against the CPU backend (tests/support/parity.h
// for the method and the tolerances). Cases (tests/cases/layernorm.h) cover the register-cached
// vector path (C <= 1024, C % 8 == 0), the uncached vector path (C > 1024), the scalar path (odd C,
// misaligned pointers), the residual add, din accumulation and null gradient pointers.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/layernorm.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::BackendBuffers;
using cases::LayerNormCase;
using test::Outputs;

// offset: elements by which every pointer is moved off its 16-byte alignment (0 or 1).
template <class DevReal>
void check_forward(const LayerNormCase& c, int offset, uint64_t seed) {
  const auto rounding = cases::rounding_of<DevReal>();
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, rounding, offset);
    be.layernorm_forward(cases::layernorm_forward_args<R>(c, b));
    Outputs o{test::real_output(b, "out"), test::fp32_output(b, "mean"), test::fp32_output(b, "rstd")};
    if (c.residual) o.push_back(test::real_output(b, "sum"));
    return o;
  };
  // A plain bf16 implementation stores x + residual as bf16 and normalises that.
  auto plain = [&] {
    auto cpu = make_backend<float>(DeviceSpec{});
    BackendBuffers<float> b(*cpu, seed, rounding);
    LayerNormForwardArgs<float> a = cases::layernorm_forward_args<float>(c, b);
    std::vector<double> sum = b.values("x");
    if (c.residual)
      for (size_t i = 0; i < sum.size(); ++i) sum[i] = test::round_to<bf16>(sum[i] + b.values("residual")[i]);
    a.x = b.template put<float>("x + residual", sum);
    a.residual = nullptr;
    a.sum = nullptr;
    cpu->layernorm_forward(a);
    Outputs o{test::real_output(b, "out"), test::fp32_output(b, "mean"), test::fp32_output(b, "rstd")};
    if (c.residual) o.push_back({"sum", sum, test::Stored::Real});
    return o;
  };
  test::expect_parity_with_plain<DevReal>(c.forward_name() + (offset ? " misaligned" : ""), run, plain);
}

template <class DevReal>
void check_backward(const LayerNormCase& c, int offset, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>(), offset);
    be.layernorm_backward(cases::layernorm_backward_args<R>(c, b));
    Outputs o;
    if (c.din) o.push_back(test::real_output(b, "din"));
    if (c.params) {
      o.push_back(test::real_output(b, "dgamma"));
      o.push_back(test::real_output(b, "dbeta"));
    }
    return o;
  };
  test::expect_parity<DevReal>(c.backward_name() + (offset ? " misaligned" : ""), run);
}

template <class DevReal>
void forward_cases() {
  uint64_t seed = 100;
  for (LayerNormCase c : cases::layernorm_parity_shapes(test::quick_mode()))
    for (bool residual : {false, true}) {
      c.residual = residual;
      check_forward<DevReal>(c, 0, ++seed);
    }
  check_forward<DevReal>({.N = 13, .C = 256}, 1, ++seed);
}

template <class DevReal>
void backward_cases() {
  uint64_t seed = 200;
  for (const LayerNormCase& c : cases::layernorm_parity_shapes(test::quick_mode())) check_backward<DevReal>(c, 0, ++seed);
  check_backward<DevReal>({.N = 29, .C = 384, .accumulate = true}, 0, ++seed);
  check_backward<DevReal>({.N = 29, .C = 384, .params = false}, 0, ++seed);
  check_backward<DevReal>({.N = 29, .C = 384, .din = false}, 0, ++seed);
  check_backward<DevReal>({.N = 13, .C = 256, .accumulate = true}, 1, ++seed);
}

TEST(ParityLayerNorm, ForwardFp32) {
  FT_REQUIRE_DEVICE(float);
  forward_cases<float>();
}
TEST(ParityLayerNorm, ForwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  forward_cases<bf16>();
}
TEST(ParityLayerNorm, BackwardFp32) {
  FT_REQUIRE_DEVICE(float);
  backward_cases<float>();
}
TEST(ParityLayerNorm, BackwardBf16) {
  FT_REQUIRE_DEVICE(bf16);
  backward_cases<bf16>();
}

// Many rows (several row-strides of the fixed backward grid) and two identical runs: same bits.
TEST(ParityLayerNorm, BackwardDeterministic) {
  FT_REQUIRE_DEVICE(float);
  const LayerNormCase c{.N = test::quick_mode() ? 700 : 9000, .C = 768};
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, 7, cases::Rounding::Fp32);
    be.layernorm_backward(cases::layernorm_backward_args<R>(c, b));
    return Outputs{test::real_output(b, "din"), test::real_output(b, "dgamma"), test::real_output(b, "dbeta")};
  };
  test::expect_deterministic<float>(c.backward_name(), run);
  test::expect_parity<float>(c.backward_name(), run);
}

}  // namespace
}  // namespace ft
