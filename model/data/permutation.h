// Deterministic random permutations from a seed, the same on every platform and compiler.
//
// std::shuffle and std::uniform_int_distribution are implementation-defined, so a run's data order
// would change with the standard library. Here the random words come from Philox4x32-10
// (core/philox.h) on streams reserved for data order, integers below a bound are drawn by Lemire's
// multiply-and-reject method (unbiased), and the shuffle is Fisher-Yates from the last element down.
#pragma once

#include <cstdint>
#include <vector>

namespace ft {

// Philox streams for data order; dropout streams (layer * 8 + site) stay far below these.
constexpr uint32_t kShuffleStream = 0x5A0F0000u;  // epoch orders: counter word 3 is the epoch
constexpr uint32_t kSplitStream = 0x5A0F0001u;    // the random train/valid/test split
constexpr uint32_t kBucketStream = 0x5A0F0002u;   // the order of length-bucketed batches

// A permutation of 0..n-1 drawn from (seed, stream, counter).
std::vector<int64_t> random_permutation(int64_t n, uint64_t seed, uint32_t stream, uint32_t counter);

// Uniform integer in [0, bound) from the generator's word sequence (exposed for tests).
class PhiloxSequence {
 public:
  PhiloxSequence(uint64_t seed, uint32_t stream, uint32_t counter) : seed_(seed), stream_(stream), counter_(counter) {}
  uint32_t next_u32();
  uint64_t next_u64();
  uint64_t below(uint64_t bound);  // bound >= 1
 private:
  uint64_t seed_;
  uint32_t stream_, counter_;
  uint64_t index_ = 0;
};

}  // namespace ft
