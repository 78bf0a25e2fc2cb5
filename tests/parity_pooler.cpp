// pooler ([CLS] row, dense, tanh) forward and backward: the CUDA backend against the CPU backend
// (tests/support/parity.h; fp32 GEMMs without TF32, K = C <= 768). In bf16 the backward's GEMMs
// take dz = dpooled * (1 - pooled^2) rounded to bf16 (a GEMM input), as a plain bf16 implementation
// does: about sqrt(2) times the output-rounding baseline, inside the 2x bound.
// Cases: tests/cases/pooler.h, plus null gradient pointers.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/pooler.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::BackendBuffers;
using cases::PoolerCase;
using test::Outputs;

template <class DevReal>
void check_forward(const PoolerCase& c, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
    be.pooler_forward(cases::pooler_forward_args<R>(c, b));
    return Outputs{test::real_output(b, "pooled")};
  };
  test::expect_parity<DevReal>(c.forward_name(), run);
}

template <class DevReal>
void check_backward(const PoolerCase& c, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
    be.pooler_backward(cases::pooler_backward_args<R>(c, b));
    Outputs o;
    for (const std::string& name : cases::pooler_backward_outputs(c)) o.push_back(test::real_output(b, name));
    return o;
  };
  test::expect_parity<DevReal>(c.backward_name(), run);
}

template <class DevReal>
void all_cases() {
  uint64_t seed = 5000;
  for (const PoolerCase& c : cases::pooler_parity_shapes(test::quick_mode())) {
    check_forward<DevReal>(c, seed += 10);
    check_backward<DevReal>(c, seed += 10);
  }
  check_backward<DevReal>({.B = 6, .T = 5, .C = 48, .dhidden = false}, seed += 10);
  check_backward<DevReal>({.B = 6, .T = 5, .C = 48, .params = false}, seed += 10);
}

TEST(ParityPooler, Fp32) {
  FT_REQUIRE_DEVICE(float);
  all_cases<float>();
}
TEST(ParityPooler, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  all_cases<bf16>();
}

}  // namespace
}  // namespace ft
