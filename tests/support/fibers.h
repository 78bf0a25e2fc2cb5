// The one fibre runtime of the emulated tests: the threads of one GPU block as cooperative fibres
// (ucontext) on the CPU. A fibre runs until it waits at a barrier or finishes; the scheduler then
// resumes the next one, in forward, reverse or shuffled order, so a result that depends on the order
// in which threads run between two barriers reveals a missing barrier. A sweep over all live fibres
// in which none arrived at a barrier or finished is a deadlock (threads waiting at different
// barriers, or for threads that have exited).
//
// Used by tests/support/cuda_emulator.h (the kernels launched through FT_LAUNCH: __syncthreads,
// __syncwarp, shuffles) and tests/emulated_attention.cpp (the attention kernels' warp operations:
// mma, ldmatrix, cp.async), each of which keeps its block's state beside a Block.
#pragma once

#include <ucontext.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/random.h"

namespace ft::test::fibers {

enum class Order { Forward, Reverse, Shuffled };

struct Barrier {
  int arrived = 0;
  uint64_t generation = 0;
};

class Block;

inline Block*& current_block() {
  static Block* block = nullptr;
  return block;
}

// What the emulator is running (e.g. "block 3,0,0"), for failure messages.
inline std::string& fail_context() {
  static std::string context;
  return context;
}

inline int current_thread();

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "emulator: %s (%s thread %d)\n", what, fail_context().c_str(), current_thread());
  std::abort();
}

class Block {
 public:
  static constexpr size_t kStackBytes = 256 * 1024;

  // Runs body(tid) for every tid in [0, threads) to completion. shuffle_seed: the first of the
  // seeds of the shuffled orders (one per sweep).
  static void run(int threads, Order order, uint64_t shuffle_seed, const std::function<void(int)>& body) {
    if (threads <= 0 || threads > 1024) fail("block size outside 1..1024");
    Block b(threads, order, shuffle_seed, body);
    Block* saved = current_block();
    current_block() = &b;
    b.schedule();
    current_block() = saved;
  }

  static Block& current() {
    if (!current_block()) fail("device code called outside a kernel launch");
    return *current_block();
  }

  int thread() const { return current_; }
  int threads() const { return threads_; }

  // Waits until `group` threads have arrived at `b`.
  void wait(Barrier& b, int group) {
    const uint64_t generation = b.generation;
    ++progress_;
    if (++b.arrived == group) {
      b.arrived = 0;
      ++b.generation;
      return;
    }
    while (b.generation == generation) swapcontext(&contexts_[current_], &scheduler_);
  }

 private:
  Block(int threads, Order order, uint64_t seed, const std::function<void(int)>& body)
      : threads_(threads), order_(order), rng_(seed), body_(body), contexts_(threads), done_(threads, 0) {
    // Stacks are allocated once per process and reused (uninitialised: nothing reads them first).
    static std::vector<std::unique_ptr<char[]>> pool;
    while (pool.size() < static_cast<size_t>(threads)) pool.emplace_back(new char[kStackBytes]);
    make_fibers(pool);
  }

  static void fiber_main() {
    Block& b = current();
    b.body_(b.current_);
    b.done_[b.current_] = 1;
    ++b.progress_;
  }

  // Kept apart from the loops: getcontext returns twice.
  [[gnu::noinline]] void make_fibers(const std::vector<std::unique_ptr<char[]>>& stacks) {
    for (int t = 0; t < threads_; ++t) {
      getcontext(&contexts_[t]);
      contexts_[t].uc_stack.ss_sp = stacks[t].get();
      contexts_[t].uc_stack.ss_size = kStackBytes;
      contexts_[t].uc_link = &scheduler_;
      makecontext(&contexts_[t], fiber_main, 0);
    }
  }

  [[gnu::noinline]] void schedule() {
    std::vector<int> order(threads_);
    std::iota(order.begin(), order.end(), 0);
    if (order_ == Order::Reverse) std::reverse(order.begin(), order.end());
    int live = threads_;
    while (live > 0) {
      if (order_ == Order::Shuffled)
        for (int i = threads_ - 1; i > 0; --i) std::swap(order[i], order[rng_.next() % static_cast<uint64_t>(i + 1)]);
      const uint64_t before = progress_;
      for (int t : order) {
        if (done_[t]) continue;
        current_ = t;
        swapcontext(&scheduler_, &contexts_[t]);
        if (done_[t]) --live;
      }
      current_ = -1;
      if (live > 0 && progress_ == before)
        fail("deadlock: threads wait at different barriers, or at one that not every thread of the group reaches");
    }
  }

  int threads_;
  Order order_;
  Rng rng_;
  const std::function<void(int)>& body_;
  ucontext_t scheduler_;
  std::vector<ucontext_t> contexts_;
  std::vector<char> done_;
  int current_ = -1;
  uint64_t progress_ = 0;  // barrier arrivals and finished threads
};

inline int current_thread() { return current_block() ? current_block()->thread() : -1; }

}  // namespace ft::test::fibers
