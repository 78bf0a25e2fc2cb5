// Dropout masks for the CPU ops: Philox4x32-10 words for runs of consecutive element indices,
// drawn 4 at a time per counter block, with the block loop vectorised (the ten rounds unroll, and
// the 32 x 32 -> 64-bit products map to vector multiplies). Same words as core/philox.h's scalar
// philox_block, which tests/cpu_dropout checks element by element.
#include "core/cpu/dropout_mask.h"

#include <algorithm>

#include "core/cpu/vector_math.h"

namespace ft::cpu {

namespace {

// Blocks drawn per batch: 64 blocks = 256 consecutive indices.
constexpr int kBatchBlocks = 64;

// words[4 * i + lane] = philox_block(seed, stream, step, first + i).v[lane], i < count <= kBatchBlocks.
FT_CPU_VECTOR_CLONES void philox_batch(uint64_t seed, uint32_t stream, uint32_t step, uint64_t first, int count,
                                       uint32_t* words) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  uint32_t c0[kBatchBlocks], c1[kBatchBlocks], c2[kBatchBlocks], c3[kBatchBlocks];
  for (int i = 0; i < count; ++i) {
    const uint64_t block = first + static_cast<uint64_t>(i);
    c0[i] = static_cast<uint32_t>(block);
    c1[i] = static_cast<uint32_t>(block >> 32);
    c2[i] = stream;
    c3[i] = step;
  }
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
#pragma omp simd
    for (int i = 0; i < count; ++i) {
      const uint64_t p0 = static_cast<uint64_t>(kM0) * c0[i];
      const uint64_t p1 = static_cast<uint64_t>(kM1) * c2[i];
      const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
      const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
      const uint32_t n0 = hi1 ^ c1[i] ^ k0, n2 = hi0 ^ c3[i] ^ k1;
      c0[i] = n0;
      c1[i] = lo1;
      c2[i] = n2;
      c3[i] = lo0;
    }
    k0 += kW0;
    k1 += kW1;
  }
  for (int i = 0; i < count; ++i) {
    words[4 * i] = c0[i];
    words[4 * i + 1] = c1[i];
    words[4 * i + 2] = c2[i];
    words[4 * i + 3] = c3[i];
  }
}

// Calls f(i0, i1, words, offset) for consecutive runs [i0, i1) covering [0, n): words[i + offset]
// is the Philox word of element index base + i.
template <class F>
[[gnu::always_inline]] inline void for_each_keep(const DropoutSpec& d, uint64_t base, int64_t n, F&& f) {
  uint32_t words[4 * kBatchBlocks];
  int64_t i = 0;
  while (i < n) {
    const uint64_t idx = base + static_cast<uint64_t>(i);
    const uint64_t first = idx >> 2;
    const uint64_t last = (base + static_cast<uint64_t>(n) - 1) >> 2;
    const int count = static_cast<int>(std::min<uint64_t>(kBatchBlocks, last - first + 1));
    philox_batch(d.seed, d.stream, d.step, first, count, words);
    const int64_t end = std::min<int64_t>(n, static_cast<int64_t>((first + count) * 4 - base));
    const int64_t offset = static_cast<int64_t>(base) - static_cast<int64_t>(first * 4);  // words[j + offset]: index base + j
    f(i, end, words, offset);
    i = end;
  }
}

template <class Real>
[[gnu::always_inline]] inline void multipliers(const DropoutSpec& d, uint64_t base, int64_t n, Real* m) {
  const Real scale = dropout_scale<Real>(d);
  const float p = d.p;
  for_each_keep(d, base, n, [&](int64_t i0, int64_t i1, const uint32_t* w, int64_t offset) {
    for (int64_t i = i0; i < i1; ++i) m[i] = uniform24(w[i + offset]) >= p ? scale : Real(0);
  });
}

template <class Real>
[[gnu::always_inline]] inline void apply(const DropoutSpec& d, uint64_t base, int64_t n, Real* x) {
  const Real scale = dropout_scale<Real>(d);
  const float p = d.p;
  for_each_keep(d, base, n, [&](int64_t i0, int64_t i1, const uint32_t* w, int64_t offset) {
    for (int64_t i = i0; i < i1; ++i) x[i] = uniform24(w[i + offset]) >= p ? x[i] * scale : Real(0);
  });
}

}  // namespace

FT_CPU_VECTOR_CLONES void dropout_multipliers(const DropoutSpec& d, uint64_t base, int64_t n, float* m) {
  multipliers(d, base, n, m);
}
FT_CPU_VECTOR_CLONES void dropout_multipliers(const DropoutSpec& d, uint64_t base, int64_t n, double* m) {
  multipliers(d, base, n, m);
}
FT_CPU_VECTOR_CLONES void apply_dropout(const DropoutSpec& d, uint64_t base, int64_t n, float* x) {
  apply(d, base, n, x);
}
FT_CPU_VECTOR_CLONES void apply_dropout(const DropoutSpec& d, uint64_t base, int64_t n, double* x) {
  apply(d, base, n, x);
}

}  // namespace ft::cpu
