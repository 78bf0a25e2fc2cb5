// Central-difference gradient checking for the double-precision CPU ops.
//
// A check takes a scalar loss L = sum(w * out) over an op's outputs, with w random and fixed (so
// every output element matters, with its own weight), and the analytic gradient of L that the
// op's backward gives when it is fed dout = w. It perturbs every element of every checked input
// and parameter by +-h and compares (L(x + h) - L(x - h)) / 2h with the analytic value.
//
// Step and tolerance (double precision, inputs and weights of order 1):
//  - truncation error of the central difference: h^2 / 6 * |f'''|; with h = 1e-5 and third
//    derivatives of order 1..100 (LayerNorm's rstd^3 is the largest term at our sizes), <= 2e-9;
//  - rounding error: the loss is a sum of at most a few hundred O(1) terms, evaluated to a few
//    hundred ulp of double, ~1e-13, divided by 2h: ~1e-8 at worst, usually far less.
// So a correct gradient is within ~1e-8 and kTolerance = 1e-7 * max(1, |analytic|) leaves a 10x
// margin, while a wrong term of the backward (a missing factor, a sign, a missing mask) gives errors
// of order 1e-2..1 at these sizes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "tests/cases/buffers.h"

namespace ft::test {

constexpr double kGradcheckStep = 1e-5;
constexpr double kGradcheckTolerance = 1e-7;

// One checked tensor: its values (perturbed in place, restored after) and the analytic gradient
// of the loss with respect to them.
struct Checked {
  std::string name;
  std::vector<double>* values = nullptr;
  std::vector<double> analytic;
};

// L = sum(w * out).
inline double weighted_sum(const std::vector<double>& w, const double* out, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += w[i] * out[i];
  return s;
}

// Compares the numerical gradient of `loss` (which runs the forward on the current values) with
// each Checked tensor's analytic gradient, element by element; reports the worst element of each.
inline void expect_gradients_match(const std::function<double()>& loss, const std::vector<Checked>& checked,
                                   double h = kGradcheckStep, double tolerance = kGradcheckTolerance) {
  for (const Checked& c : checked) {
    ASSERT_NE(c.values, nullptr) << c.name;
    ASSERT_EQ(c.values->size(), c.analytic.size()) << c.name << ": analytic gradient has the wrong size";
    double worst_excess = -1.0, worst_num = 0.0, worst_ana = 0.0;
    size_t worst = 0;
    int failures = 0;
    for (size_t i = 0; i < c.values->size(); ++i) {
      double& x = (*c.values)[i];
      const double saved = x;
      x = saved + h;
      const double plus = loss();
      x = saved - h;
      const double minus = loss();
      x = saved;
      const double numerical = (plus - minus) / (2.0 * h);
      const double analytic = c.analytic[i];
      const double allowed = tolerance * std::max(1.0, std::fabs(analytic));
      const double excess = std::fabs(numerical - analytic) / allowed;
      if (!(excess <= 1.0)) ++failures;  // also catches NaN
      if (!(excess <= worst_excess)) {
        worst_excess = excess;
        worst = i;
        worst_num = numerical;
        worst_ana = analytic;
      }
    }
    EXPECT_EQ(failures, 0) << c.name << ": " << failures << " of " << c.values->size()
                           << " elements off; worst element " << worst << ": numerical " << worst_num
                           << ", analytic " << worst_ana << " (error " << worst_excess << " x tolerance)";
  }
}

// Expects a == b + c element-wise within `rel` relative error (accumulation checks: b is what was
// there before, c the gradient of one backward call).
inline void expect_accumulated(const std::string& name, const std::vector<double>& a, const std::vector<double>& before,
                               const std::vector<double>& once, double rel = 1e-12) {
  ASSERT_EQ(a.size(), before.size());
  ASSERT_EQ(a.size(), once.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double expected = before[i] + once[i];
    ASSERT_NEAR(a[i], expected, rel * (std::fabs(before[i]) + std::fabs(once[i]) + 1e-300))
        << name << "[" << i << "] did not accumulate (+=)";
  }
}

// An op's forward and backward argument structs on host buffers of double, as a gradient check
// drives them (cases: tests/cases/<op>.h): the forward's inputs live in `inputs` and are perturbed
// there in place; the backward's own inputs (the output gradient, which is also the weights of the
// checked scalar) in `backward_inputs`, or in `inputs` where a case's backward shares its names.
template <class Fwd, class Bwd>
struct ChainedOp {
  using Forward = void (*)(const Fwd&);
  cases::HostBuffers inputs, backward_inputs;
  Fwd fwd{};
  Bwd bwd{};

  // loss() runs `forward` and weighs its output `output` (n values) by the backward's input `weights`.
  ChainedOp(uint64_t seed, Forward forward, double* Fwd::*output, const char* weights, size_t n)
      : inputs(seed), backward_inputs(seed), forward_(forward), output_(output), weights_(weights), n_(n) {}

  // fwd and bwd from the case's builders; `chain` points bwd at what fwd saves.
  template <class Chain>
  void set(Fwd f, Bwd b, Chain&& chain) {
    fwd = f;
    bwd = b;
    chain(bwd, fwd);
  }
  std::vector<double>& input(const std::string& name) { return inputs.host<double>(name); }
  // L = sum(w * out), w the backward's output gradient: the scalar whose gradient the backward gives.
  double loss() {
    forward_(fwd);
    cases::HostBuffers& b = backward_inputs.has(weights_) ? backward_inputs : inputs;
    return weighted_sum(b.host<double>(weights_), fwd.*output_, n_);
  }

 private:
  Forward forward_;
  double* Fwd::*output_;
  const char* weights_;
  size_t n_;
};

}  // namespace ft::test
