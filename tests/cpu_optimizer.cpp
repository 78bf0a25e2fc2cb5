// The optimizer ops beyond the torch golden (cpu_hf_golden): AdamW over segments whose parameter
// and gradient offsets differ (frozen parameters between trainable ones), a separate working
// copy, per-segment weight decay, grad_scale; master_to_working; grad_norm_squared against a
// long-double sum and across thread counts.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "core/cpu/ops.h"
#include "core/error.h"
#include "tests/support/random.h"

namespace ft::test {
namespace {

// torch's single-tensor AdamW for one element, in double, written out independently of
// core/cpu/adamw.cpp (plain expressions; double, so fused or not makes no difference at 1e-15).
void reference_adamw(double& p, double& m, double& v, double g, double lr, double wd, double b1, double b2,
                     double eps, int step) {
  p *= 1.0 - lr * wd;
  m = m + (1.0 - b1) * (g - m);
  v = v * b2 + (1.0 - b2) * g * g;
  const double bc1 = 1.0 - std::pow(b1, step), bc2 = 1.0 - std::pow(b2, step);
  p -= (lr / bc1) * m / (std::sqrt(v) / std::sqrt(bc2) + eps);
}

TEST(CpuOptimizer, AdamWSegmentsOffsetsWeightDecayAndWorkingCopy) {
  // Parameters: [0, 10) trainable with decay, [10, 15) frozen, [15, 22) trainable without decay.
  // Gradients and moments exist only for the 17 trainable values, packed.
  const int64_t n_params = 22, n_grads = 17;
  std::vector<double> master = random_vector<double>(n_params, 301);
  const std::vector<double> initial = master;
  std::vector<double> working(n_params, -7.0);  // must receive the trainable values only
  std::vector<double> m(n_grads, 0.0), v(n_grads, 0.0);
  std::vector<AdamWSegment> segs(2);
  segs[0] = {0, 0, 10, 0.1f};
  segs[1] = {15, 10, 7, 0.0f};
  std::vector<double> rp = master, rm = m, rv = v;  // reference state
  for (int step = 1; step <= 4; ++step) {
    const auto grads = random_vector<double>(n_grads, 310 + step, 2.0);
    AdamWArgs<double> a;
    a.master = master.data(); a.params = working.data(); a.grads = grads.data(); a.m = m.data(); a.v = v.data();
    a.segments = segs.data(); a.num_segments = 2; a.lr = 0.01f; a.step = step; a.grad_scale = 0.5f;
    cpu::adamw_step(a);
    for (const auto& s : segs)
      for (int64_t i = 0; i < s.count; ++i)
        reference_adamw(rp[s.param_offset + i], rm[s.grad_offset + i], rv[s.grad_offset + i],
                        grads[s.grad_offset + i] * 0.5, 0.01, s.weight_decay == 0.0f ? 0.0 : 0.1, 0.9, 0.999, 1e-8,
                        step);
  }
  // The reference rounds differently only at the last bits: 1e-13 relative on O(1) values.
  for (int64_t i = 0; i < n_params; ++i) {
    const bool frozen = i >= 10 && i < 15;
    if (frozen) {
      EXPECT_EQ(master[i], initial[i]) << "frozen parameter " << i << " moved";
      EXPECT_EQ(working[i], -7.0) << "frozen parameter " << i << " written";
    } else {
      EXPECT_NEAR(master[i], rp[i], 1e-13) << "parameter " << i;
      EXPECT_EQ(working[i], master[i]) << "working copy of parameter " << i;
    }
  }
  for (int64_t i = 0; i < n_grads; ++i) {
    EXPECT_NEAR(m[i], rm[i], 1e-13) << "m " << i;
    EXPECT_NEAR(v[i], rv[i], 1e-13) << "v " << i;
  }
}

TEST(CpuOptimizer, AdamWRejectsStepZero) {
  std::vector<float> p(1, 1.0f), g(1, 1.0f), m(1, 0.0f), v(1, 0.0f);
  AdamWSegment seg{0, 0, 1, 0.0f};
  AdamWArgs<float> a;
  a.master = p.data(); a.params = p.data(); a.grads = g.data(); a.m = m.data(); a.v = v.data();
  a.segments = &seg; a.num_segments = 1; a.lr = 1e-3f; a.step = 0;
  EXPECT_THROW(cpu::adamw_step(a), ft::Error);
}

TEST(CpuOptimizer, MasterToWorkingCopies) {
  const auto master = random_vector<float>(100001, 320);
  auto working = poisoned_vector<float>(master.size());
  cpu::master_to_working<float>(master.data(), working.data(), static_cast<int64_t>(master.size()));
  EXPECT_EQ(working, master);
  auto same = master;
  cpu::master_to_working<float>(same.data(), same.data(), static_cast<int64_t>(same.size()));
  EXPECT_EQ(same, master);
}

// The sum of 300001 squares in double: a long-double sum differs by at most ~n * 2^-53 relative
// (3e-11), so 1e-10 relative detects any missing or doubled chunk (>= 1e-5 of the sum).
TEST(CpuOptimizer, GradNormSquaredIsTheSumOfSquaresForAnyThreadCount) {
  const auto g = random_vector<float>(300001, 330, 3.0);
  long double exact = 0.0L;
  for (float x : g) exact += static_cast<long double>(x) * static_cast<long double>(x);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const double one = cpu::grad_norm_squared(g.data(), static_cast<int64_t>(g.size()));
  omp_set_num_threads(3);
  const double three = cpu::grad_norm_squared(g.data(), static_cast<int64_t>(g.size()));
  omp_set_num_threads(threads);
  const double many = cpu::grad_norm_squared(g.data(), static_cast<int64_t>(g.size()));
  EXPECT_NEAR(one, static_cast<double>(exact), 1e-10 * static_cast<double>(exact));
  EXPECT_EQ(one, three);
  EXPECT_EQ(one, many);
  EXPECT_EQ(cpu::grad_norm_squared<float>(g.data(), 0), 0.0);
}

}  // namespace
}  // namespace ft::test
