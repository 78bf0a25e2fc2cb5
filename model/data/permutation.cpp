#include "model/data/permutation.h"

#include <numeric>

#include "core/error.h"
#include "core/philox.h"

namespace ft {

uint32_t PhiloxSequence::next_u32() { return philox_word(seed_, stream_, counter_, index_++); }

uint64_t PhiloxSequence::next_u64() {
  const uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

uint64_t PhiloxSequence::below(uint64_t bound) {
  FT_CHECK(bound >= 1, "random integer below ", bound, ": the bound must be positive");
  // Lemire (2019), "Fast random integer generation in an interval": unbiased by rejection.
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * bound;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next_u64()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

std::vector<int64_t> random_permutation(int64_t n, uint64_t seed, uint32_t stream, uint32_t counter) {
  FT_CHECK(n >= 0, "random permutation of ", n, " elements");
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  PhiloxSequence rng(seed, stream, counter);
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(i) + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

}  // namespace ft
