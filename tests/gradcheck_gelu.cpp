// Gradient check of exact GELU in double, including in-place use (y aliasing x, dx aliasing dy).
// Cases: tests/cases/gelu.h.
#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/gelu.h"
#include "tests/support/gradcheck.h"

namespace ft::test {
namespace {

using cases::GeluCase;
using cases::HostBuffers;

// The forward and the backward chained; loss = sum(dy * y).
struct Chained : ChainedOp<GeluForwardArgs<double>, GeluBackwardArgs<double>> {
  GeluCase c;
  explicit Chained(GeluCase gc) : ChainedOp(31, cpu::gelu_forward, &GeluForwardArgs<double>::y, "dy", gc.size()), c(gc) {
    set(cases::gelu_forward_args<double>(c, inputs), cases::gelu_backward_args<double>(c, backward_inputs),
        cases::chain_gelu_backward<double>);
  }
};

TEST(GradcheckGelu, Input) {
  Chained t(cases::gelu_gradcheck_case());
  cpu::gelu_backward(t.bwd);
  expect_gradients_match([&] { return t.loss(); },
                         {{"x", &t.input("x"), t.backward_inputs.read("dx")}});
}

// The same case out of place and in place, from the same drawn inputs: the same bits.
TEST(GradcheckGelu, InPlaceMatchesOutOfPlace) {
  const GeluCase separate = cases::gelu_gradcheck_case();
  GeluCase in_place = separate;
  in_place.in_place = true;

  HostBuffers fwd_separate(32), fwd_in_place(32);
  cpu::gelu_forward(cases::gelu_forward_args<double>(separate, fwd_separate));
  cpu::gelu_forward(cases::gelu_forward_args<double>(in_place, fwd_in_place));
  EXPECT_EQ(fwd_in_place.read(in_place.y()), fwd_separate.read(separate.y()));

  HostBuffers bwd_separate(32), bwd_in_place(32);
  cpu::gelu_backward(cases::gelu_backward_args<double>(separate, bwd_separate));
  cpu::gelu_backward(cases::gelu_backward_args<double>(in_place, bwd_in_place));
  EXPECT_EQ(bwd_in_place.read(in_place.dx()), bwd_separate.read(separate.dx()));
}

}  // namespace
}  // namespace ft::test
