// The fibre runtime of the emulated tests (tests/support/fibers.h) on its own: a barrier makes a
// result independent of the order in which threads run, a missing one is revealed by running two
// orders (the method every emulated test relies on), and a barrier that not every thread reaches
// stops the test with a deadlock message instead of hanging.
#include <gtest/gtest.h>

#include <vector>

#include "tests/support/fibers.h"

namespace ft::test::fibers {
namespace {

constexpr int kThreads = 64;

// Thread t publishes t, then reads its neighbour's value; `barrier` separates the two.
std::vector<int> neighbour_exchange(Order order, bool barrier, uint64_t seed = 1) {
  std::vector<int> published(kThreads, -1), seen(kThreads, -2);
  Barrier b;
  Block::run(kThreads, order, seed, [&](int t) {
    published[t] = t;
    if (barrier) Block::current().wait(b, kThreads);
    seen[t] = published[(t + 1) % kThreads];
  });
  return seen;
}

TEST(EmulatedRuntime, ABarrierMakesEveryOrderAgree) {
  const std::vector<int> forward = neighbour_exchange(Order::Forward, true);
  for (int t = 0; t < kThreads; ++t) ASSERT_EQ(forward[t], (t + 1) % kThreads) << t;
  EXPECT_EQ(neighbour_exchange(Order::Reverse, true), forward);
  EXPECT_EQ(neighbour_exchange(Order::Shuffled, true, 7), forward);
}

TEST(EmulatedRuntime, AMissingBarrierShowsAsOrderDependence) {
  EXPECT_NE(neighbour_exchange(Order::Forward, false), neighbour_exchange(Order::Reverse, false));
}

TEST(EmulatedRuntime, ShuffledOrderIsReproducible) {
  EXPECT_EQ(neighbour_exchange(Order::Shuffled, false, 3), neighbour_exchange(Order::Shuffled, false, 3));
}

TEST(EmulatedRuntime, ABarrierNotEveryThreadReachesIsADeadlock) {
  EXPECT_DEATH(
      {
        Barrier b;
        Block::run(kThreads, Order::Forward, 1, [&](int t) {
          if (t != 0) Block::current().wait(b, kThreads);  // thread 0 exits without arriving
        });
      },
      "deadlock");
}

}  // namespace
}  // namespace ft::test::fibers
