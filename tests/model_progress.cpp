// The progress line's time left follows the recent pace: a run that was slow at first (warm-up, or
// another job on the cores) and is fast now is given the time the fast pace needs.
#include <gtest/gtest.h>

#include <cmath>
#include <deque>

#include "model/train/progress.h"

namespace ft {
namespace {

using Clock = std::chrono::steady_clock;

TEST(ModelProgress, EtaFollowsTheRecentPace) {
  const Clock::time_point t0{};
  std::deque<ProgressReporter::Sample> samples;
  // Steps 0..10 at 10 s each, then steps 10..60 at 1 s each; 1000 steps in all.
  for (int step = 0; step <= 10; ++step) samples.push_back({t0 + std::chrono::seconds(10 * step), step});
  for (int step = 11; step <= 60; ++step) samples.push_back({t0 + std::chrono::seconds(100 + (step - 10)), step});
  while (samples.size() > ProgressReporter::kEtaWindow + 1) samples.pop_front();
  // The window holds the last 50 steps, all at 1 s: 940 steps left take 940 s (the average since
  // the start, 150 s / 60 steps, would say 2350 s).
  EXPECT_NEAR(ProgressReporter::eta_at_recent_pace(samples, 1000), 940.0, 1e-9);
}

TEST(ModelProgress, NoEtaBeforeAStep) {
  std::deque<ProgressReporter::Sample> samples{{Clock::time_point{}, 5}};
  EXPECT_TRUE(std::isnan(ProgressReporter::eta_at_recent_pace(samples, 100)));
  samples.push_back({Clock::time_point{} + std::chrono::seconds(3), 5});
  EXPECT_TRUE(std::isnan(ProgressReporter::eta_at_recent_pace(samples, 100)));
}

}  // namespace
}  // namespace ft
