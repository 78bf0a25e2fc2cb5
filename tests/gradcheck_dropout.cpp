// Gradient check of dropout in double: for a fixed spec the mask is fixed, so the op is linear in
// x and its backward must apply the same mask and scale. Cases: tests/cases/dropout.h.
#include <gtest/gtest.h>

#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/dropout.h"
#include "tests/support/gradcheck.h"

namespace ft::test {
namespace {

using cases::DropoutCase;
using cases::HostBuffers;

TEST(GradcheckDropout, Input) {
  const DropoutCase c = cases::dropout_gradcheck_case();
  HostBuffers b(31);
  const DropoutArgs<double> fwd = cases::dropout_forward_args<double>(c, b);
  const DropoutArgs<double> bwd = cases::dropout_backward_args<double>(c, b);
  cpu::dropout_backward(bwd);  // "dy" becomes dx in place; its drawn values stay in values("dy")
  std::vector<double>& x = b.host<double>("x");
  // The op works in place: each evaluation runs on a copy of the (perturbed) input.
  auto loss = [&] {
    std::vector<double> y = x;
    DropoutArgs<double> a = fwd;
    a.x = y.data();
    cpu::dropout_forward(a);
    return weighted_sum(b.values("dy"), y.data(), c.size());
  };
  expect_gradients_match(loss, {{"x", &x, b.read("dy")}});
}

}  // namespace
}  // namespace ft::test
