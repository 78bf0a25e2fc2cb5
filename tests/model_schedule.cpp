// The linear schedule and the clipping coefficient against values printed by Hugging Face /
// PyTorch themselves:
//   get_linear_schedule_with_warmup(AdamW(lr=base), warmup, total): optimizer.param_groups[0]["lr"]
//   before each optimizer.step(); clip_grad_norm_'s factor min(1, max_norm / (norm + 1e-6)).
// Python computes the same double expressions in the same order, so the values agree to the last
// bit or two (EXPECT_DOUBLE_EQ: 4 ulp).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "model/train/schedule.h"

namespace ft {
namespace {

void expect_schedule(double base, int64_t warmup, int64_t total, const std::vector<double>& expected) {
  for (size_t step = 0; step < expected.size(); ++step)
    EXPECT_DOUBLE_EQ(linear_schedule_lr(base, static_cast<int64_t>(step), warmup, total), expected[step])
        << "base " << base << " warmup " << warmup << " total " << total << " step " << step;
}

TEST(LinearSchedule, MatchesTransformersWithWarmup) {
  expect_schedule(1e-3, 1, 5, {0.0, 0.001, 0.00075, 0.0005, 0.00025, 0.0, 0.0});
  expect_schedule(5e-5, 3, 10,
                  {0.0, 1.6666666666666667e-05, 3.3333333333333335e-05, 5e-05, 4.2857142857142856e-05,
                   3.571428571428572e-05, 2.857142857142857e-05, 2.1428571428571428e-05, 1.4285714285714285e-05,
                   7.142857142857143e-06, 0.0, 0.0});
}

TEST(LinearSchedule, MatchesTransformersWithoutWarmup) {
  expect_schedule(2e-5, 0, 4, {2e-05, 1.5000000000000002e-05, 1e-05, 5e-06, 0.0, 0.0});
}

TEST(LinearSchedule, WarmupLongerThanTrainingKeepsWarmingUp) {
  expect_schedule(1e-4, 6, 4,
                  {0.0, 1.6666666666666667e-05, 3.3333333333333335e-05, 5e-05, 6.666666666666667e-05,
                   8.333333333333334e-05});
}

TEST(LinearSchedule, RejectsNegativeCounts) {
  EXPECT_THROW(linear_schedule_lr(1e-3, -1, 1, 5), Error);
  EXPECT_THROW(linear_schedule_lr(1e-3, 0, -1, 5), Error);
  EXPECT_THROW(linear_schedule_lr(1e-3, 0, 1, -5), Error);
}

TEST(ClipCoefficient, MatchesTorchClipGradNorm) {
  // torch computes the factor in float32: 0.17738238... for the norm of the model golden's first step.
  EXPECT_FLOAT_EQ(static_cast<float>(clip_coefficient(5.637537479400635, 1.0)), 0.17738238102008724f);
  EXPECT_DOUBLE_EQ(clip_coefficient(0.5, 1.0), 1.0);  // below the limit: untouched
  // At exactly the limit torch still scales by 1 / (1 + 1e-6).
  EXPECT_DOUBLE_EQ(clip_coefficient(1.0, 1.0), 1.0 / (1.0 + 1e-6));
  EXPECT_DOUBLE_EQ(clip_coefficient(10.0, 2.5), 2.5 / (10.0 + 1e-6));
}

TEST(ClipCoefficient, ZeroMaxNormDisablesClipping) {
  EXPECT_DOUBLE_EQ(clip_coefficient(1e6, 0.0), 1.0);
}

TEST(ClipCoefficient, NonFiniteNormGivesNonFiniteFactor) {
  EXPECT_FALSE(std::isfinite(clip_coefficient(INFINITY, 1.0)));
  EXPECT_FALSE(std::isfinite(clip_coefficient(NAN, 1.0)));
}

}  // namespace
}  // namespace ft
