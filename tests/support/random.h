// Deterministic random test inputs, and NaN poisoning of outputs.
//
// Inputs are uniform in [-1, 1] but never zero (|v| >= 1e-3), from a fixed seed, so a test sees the
// same numbers on every run and no input can hide a missing term by being zero. Outputs are filled
// with quiet NaN before an op writes them, so an element the op forgets to write shows up.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

namespace ft::test {

// SplitMix64: tiny, fast, and the same sequence on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform in [-1, 1] with |v| >= 1e-3 (resampled otherwise): never zero.
  double signed_unit() {
    for (;;) {
      const double v = 2.0 * uniform() - 1.0;
      if (v >= 1e-3 || v <= -1e-3) return v;
    }
  }
  // Uniform integer in [lo, hi].
  int32_t integer(int32_t lo, int32_t hi) {
    return lo + static_cast<int32_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

// n values in [-1, 1], never zero, scaled by `scale`.
template <class T>
std::vector<T> random_vector(size_t n, uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(scale * rng.signed_unit());
  return v;
}

template <class T>
void poison(std::vector<T>& v) {
  for (auto& x : v) x = std::numeric_limits<T>::quiet_NaN();
}

template <class T>
std::vector<T> poisoned_vector(size_t n) {
  return std::vector<T>(n, std::numeric_limits<T>::quiet_NaN());
}

}  // namespace ft::test
