// regression head (dropout, dense C -> 1) with the MSE loss, forward and backward: the CUDA backend
// against the CPU backend (tests/support/parity.h; dot products of C <= 768 terms, summed in fp64 on
// both sides). Predictions and the loss are fp32 in every precision. Cases:
// tests/cases/regression_head.h.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/regression_head.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::BackendBuffers;
using cases::RegressionHeadCase;
using test::Outputs;

template <class DevReal>
void check(const RegressionHeadCase& c, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
    const RegressionHeadForwardArgs<R> f = cases::regression_head_forward_args<R>(c, b);
    be.regression_head_forward(f);
    Outputs o{test::fp32_output(b, "pred")};
    if (!c.targets) return o;
    o.push_back(test::fp32_output(b, "loss"));
    be.regression_head_backward(cases::regression_head_backward_args<R>(c, b, f));
    o.push_back(test::real_output(b, "dpooled"));
    o.push_back(test::real_output(b, "dw"));
    o.push_back(test::real_output(b, "db"));
    return o;
  };
  test::expect_parity<DevReal>(c.name(), run);
}

template <class DevReal>
void all_cases() {
  uint64_t seed = 6000;
  for (const RegressionHeadCase& c : cases::regression_head_parity_shapes(test::quick_mode()))
    check<DevReal>(c, seed += 10);
}

TEST(ParityRegressionHead, Fp32) {
  FT_REQUIRE_DEVICE(float);
  all_cases<float>();
}
TEST(ParityRegressionHead, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  all_cases<bf16>();
}

}  // namespace
}  // namespace ft
