// Device helpers shared by the CUDA kernels: the element types (float and __nv_bfloat16, which
// ft::bf16 is reinterpreted as), 128-bit packed loads and stores, warp and block reductions, the
// dropout mask of a few consecutive elements, and launch-geometry arithmetic.
//
// Everything here is header-only and light: each kernel file includes it and instantiates its
// kernels for float and bf16 only, so that compile time stays small.
#pragma once

#if defined(FT_CUDA_EMULATE)
// The kernels compiled as plain C++ and run on the CPU, thread by thread (tests only).
#include "tests/support/cuda_emulator.h"
#else
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#endif

#include <cstdint>
#include <type_traits>

#include "core/dtype.h"
#include "core/ops.h"
#include "core/philox.h"
#include "cuda/cuda_check.h"

// A kernel launch: FT_LAUNCH(grid, block, shared_bytes, stream, kernel)(arguments...). The same
// source then also runs under the CPU emulator of the tests (FT_CUDA_EMULATE).
#if defined(FT_CUDA_EMULATE)
#define FT_LAUNCH(grid, block, smem, stream, ...) ::ft::cuda::emu::launcher(grid, block, smem, stream, __VA_ARGS__)
#define FT_DYNAMIC_SHARED(type, name) type* name = ::ft::cuda::emu::dynamic_shared<type>()
#define FT_UNROLL
#else
#define FT_LAUNCH(grid, block, smem, stream, ...) __VA_ARGS__<<<grid, block, smem, stream>>>
#define FT_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#define FT_UNROLL _Pragma("unroll")
#endif

namespace ft::cuda {

// The device element type of a backend Real: float stays float, ft::bf16 becomes __nv_bfloat16
// (both are the same 16-bit pattern).
template <class Real>
struct DeviceType {
  using type = Real;
};
template <>
struct DeviceType<ft::bf16> {
  using type = __nv_bfloat16;
};
template <class Real>
using device_t = typename DeviceType<Real>::type;

template <class Real>
inline device_t<Real>* dev(Real* p) {
  return reinterpret_cast<device_t<Real>*>(p);
}
template <class Real>
inline const device_t<Real>* dev(const Real* p) {
  return reinterpret_cast<const device_t<Real>*>(p);
}

// ---- conversions (round to nearest even, as torch)
__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <class T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// ---- 128-bit packs: kPack<T> elements of T in 16 bytes (4 floats, 8 bf16).
template <class T>
inline constexpr int kPack = 16 / static_cast<int>(sizeof(T));

template <class T, int N>
struct alignas(N * sizeof(T) >= 16 ? 16 : N * sizeof(T)) Pack {
  T v[N];
};

// Loads N consecutive elements as floats. With N * sizeof(T) == 16 this is one 128-bit load, and p
// must be 16-byte aligned; with N == 1 it is a plain load.
template <int N, class T>
__device__ __forceinline__ void load_floats(const T* p, float (&out)[N]) {
  if constexpr (N == 1) {
    out[0] = to_float(*p);
  } else {
    static_assert(N * sizeof(T) == 16, "packed loads are 128 bits");
    const Pack<T, N> pk = *reinterpret_cast<const Pack<T, N>*>(p);
FT_UNROLL
    for (int i = 0; i < N; ++i) out[i] = to_float(pk.v[i]);
  }
}

template <int N, class T>
__device__ __forceinline__ void store_floats(T* p, const float (&in)[N]) {
  if constexpr (N == 1) {
    *p = from_float<T>(in[0]);
  } else {
    static_assert(N * sizeof(T) == 16, "packed stores are 128 bits");
    Pack<T, N> pk;
FT_UNROLL
    for (int i = 0; i < N; ++i) pk.v[i] = from_float<T>(in[i]);
    *reinterpret_cast<Pack<T, N>*>(p) = pk;
  }
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// ---- reductions
__device__ __forceinline__ float warp_sum(float v) {
FT_UNROLL
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ double warp_sum(double v) {
FT_UNROLL
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// ---- dropout of N consecutive mask elements idx0 .. idx0 + N - 1 (core/philox.h): keep[i] is the
// mask bit of element idx0 + i. One Philox block serves four consecutive indices, so with N a
// multiple of 4 the caller guarantees idx0 % 4 == 0 and N / 4 blocks are drawn; with N == 1 one block
// is drawn for the single element.
template <int N>
__device__ __forceinline__ void dropout_bits(const DropoutSpec& d, uint64_t idx0, bool (&keep)[N]) {
  static_assert(N == 1 || N % 4 == 0, "dropout_bits draws whole Philox blocks");
  if constexpr (N == 1) {
    const Philox4 words = philox_block(d.seed, d.stream, d.step, idx0 >> 2);
    keep[0] = uniform24(words.v[idx0 & 3u]) >= d.p;
  } else {
FT_UNROLL
    for (int q = 0; q < N / 4; ++q) {
      const Philox4 words = philox_block(d.seed, d.stream, d.step, (idx0 >> 2) + static_cast<uint64_t>(q));
FT_UNROLL
      for (int j = 0; j < 4; ++j) keep[4 * q + j] = uniform24(words.v[j]) >= d.p;
    }
  }
}

// The scale of kept elements, 1 / (1 - p) in float: the CPU backend's Real(1) / (Real(1) - Real(p)).
inline float dropout_scale(const DropoutSpec& d) { return 1.0f / (1.0f - d.p); }

// ---- launch geometry
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Grid size for a grid-stride loop over `work` items with `threads` threads per block, capped at a
// multiple of the SM count (enough blocks to fill the device, few enough to keep each thread busy).
inline unsigned grid_for(int64_t work, int threads, int sm_count, int blocks_per_sm = 8) {
  const int64_t needed = ceil_div(work, threads);
  const int64_t cap = static_cast<int64_t>(sm_count > 0 ? sm_count : 80) * blocks_per_sm;
  const int64_t g = needed < cap ? needed : cap;
  return static_cast<unsigned>(g > 0 ? g : 1);
}

// Carves typed, 256-byte aligned pieces out of one Scratch buffer. Used twice by a launcher: with a
// null base to count the bytes, then on the buffer from Scratch::get to hand out the pointers.
class ScratchCarver {
 public:
  explicit ScratchCarver(void* base = nullptr) : base_(static_cast<char*>(base)) {}
  template <class U>
  U* take(size_t n) {
    const size_t at = offset_;
    offset_ += (n * sizeof(U) + 255) / 256 * 256;
    return base_ && n ? reinterpret_cast<U*>(base_ + at) : nullptr;
  }
  size_t bytes() const { return offset_; }

 private:
  char* base_;
  size_t offset_ = 0;
};

}  // namespace ft::cuda
