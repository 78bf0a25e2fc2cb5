// Counter-based Philox4x32-10 random numbers: the same integers on the CPU and on the GPU.
//
// A draw is a pure function of (key, counter), so any element of any dropout mask can be
// recomputed anywhere, in any order: the CUDA backend draws exactly the CPU backend's masks, and
// backward passes recompute masks instead of storing them.
//
// Dropout streams: element `idx` of the mask at (layer, site) in micro-step `step` under `seed` is
// word idx % 4 of philox(key = seed, counter = {idx / 4 (low, high 32 bits), stream, step}), where
// stream = dropout_stream(layer, site). The element is kept iff uniform24(word) >= p.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define FT_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define FT_HOST_DEVICE inline
#endif

namespace ft {

struct Philox4 {
  uint32_t v[4];
};

FT_HOST_DEVICE void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// Philox4x32 with 10 rounds (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", 2011).
FT_HOST_DEVICE Philox4 philox4x32_10(Philox4 c, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kM0, c.v[0], &hi0, &lo0);
    philox_mulhilo(kM1, c.v[2], &hi1, &lo1);
    c = Philox4{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
    k0 += kW0;
    k1 += kW1;
  }
  return c;
}

// The four words of one counter block: counter = {block (low, high), stream, step}.
FT_HOST_DEVICE Philox4 philox_block(uint64_t seed, uint32_t stream, uint32_t step, uint64_t block) {
  return philox4x32_10(Philox4{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), stream, step}},
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

FT_HOST_DEVICE uint32_t philox_word(uint64_t seed, uint32_t stream, uint32_t step, uint64_t idx) {
  return philox_block(seed, stream, step, idx >> 2).v[idx & 3];
}

// Uniform in [0, 1) with 24 random bits: exact in float, so CPU and GPU compare identically.
FT_HOST_DEVICE float uniform24(uint32_t word) { return static_cast<float>(word >> 8) * (1.0f / 16777216.0f); }

// Dropout sites inside one layer; the embedding layer is layer number num_layers, the regression
// head's dropout is site Classifier of layer 0.
enum class DropoutSite : uint32_t { Embedding = 0, AttentionProbs = 1, AttentionOutput = 2, FfnOutput = 3, Classifier = 4 };

FT_HOST_DEVICE uint32_t dropout_stream(uint32_t layer, DropoutSite site) {
  return layer * 8u + static_cast<uint32_t>(site);
}

// Whether mask element idx is kept (then scaled by 1 / (1 - p)).
// The same test on the raw word, for kernels that draw many: uniform24(word) >= p holds exactly
// when word >= dropout_keep_threshold(p) (p in [0, 1)), since uniform24(word) = (word >> 8) / 2^24
// and p * 2^24 is exact. Computed once on the host, it spares the GPU a convert and a multiply per
// element; tests/cpu_dropout.cpp checks the equivalence for every 24-bit draw.
inline uint32_t dropout_keep_threshold(float p) {
  const double t = std::ceil(static_cast<double>(p) * 16777216.0);  // p < 1: t <= 2^24 - 1
  return static_cast<uint32_t>(t) << 8;
}

FT_HOST_DEVICE bool dropout_keep(uint64_t seed, uint32_t stream, uint32_t step, uint64_t idx, float p) {
  return uniform24(philox_word(seed, stream, step, idx)) >= p;
}

// Host-side standard normal draws (Box-Muller on two 24-bit uniforms), for parameter
// initialisation from the run's seed; element idx of stream `stream`.
inline double philox_normal(uint64_t seed, uint32_t stream, uint64_t idx) {
  const Philox4 r = philox_block(seed, stream, 0xFFFFFFFFu, idx);
  const double u1 = (static_cast<double>(r.v[0] >> 8) + 1.0) / 16777217.0;  // (0, 1]: log is finite
  const double u2 = static_cast<double>(r.v[1] >> 8) / 16777216.0;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace ft
