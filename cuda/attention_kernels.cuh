// The bodies of the fused attention kernels (cuda/attention.cu launches them), written once for
// fp32 (FMA on shared-memory tiles) and bf16 (tensor-core mma.sync m16n8k16, fp32 accumulation).
//
// The bodies only touch the GPU through the few primitives in the "platform" block below, so the
// same source also compiles as plain C++ with FT_ATTN_EMULATE defined: the includer then supplies
// those primitives (a block barrier, warp shuffles, mma and ldmatrix with the PTX-specified
// fragment layouts, cp.async) and runs every thread of a block as a cooperative fibre
// (tests/emulated_attention.cpp). That is how these
// kernels are exercised on machines without a GPU; on a GPU, tests/parity_attention.cpp is the
// judge.
//
// Shapes: B sequences, T padded length, H heads of D (32, 64 or 128), C = H * D. q, k, v of head h
// are columns h*D .. h*D+D-1 of the C-wide thirds of a qkv row (B, T, 3C); out and dout are (B, T, C);
// lse and delta are (B, H, T); dqkv is (B, T, 3C). lengths[b] in 1..T is the number of real keys.
//
// One warp owns 16 rows of every tile product and holds it in the accumulator layout of
// mma.m16n8: with g = lane / 4 and t = lane % 4, acc[n][0..1] are (row g, columns 8n+2t, 8n+2t+1)
// and acc[n][2..3] are (row g+8, same columns). The fp32 path keeps that layout too, so the
// softmax, masking and dropout code is shared and only the two tile products differ.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/philox.h"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#define FT_ATTN_FN __device__ __forceinline__
#define FT_ATTN_PRAGMA(x) _Pragma(#x)
#elif defined(FT_ATTN_EMULATE)
#include <cmath>
#include <cstring>
#include <limits>
#define FT_ATTN_FN inline
#define FT_ATTN_PRAGMA(x)
#else
#error "cuda/attention_kernels.cuh is compiled by nvcc, or by a host compiler with FT_ATTN_EMULATE"
#endif

namespace ft::cuda::attn {

constexpr int kThreads = 128;  // 4 warps per block
constexpr int kWarps = kThreads / 32;
constexpr int kTile = 64;      // query rows per block (forward, dQ), key rows per block (dK dV), keys per step
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// Query rows per step of the dK/dV kernel: fewer for D = 128 so that the four accumulator tiles of
// a warp (P^T, dP^T, dK, dV) stay in registers.
template <int D>
constexpr int dkdv_query_rows() {
  return D > 64 ? 32 : 64;
}

// Everything a kernel reads: the op arguments, untyped (the kernels cast to their element type).
struct Params {
  int B = 0, T = 0, H = 0, C = 0;
  const void* qkv = nullptr;         // (B, T, 3C)
  const int32_t* lengths = nullptr;  // (B)
  float scale_log2 = 0.0f;           // scale * log2(e): scores live in base-2 exponent units
  float scale = 0.0f;                // 1 / sqrt(D) usually; multiplies dQ and dK
  bool dropout = false;
  float drop_p = 0.0f;               // drop probability
  uint32_t keep_threshold = 0;       // a Philox word >= this is kept: ft::dropout_keep_threshold(drop_p)
  float drop_scale = 1.0f;           // 1 / (1 - p), the CPU backend's Real(1) / (Real(1) - Real(p))
  uint64_t seed = 0;
  uint32_t stream = 0, step = 0;
  void* out = nullptr;               // (B, T, C) forward output
  float* lse = nullptr;              // (B, H, T) forward logsumexp
  const void* out_saved = nullptr;   // (B, T, C) backward: the forward's output
  const float* lse_saved = nullptr;  // (B, H, T) backward: the forward's logsumexp
  const void* dout = nullptr;        // (B, T, C)
  float* delta = nullptr;            // (B, H, T) scratch: rowsum(dout * out)
  void* dqkv = nullptr;              // (B, T, 3C)
};

// The common part of Params from the op arguments (host side; the launcher validates them first).
inline Params make_params(int B, int T, int H, int D, const void* qkv, const int32_t* lengths, float scale,
                          float drop_p, uint64_t seed, uint32_t stream, uint32_t step) {
  Params p;
  p.B = B;
  p.T = T;
  p.H = H;
  p.C = H * D;
  p.qkv = qkv;
  p.lengths = lengths;
  p.scale = scale;
  p.scale_log2 = scale * kLog2e;
  p.dropout = drop_p > 0.0f;
  p.drop_p = drop_p;
  p.keep_threshold = ft::dropout_keep_threshold(drop_p > 0.0f ? drop_p : 0.0f);
  p.drop_scale = 1.0f / (1.0f - drop_p);
  p.seed = seed;
  p.stream = stream;
  p.step = step;
  return p;
}

// =====================================================================================
// Platform: the only GPU-specific code. Device versions here; the emulator's are declared.
// =====================================================================================

struct alignas(16) F4 {
  float x, y, z, w;
};
struct alignas(8) F2 {
  float x, y;
};

#if defined(__CUDACC__)

FT_ATTN_FN void block_sync() { __syncthreads(); }
FT_ATTN_FN float shfl_xor(float v, int lane_mask) { return __shfl_xor_sync(0xffffffffu, v, lane_mask); }
FT_ATTN_FN float shfl_idx(float v, int src_lane) { return __shfl_sync(0xffffffffu, v, src_lane); }

FT_ATTN_FN uint32_t ld32(const void* p) { return *static_cast<const uint32_t*>(p); }
FT_ATTN_FN void st32(void* p, uint32_t v) { *static_cast<uint32_t*>(p) = v; }
FT_ATTN_FN F4 ldf4(const float* p) {
  const float4 v = *reinterpret_cast<const float4*>(p);
  return F4{v.x, v.y, v.z, v.w};
}
FT_ATTN_FN F2 ldf2(const float* p) {
  const float2 v = *reinterpret_cast<const float2*>(p);
  return F2{v.x, v.y};
}
FT_ATTN_FN void stf2(float* p, F2 v) { *reinterpret_cast<float2*>(p) = make_float2(v.x, v.y); }

FT_ATTN_FN float bf16_to_float(uint16_t bits) { return __uint_as_float(static_cast<uint32_t>(bits) << 16); }
FT_ATTN_FN uint16_t float_to_bf16(float f) { return __bfloat16_as_ushort(__float2bfloat16_rn(f)); }
// Two floats rounded to bf16 (nearest even) in one 32-bit word, `lo` in the low half: the operand
// order of mma (the element with the smaller k index sits in the low 16 bits).
FT_ATTN_FN uint32_t pack_bf16x2(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);  // .x = lo is the low half
  return *reinterpret_cast<const uint32_t*>(&v);
}
FT_ATTN_FN float quiet_nan() { return __int_as_float(0x7fc00000); }
FT_ATTN_FN float fast_exp2(float x) { return exp2f(x); }
FT_ATTN_FN float log2_f(float x) { return log2f(x); }
FT_ATTN_FN float fma_f(float a, float b, float c) { return fmaf(a, b, c); }

// d += a * b on tensor cores: A 16x16 (row), B 16x8 (col), bf16 in, fp32 accumulate. Fragments
// (PTX ISA, "Matrix Fragments for mma.m16n8k16"), g = lane / 4, t = lane % 4:
//   a[0] = A[g][2t..2t+1], a[1] = A[g+8][2t..2t+1], a[2] = A[g][2t+8..2t+9], a[3] = A[g+8][2t+8..2t+9]
//   b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g]
//   d[0..1] = D[g][2t..2t+1], d[2..3] = D[g+8][2t..2t+1]
FT_ATTN_FN void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Four 8x8 bf16 matrices, transposed: lane 8m + r gives the address of row r of matrix m (16 bytes,
// 16-byte aligned, shared memory); lane l receives in r[m] the elements (row 2(l%4), col l/4) (low
// half) and (row 2(l%4)+1, col l/4) (high half) of matrix m.
FT_ATTN_FN void ldmatrix_x4_trans(uint32_t (&r)[4], const uint16_t* row) {
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr)
               : "memory");
}

// 16 bytes from global to shared memory without a register round trip (cp.async, sm_80+); with
// valid false, 16 zero bytes (src-size 0: nothing is read from `src`, which must still be a valid
// global address). The copies of a thread are grouped by cp_async_commit and complete at
// cp_async_wait_all; other threads see them after a block_sync that follows the wait.
FT_ATTN_FN void cp_async16(void* dst, const void* src, bool valid) {
  const uint32_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(addr), "l"(src), "r"(valid ? 16u : 0u)
               : "memory");
}
FT_ATTN_FN void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
FT_ATTN_FN void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

#else  // FT_ATTN_EMULATE: the includer defines these (warp operations must be called by all 32 lanes)

namespace emu {
void block_sync();
float shfl_xor(float v, int lane_mask);
float shfl_idx(float v, int src_lane);
void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1);
void ldmatrix_x4_trans(uint32_t (&r)[4], const uint16_t* row);
uint16_t float_to_bf16(float f);  // round to nearest even
void cp_async16(void* dst, const void* src, bool valid);
void cp_async_commit();
void cp_async_wait_all();
}  // namespace emu

inline void block_sync() { emu::block_sync(); }
inline float shfl_xor(float v, int lane_mask) { return emu::shfl_xor(v, lane_mask); }
inline float shfl_idx(float v, int src_lane) { return emu::shfl_idx(v, src_lane); }
inline void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  emu::mma_bf16_16816(d, a, b0, b1);
}
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const uint16_t* row) { emu::ldmatrix_x4_trans(r, row); }
inline void cp_async16(void* dst, const void* src, bool valid) { emu::cp_async16(dst, src, valid); }
inline void cp_async_commit() { emu::cp_async_commit(); }
inline void cp_async_wait_all() { emu::cp_async_wait_all(); }

inline uint32_t ld32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void st32(void* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline F4 ldf4(const float* p) { return F4{p[0], p[1], p[2], p[3]}; }
inline F2 ldf2(const float* p) { return F2{p[0], p[1]}; }
inline void stf2(float* p, F2 v) {
  p[0] = v.x;
  p[1] = v.y;
}
inline float bf16_to_float(uint16_t bits) {
  const uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t float_to_bf16(float f) { return emu::float_to_bf16(f); }
inline uint32_t pack_bf16x2(float lo, float hi) {
  return static_cast<uint32_t>(float_to_bf16(lo)) | (static_cast<uint32_t>(float_to_bf16(hi)) << 16);
}
inline float quiet_nan() { return std::numeric_limits<float>::quiet_NaN(); }
inline float fast_exp2(float x) { return std::exp2(x); }
inline float log2_f(float x) { return std::log2(x); }
inline float fma_f(float a, float b, float c) { return std::fma(a, b, c); }

#endif

// =====================================================================================
// Element types and shared-memory tiles
// =====================================================================================

// bf16 is handled as its 16-bit pattern (ft::bf16 and __nv_bfloat16 are both that pattern).
template <bool kBf16>
using Elem = std::conditional_t<kBf16, uint16_t, float>;

template <bool kBf16>
FT_ATTN_FN float to_float(Elem<kBf16> x) {
  if constexpr (kBf16) {
    return bf16_to_float(x);
  } else {
    return x;
  }
}
template <bool kBf16>
FT_ATTN_FN Elem<kBf16> from_float(float x) {
  if constexpr (kBf16) {
    return float_to_bf16(x);
  } else {
    return x;
  }
}
// Stores two adjacent elements (8-byte aligned for fp32, 4-byte for bf16).
template <bool kBf16>
FT_ATTN_FN void store_pair(Elem<kBf16>* p, float x, float y) {
  if constexpr (kBf16) {
    st32(p, pack_bf16x2(x, y));
  } else {
    stf2(p, F2{x, y});
  }
}

// A shared tile of rows of D elements. The padding (16 bytes per row) keeps rows 16-byte aligned
// and makes the fragment loads below conflict-free: 8 consecutive rows start in 8 different 16-byte
// bank groups, because the row stride in 16-byte units (D/4 + 1 for fp32, D/8 + 1 for bf16) is odd
// modulo 8 for D in {32, 64, 128}.
template <bool kBf16, int D>
struct TileLayout {
  using E = Elem<kBf16>;
  static constexpr int kStride = D + (kBf16 ? 8 : 4);  // elements per row
  static constexpr int kVec = 16 / static_cast<int>(sizeof(E));  // elements per 16-byte vector
  static constexpr int bytes(int rows) { return rows * kStride * static_cast<int>(sizeof(E)); }
};

// Starts copying rows row0 .. row0 + kRows - 1 (D elements each, rows `row_elems` apart in global
// memory, starting at `src`) into `tile` (cp.async; complete after cp_async_wait_all). Rows at or past
// `row_end` are written as zeros, so padded keys and rows past T contribute exactly nothing to any
// product (and never NaN from memory that was not read).
template <bool kBf16, int D, int kRows>
FT_ATTN_FN void load_rows(Elem<kBf16>* __restrict__ tile, const Elem<kBf16>* __restrict__ src, int64_t row_elems,
                          int row0, int row_end, int tid) {
  using TL = TileLayout<kBf16, D>;
  constexpr int kVecPerRow = D / TL::kVec;
  constexpr int kTotal = kRows * kVecPerRow;
  static_assert(kTotal % kThreads == 0, "whole vectors per thread");
  // Not unrolled: unrolled, the compiler keeps every copy's addresses in registers across the
  // whole kernel, which costs occupancy; issuing the copies is not the bottleneck.
  FT_ATTN_PRAGMA(unroll 1)
  for (int k = 0; k < kTotal / kThreads; ++k) {
    const int v = tid + k * kThreads;
    const int r = v / kVecPerRow, c = (v % kVecPerRow) * TL::kVec;
    const bool valid = row0 + r < row_end;
    cp_async16(tile + r * TL::kStride + c, valid ? src + static_cast<int64_t>(row0 + r) * row_elems + c : src, valid);
  }
}

// Writes `value` to D columns of rows row0 .. row_end - 1 (used for zero dK/dV rows of padded keys
// and for NaN rows when a length is out of range).
template <bool kBf16, int D>
FT_ATTN_FN void fill_rows(Elem<kBf16>* __restrict__ dst, int64_t row_elems, int row0, int row_end, float value,
                          int tid) {
  const Elem<kBf16> v = from_float<kBf16>(value);
  const int n = (row_end - row0) * D;
  for (int e = tid; e < n; e += kThreads) dst[static_cast<int64_t>(row0 + e / D) * row_elems + e % D] = v;
}

// =====================================================================================
// Dropout mask bits of one tile
// =====================================================================================

// bits[r * (kCols / 16) + c] holds, in bit e, whether the mask element of query i0 + r and key
// j0 + 16c + e is kept: element index (bh_T + i) * T + j with bh_T = (b * H + h) * T, kept iff
// uniform24(word idx % 4 of Philox block idx / 4) >= p, exactly ft::dropout_keep (tested as the
// integer comparison word >= keep_threshold, which is the same test: core/philox.h). One Philox block
// serves four consecutive indices, so a run of 16 keys costs 4 or 5 blocks (it straddles a block
// boundary whenever its first index is not a multiple of 4). Rows >= T and keys >= j_end are never
// used and left 0.
template <int kRows, int kCols>
FT_ATTN_FN void dropout_bits(uint16_t* __restrict__ bits, const Params& p, uint64_t bh_T, int i0, int j0, int j_end,
                             int tid) {
  constexpr int kPerRow = kCols / 16;
  constexpr int kChunks = kRows * kPerRow;
  static_assert(kChunks % kThreads == 0, "whole chunks per thread");
  FT_ATTN_PRAGMA(unroll)
  for (int k = 0; k < kChunks / kThreads; ++k) {
    const int c = tid + k * kThreads;
    const int i = i0 + c / kPerRow, j = j0 + (c % kPerRow) * 16;
    uint32_t word = 0;
    if (i < p.T && j < j_end) {
      const uint64_t first = (bh_T + static_cast<uint64_t>(i)) * static_cast<uint64_t>(p.T) + static_cast<uint64_t>(j);
      const uint64_t block0 = first >> 2;
      const int skip = static_cast<int>(first & 3u);  // words of block0 before `first`
      FT_ATTN_PRAGMA(unroll)
      for (int q = 0; q < 5; ++q) {
        if (q == 4 && skip == 0) break;
        const Philox4 w = philox_block(p.seed, p.stream, p.step, block0 + static_cast<uint64_t>(q));
        FT_ATTN_PRAGMA(unroll)
        for (int e = 0; e < 4; ++e) {
          const int bit = q * 4 + e - skip;  // element first + bit is word e of block block0 + q
          if (bit >= 0 && bit < 16 && w.v[e] >= p.keep_threshold) word |= 1u << bit;
        }
      }
    }
    bits[c] = static_cast<uint16_t>(word);
  }
}

template <int kCols>
FT_ATTN_FN bool keep_bit(const uint16_t* bits, int r, int c) {
  return (bits[r * (kCols / 16) + (c >> 4)] >> (c & 15)) & 1u;
}

// =====================================================================================
// Warp tile products (accumulator layout of mma.m16n8, see the top of this file)
// =====================================================================================

// acc[n] += A B_n^T over D columns: A is 16 rows of a shared tile starting at `a`, B_n the 8 rows
// starting at b + 8n rows (both row-major, stride TileLayout::kStride).
template <bool kBf16, int D, int kN>
FT_ATTN_FN void gemm_nt(float (&acc)[kN][4], const Elem<kBf16>* __restrict__ a, const Elem<kBf16>* __restrict__ b,
                        int lane) {
  constexpr int S = TileLayout<kBf16, D>::kStride;
  const int g = lane >> 2, t = lane & 3;
  if constexpr (kBf16) {
    FT_ATTN_PRAGMA(unroll)
    for (int ks = 0; ks < D / 16; ++ks) {
      // A fragment: rows g and g+8, columns 16ks + 2t (+1) and 16ks + 8 + 2t (+1).
      const uint16_t* pa = a + g * S + ks * 16 + 2 * t;
      const uint32_t af[4] = {ld32(pa), ld32(pa + 8 * S), ld32(pa + 8), ld32(pa + 8 * S + 8)};
      FT_ATTN_PRAGMA(unroll)
      for (int n = 0; n < kN; ++n) {
        // B fragment: B[k][n'] = b[(8n + n') row][k], so column g of B is row 8n + g of the tile.
        const uint16_t* pb = b + (8 * n + g) * S + ks * 16 + 2 * t;
        mma_bf16_16816(acc[n], af, ld32(pb), ld32(pb + 8));
      }
    }
  } else {
    // Each lane computes its own four outputs per n-tile from rows g, g+8 of A and rows
    // 8n + 2t, 8n + 2t + 1 of B, four columns at a time (128-bit loads), summing k in order.
    // Four n-tiles per pass over k: all eight at once keep too many loaded operands in flight.
    constexpr int kChunk = kN < 4 ? kN : 4;
    static_assert(kN % kChunk == 0, "whole chunks of n-tiles");
    FT_ATTN_PRAGMA(unroll)
    for (int n0 = 0; n0 < kN; n0 += kChunk) {
    FT_ATTN_PRAGMA(unroll 1)
    for (int kq = 0; kq < D / 4; ++kq) {
      const F4 a0 = ldf4(a + g * S + 4 * kq), a1 = ldf4(a + (g + 8) * S + 4 * kq);
      FT_ATTN_PRAGMA(unroll)
      for (int n = n0; n < n0 + kChunk; ++n) {
        const F4 b0 = ldf4(b + (8 * n + 2 * t) * S + 4 * kq), b1 = ldf4(b + (8 * n + 2 * t + 1) * S + 4 * kq);
        float c0 = acc[n][0], c1 = acc[n][1], c2 = acc[n][2], c3 = acc[n][3];
        c0 = fma_f(a0.x, b0.x, c0); c0 = fma_f(a0.y, b0.y, c0); c0 = fma_f(a0.z, b0.z, c0); c0 = fma_f(a0.w, b0.w, c0);
        c1 = fma_f(a0.x, b1.x, c1); c1 = fma_f(a0.y, b1.y, c1); c1 = fma_f(a0.z, b1.z, c1); c1 = fma_f(a0.w, b1.w, c1);
        c2 = fma_f(a1.x, b0.x, c2); c2 = fma_f(a1.y, b0.y, c2); c2 = fma_f(a1.z, b0.z, c2); c2 = fma_f(a1.w, b0.w, c2);
        c3 = fma_f(a1.x, b1.x, c3); c3 = fma_f(a1.y, b1.y, c3); c3 = fma_f(a1.z, b1.z, c3); c3 = fma_f(a1.w, b1.w, c3);
        acc[n][0] = c0; acc[n][1] = c1; acc[n][2] = c2; acc[n][3] = c3;
      }
    }
    }
  }
}

// acc[n] += P B[:, 8n .. 8n+7]: P is 16 x 8kK in registers (accumulator layout, e.g. probabilities
// just computed), B is 8kK rows of a shared tile starting at `b` (row-major, stride of a D-tile).
// bf16: P is rounded to bf16 and becomes the A operand directly (the accumulator layout of two
// adjacent n-tiles is the A fragment layout); B comes transposed from ldmatrix.
// fp32: each lane gathers the whole rows g and g+8 of P from its quad with shuffles, key by key.
template <bool kBf16, int D, int kK, int kN>
FT_ATTN_FN void gemm_rn(float (&acc)[kN][4], const float (&pm)[kK][4], const Elem<kBf16>* __restrict__ b, int lane) {
  constexpr int S = TileLayout<kBf16, D>::kStride;
  const int t = lane & 3;
  if constexpr (kBf16) {
    static_assert(kK % 2 == 0 && kN % 2 == 0, "16-wide steps");
    FT_ATTN_PRAGMA(unroll)
    for (int kk = 0; kk < kK / 2; ++kk) {
      // A fragment of keys 16kk .. 16kk+15: a[0] = (g, 2t..), a[1] = (g+8, 2t..), a[2] = (g, 8+2t..),
      // a[3] = (g+8, 8+2t..), which are exactly the accumulators of n-tiles 2kk and 2kk+1.
      const uint32_t af[4] = {pack_bf16x2(pm[2 * kk][0], pm[2 * kk][1]), pack_bf16x2(pm[2 * kk][2], pm[2 * kk][3]),
                              pack_bf16x2(pm[2 * kk + 1][0], pm[2 * kk + 1][1]),
                              pack_bf16x2(pm[2 * kk + 1][2], pm[2 * kk + 1][3])};
      FT_ATTN_PRAGMA(unroll)
      for (int np = 0; np < kN / 2; ++np) {
        uint32_t r[4];
#if !defined(FT_ATTN_NO_LDMATRIX)
        // Matrix m = lane / 8: rows 16kk + 8(m % 2) .. +7, columns 16np + 8(m / 2) .. +7. Transposed,
        // r[0], r[1] are b0, b1 of n-tile 2np and r[2], r[3] those of n-tile 2np + 1.
        const int m = lane >> 3;
        ldmatrix_x4_trans(r, b + (16 * kk + 8 * (m & 1) + (lane & 7)) * S + 16 * np + 8 * (m >> 1));
#else
        // Same fragments from 16-bit loads: b0 = B[16kk + 2t (+1)][col g], b1 = rows + 8.
        const int g = lane >> 2;
        const uint16_t* pb = b + (16 * kk + 2 * t) * S + 16 * np + g;
        r[0] = static_cast<uint32_t>(pb[0]) | (static_cast<uint32_t>(pb[S]) << 16);
        r[1] = static_cast<uint32_t>(pb[8 * S]) | (static_cast<uint32_t>(pb[9 * S]) << 16);
        r[2] = static_cast<uint32_t>(pb[8]) | (static_cast<uint32_t>(pb[S + 8]) << 16);
        r[3] = static_cast<uint32_t>(pb[8 * S + 8]) | (static_cast<uint32_t>(pb[9 * S + 8]) << 16);
#endif
        mma_bf16_16816(acc[2 * np], af, r[0], r[1]);
        mma_bf16_16816(acc[2 * np + 1], af, r[2], r[3]);
      }
    }
  } else {
    const int quad = lane & ~3;
    FT_ATTN_PRAGMA(unroll 1)
    for (int kb = 0; kb < kK; ++kb) {
      // pm[kb] through selects: indexing the register array with the loop counter would put it in
      // local memory, and unrolling this loop too costs registers and compile time.
      float v[4] = {pm[0][0], pm[0][1], pm[0][2], pm[0][3]};
      FT_ATTN_PRAGMA(unroll)
      for (int x = 1; x < kK; ++x) {
        if (x == kb) {
          v[0] = pm[x][0]; v[1] = pm[x][1]; v[2] = pm[x][2]; v[3] = pm[x][3];
        }
      }
      FT_ATTN_PRAGMA(unroll 1)
      for (int src = 0; src < 4; ++src) {
        // Keys 8kb + 2src and 8kb + 2src + 1 of rows g (p00, p01) and g+8 (p10, p11), held by lane quad + src.
        const float p00 = shfl_idx(v[0], quad + src), p01 = shfl_idx(v[1], quad + src);
        const float p10 = shfl_idx(v[2], quad + src), p11 = shfl_idx(v[3], quad + src);
        const float* r0 = b + (8 * kb + 2 * src) * S + 2 * t;
        FT_ATTN_PRAGMA(unroll)
        for (int n = 0; n < kN; ++n) {
          const F2 x0 = ldf2(r0 + 8 * n), x1 = ldf2(r0 + S + 8 * n);
          acc[n][0] = fma_f(p01, x1.x, fma_f(p00, x0.x, acc[n][0]));
          acc[n][1] = fma_f(p01, x1.y, fma_f(p00, x0.y, acc[n][1]));
          acc[n][2] = fma_f(p11, x1.x, fma_f(p10, x0.x, acc[n][2]));
          acc[n][3] = fma_f(p11, x1.y, fma_f(p10, x0.y, acc[n][3]));
        }
      }
    }
  }
}

// Sum and max over the four lanes of a quad (the lanes that share rows g and g+8), in a fixed order.
FT_ATTN_FN float quad_max(float v) {
  v = fmaxf(v, shfl_xor(v, 1));
  return fmaxf(v, shfl_xor(v, 2));
}
FT_ATTN_FN float quad_sum(float v) {
  v += shfl_xor(v, 1);
  return v + shfl_xor(v, 2);
}

// An out-of-range length (outside 1..T) cannot be reported from inside a kernel without a host
// synchronisation, so the rows it touches are written as NaN: the fault surfaces in the loss and
// in the trainer's finiteness checks instead of silently producing plausible numbers.
FT_ATTN_FN bool length_ok(int L, int T) { return L >= 1 && L <= T; }

// =====================================================================================
// Pipelining. The tiles a loop streams through (K and V in the forward and dQ kernels; Q, dout,
// lse, delta and the dropout bits in the dK/dV kernel) have kStages buffers. With two, tile n + 1
// is copied (cp.async) while tile n is computed, and one barrier per step suffices:
//   wait for my copies; barrier       tile n is complete and visible; everyone is done with step
//                                     n - 1, so its buffers (those of tile n + 1) are free
//   start copying tile n + 1          into the other buffer
//   compute tile n
//   dropout bits (and lse, delta) of tile n + 1, written directly into the other buffer
// With one buffer (where two would not fit in shared memory) a second barrier before the copy of
// tile n + 1 keeps it from overwriting tile n while it is being read.
// =====================================================================================

constexpr int kMaxPipelinedSmem = 140 * 1024;  // two stages only below this (A100: 163 KiB per block)

template <int kOneStageBytes, int kStageBytes>
constexpr int stages_for() {
  return kOneStageBytes + kStageBytes <= kMaxPipelinedSmem ? 2 : 1;
}

// =====================================================================================
// Forward: one block per (query tile, h, b); online softmax over key tiles 0 .. lengths[b)
// =====================================================================================

template <bool kBf16, int D>
struct ForwardSmem {
  static constexpr int kTileBytes = TileLayout<kBf16, D>::bytes(kTile);
  static constexpr int kBitsBytes = kTile * (kTile / 16) * 2;
  static constexpr int kStageBytes = 2 * kTileBytes + kBitsBytes;  // K, V, dropout bits
  static constexpr int kStages = stages_for<kTileBytes + kStageBytes, kStageBytes>();
  static constexpr int kBytes = kTileBytes + kStages * kStageBytes;  // Q, then the stages
};

template <bool kBf16, int D>
constexpr int forward_smem_bytes() {
  return ForwardSmem<kBf16, D>::kBytes;
}

template <bool kBf16, int D>
FT_ATTN_FN void forward_body(const Params& p, unsigned char* smem, int tid, int qtile, int h, int b) {
  using E = Elem<kBf16>;
  using TL = TileLayout<kBf16, D>;
  using SM = ForwardSmem<kBf16, D>;
  constexpr int S = TL::kStride;
  constexpr int kStages = SM::kStages;
  constexpr int kN = kTile / 8;  // n-tiles of a score row block
  constexpr int kNd = D / 8;     // n-tiles of an output row block
  const int T = p.T, C = p.C, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
  const int64_t ld = 3 * static_cast<int64_t>(C);
  const int L = p.lengths[b];
  const int i0 = qtile * kTile;
  const E* q = static_cast<const E*>(p.qkv) + static_cast<int64_t>(b) * T * ld + h * D;  // (T, D) rows ld apart
  const E* k = q + C;
  const E* v = q + 2 * C;
  E* out = static_cast<E*>(p.out) + static_cast<int64_t>(b) * T * C + h * D;  // (T, D) rows C apart
  float* lse = p.lse + (static_cast<int64_t>(b) * p.H + h) * T;               // (T)
  const int i_end = i0 + kTile < T ? i0 + kTile : T;

  if (!length_ok(L, T)) {
    fill_rows<kBf16, D>(out, C, i0, i_end, quiet_nan(), tid);
    for (int i = i0 + tid; i < i_end; i += kThreads) lse[i] = quiet_nan();
    return;
  }

  // Shared: Q (64, S); per stage K (64, S), V (64, S), dropout bits (64, 4).
  E* qs = reinterpret_cast<E*>(smem);
  const auto ks = [&](int st) { return reinterpret_cast<E*>(smem + SM::kTileBytes + st * SM::kStageBytes); };
  const auto vs = [&](int st) { return ks(st) + kTile * S; };
  const auto bits = [&](int st) {
    return reinterpret_cast<uint16_t*>(smem + SM::kTileBytes + st * SM::kStageBytes + 2 * SM::kTileBytes);
  };
  const uint64_t bh_T = (static_cast<uint64_t>(b) * p.H + h) * static_cast<uint64_t>(T);
  const int tiles = (L + kTile - 1) / kTile;

  load_rows<kBf16, D, kTile>(qs, q, ld, i0, T, tid);
  load_rows<kBf16, D, kTile>(ks(0), k, ld, 0, L, tid);
  load_rows<kBf16, D, kTile>(vs(0), v, ld, 0, L, tid);
  cp_async_commit();
  if (p.dropout) dropout_bits<kTile, kTile>(bits(0), p, bh_T, i0, 0, L, tid);
  const E* qw = qs + warp * 16 * S;  // this warp's 16 query rows

  float o[kNd][4];
  FT_ATTN_PRAGMA(unroll)
  for (int n = 0; n < kNd; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
  // Running max (base-2 units) and this lane's share of the running sum, rows g and g+8.
  float m[2] = {-INFINITY, -INFINITY};
  float l[2] = {0.0f, 0.0f};

  for (int kt = 0; kt < tiles; ++kt) {
    const int st = kt % kStages, j0 = kt * kTile;
    const bool more = kt + 1 < tiles;
    cp_async_wait_all();
    block_sync();
    if (kStages == 2 && more) {
      load_rows<kBf16, D, kTile>(ks(1 - st), k, ld, j0 + kTile, L, tid);
      load_rows<kBf16, D, kTile>(vs(1 - st), v, ld, j0 + kTile, L, tid);
      cp_async_commit();
    }

    float s[kN][4];
    FT_ATTN_PRAGMA(unroll)
    for (int n = 0; n < kN; ++n) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
    gemm_nt<kBf16, D, kN>(s, qw, ks(st), lane);

    // Scaled scores in base-2 units; keys >= L are -inf. Key j0 < L is in every row of this tile,
    // so the tile max of each row is finite and exp2(-inf - finite) = 0 handles the first tile.
    float mt[2] = {-INFINITY, -INFINITY};
    FT_ATTN_PRAGMA(unroll)
    for (int n = 0; n < kN; ++n) {
      FT_ATTN_PRAGMA(unroll)
      for (int e = 0; e < 4; ++e) {
        const int j = j0 + 8 * n + 2 * t + (e & 1);
        const float x = j < L ? s[n][e] * p.scale_log2 : -INFINITY;
        s[n][e] = x;
        mt[e >> 1] = fmaxf(mt[e >> 1], x);
      }
    }
    float alpha[2];
    FT_ATTN_PRAGMA(unroll)
    for (int r = 0; r < 2; ++r) {
      const float m_new = fmaxf(m[r], quad_max(mt[r]));
      alpha[r] = fast_exp2(m[r] - m_new);  // 0 on the first tile (m = -inf)
      m[r] = m_new;
      l[r] *= alpha[r];
    }
    FT_ATTN_PRAGMA(unroll)
    for (int n = 0; n < kNd; ++n) {
      o[n][0] *= alpha[0]; o[n][1] *= alpha[0];
      o[n][2] *= alpha[1]; o[n][3] *= alpha[1];
    }
    // Unnormalised probabilities; the sum takes them before dropout (softmax is normalised over
    // all real keys), the product with V after (kept ones; the 1/(1-p) is applied at the end).
    const uint16_t* kb = bits(st);
    FT_ATTN_PRAGMA(unroll)
    for (int n = 0; n < kN; ++n) {
      FT_ATTN_PRAGMA(unroll)
      for (int e = 0; e < 4; ++e) {
        const int r = e >> 1;
        float pe = fast_exp2(s[n][e] - m[r]);
        l[r] += pe;
        if (p.dropout && !keep_bit<kTile>(kb, warp * 16 + g + 8 * r, 8 * n + 2 * t + (e & 1))) pe = 0.0f;
        s[n][e] = pe;
      }
    }
    gemm_rn<kBf16, D, kN, kNd>(o, s, vs(st), lane);

    if (more) {
      if (kStages == 1) {
        block_sync();  // everyone is done with this tile's K, V and bits
        load_rows<kBf16, D, kTile>(ks(0), k, ld, j0 + kTile, L, tid);
        load_rows<kBf16, D, kTile>(vs(0), v, ld, j0 + kTile, L, tid);
        cp_async_commit();
      }
      if (p.dropout) dropout_bits<kTile, kTile>(bits((kt + 1) % kStages), p, bh_T, i0, j0 + kTile, L, tid);
    }
  }

  FT_ATTN_PRAGMA(unroll)
  for (int r = 0; r < 2; ++r) {
    const float sum = quad_sum(l[r]);
    const float inv = (p.dropout ? p.drop_scale : 1.0f) / sum;
    const int i = i0 + warp * 16 + g + 8 * r;
    if (i < T) {
      E* row = out + static_cast<int64_t>(i) * C;
      FT_ATTN_PRAGMA(unroll)
      for (int n = 0; n < kNd; ++n) store_pair<kBf16>(row + 8 * n + 2 * t, o[n][2 * r] * inv, o[n][2 * r + 1] * inv);
      if (t == 0) lse[i] = (m[r] + log2_f(sum)) * kLn2;
    }
  }
}

// =====================================================================================
// Backward pre-pass: delta[b, h, i] = sum_d dout[b, i, hD + d] * out[b, i, hD + d] (one warp per row)
// =====================================================================================

template <bool kBf16, int D>
FT_ATTN_FN void delta_body(const Params& p, int tid, int64_t block) {
  using E = Elem<kBf16>;
  const int lane = tid & 31;
  const int64_t row = block * kWarps + (tid >> 5);  // ((b * T) + i) * H + h
  const int64_t rows = static_cast<int64_t>(p.B) * p.T * p.H;
  if (row >= rows) return;  // the whole warp leaves together
  const int h = static_cast<int>(row % p.H);
  const int64_t bi = row / p.H;  // b * T + i
  const E* o = static_cast<const E*>(p.out_saved) + bi * p.C + h * D;
  const E* d = static_cast<const E*>(p.dout) + bi * p.C + h * D;
  float acc = 0.0f;
  FT_ATTN_PRAGMA(unroll)
  for (int c = lane; c < D; c += 32) acc = fma_f(to_float<kBf16>(d[c]), to_float<kBf16>(o[c]), acc);
  FT_ATTN_PRAGMA(unroll)
  for (int off = 16; off > 0; off >>= 1) acc += shfl_xor(acc, off);
  if (lane == 0) {
    const int64_t b = bi / p.T, i = bi % p.T;
    p.delta[(b * p.H + h) * p.T + i] = acc;
  }
}

// =====================================================================================
// Backward dQ: one block per (query tile, h, b); loops over key tiles 0 .. lengths[b)
//   P = exp(S - lse), dP = (dO V^T) * mask / (1-p), dS = P * (dP - delta), dQ = scale * dS K
// =====================================================================================

template <bool kBf16, int D>
struct DqSmem {
  static constexpr int kTileBytes = TileLayout<kBf16, D>::bytes(kTile);
  static constexpr int kBitsBytes = kTile * (kTile / 16) * 2;
  static constexpr int kStageBytes = 2 * kTileBytes + kBitsBytes;  // K, V, dropout bits
  static constexpr int kStages = stages_for<2 * kTileBytes + kStageBytes, kStageBytes>();
  static constexpr int kBytes = 2 * kTileBytes + kStages * kStageBytes;  // Q, dO, then the stages
};

template <bool kBf16, int D>
constexpr int dq_smem_bytes() {
  return DqSmem<kBf16, D>::kBytes;
}

template <bool kBf16, int D>
FT_ATTN_FN void dq_body(const Params& p, unsigned char* smem, int tid, int qtile, int h, int b) {
  using E = Elem<kBf16>;
  using TL = TileLayout<kBf16, D>;
  using SM = DqSmem<kBf16, D>;
  constexpr int S = TL::kStride;
  constexpr int kStages = SM::kStages;
  constexpr int kN = kTile / 8;
  constexpr int kNd = D / 8;
  const int T = p.T, C = p.C, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
  const int64_t ld = 3 * static_cast<int64_t>(C);
  const int L = p.lengths[b];
  const int i0 = qtile * kTile;
  const int64_t bh = static_cast<int64_t>(b) * p.H + h;
  const E* q = static_cast<const E*>(p.qkv) + static_cast<int64_t>(b) * T * ld + h * D;  // (T, D) rows ld apart
  const E* k = q + C;
  const E* v = q + 2 * C;
  const E* dout = static_cast<const E*>(p.dout) + static_cast<int64_t>(b) * T * C + h * D;  // (T, D) rows C apart
  E* dq = static_cast<E*>(p.dqkv) + static_cast<int64_t>(b) * T * ld + h * D;              // (T, D) rows ld apart
  const int i_end = i0 + kTile < T ? i0 + kTile : T;

  if (!length_ok(L, T)) {
    fill_rows<kBf16, D>(dq, ld, i0, i_end, quiet_nan(), tid);
    return;
  }

  // Shared: Q (64, S), dO (64, S); per stage K (64, S), V (64, S), dropout bits (64, 4).
  E* qs = reinterpret_cast<E*>(smem);
  E* dos = qs + kTile * S;
  const auto ks = [&](int st) { return reinterpret_cast<E*>(smem + 2 * SM::kTileBytes + st * SM::kStageBytes); };
  const auto vs = [&](int st) { return ks(st) + kTile * S; };
  const auto bits = [&](int st) {
    return reinterpret_cast<uint16_t*>(smem + 2 * SM::kTileBytes + st * SM::kStageBytes + 2 * SM::kTileBytes);
  };
  const uint64_t bh_T = static_cast<uint64_t>(bh) * T;
  const int tiles = (L + kTile - 1) / kTile;

  load_rows<kBf16, D, kTile>(qs, q, ld, i0, T, tid);
  load_rows<kBf16, D, kTile>(dos, dout, C, i0, T, tid);
  load_rows<kBf16, D, kTile>(ks(0), k, ld, 0, L, tid);
  load_rows<kBf16, D, kTile>(vs(0), v, ld, 0, L, tid);
  cp_async_commit();
  if (p.dropout) dropout_bits<kTile, kTile>(bits(0), p, bh_T, i0, 0, L, tid);
  const E* qw = qs + warp * 16 * S;
  const E* dow = dos + warp * 16 * S;

  // Rows g and g+8 of this warp: lse in base-2 units and delta (rows >= T: anything finite).
  float lse2[2], dl[2];
  FT_ATTN_PRAGMA(unroll)
  for (int r = 0; r < 2; ++r) {
    const int i = i0 + warp * 16 + g + 8 * r;
    lse2[r] = i < T ? p.lse_saved[bh * T + i] * kLog2e : 0.0f;
    dl[r] = i < T ? p.delta[bh * T + i] : 0.0f;
  }

  float acc[kNd][4];
  FT_ATTN_PRAGMA(unroll)
  for (int n = 0; n < kNd; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;

  for (int kt = 0; kt < tiles; ++kt) {
    const int st = kt % kStages, j0 = kt * kTile;
    const bool more = kt + 1 < tiles;
    cp_async_wait_all();
    block_sync();
    if (kStages == 2 && more) {
      load_rows<kBf16, D, kTile>(ks(1 - st), k, ld, j0 + kTile, L, tid);
      load_rows<kBf16, D, kTile>(vs(1 - st), v, ld, j0 + kTile, L, tid);
      cp_async_commit();
    }

    float s[kN][4], dp[kN][4];
    FT_ATTN_PRAGMA(unroll)
    for (int n = 0; n < kN; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
      dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.0f;
    }
    gemm_nt<kBf16, D, kN>(s, qw, ks(st), lane);
    gemm_nt<kBf16, D, kN>(dp, dow, vs(st), lane);
    const uint16_t* kb = bits(st);
    FT_ATTN_PRAGMA(unroll)
    for (int n = 0; n < kN; ++n) {
      FT_ATTN_PRAGMA(unroll)
      for (int e = 0; e < 4; ++e) {
        const int r = e >> 1, c = 8 * n + 2 * t + (e & 1);
        const float pe = j0 + c < L ? fast_exp2(s[n][e] * p.scale_log2 - lse2[r]) : 0.0f;
        float dpe = dp[n][e];
        if (p.dropout) dpe = keep_bit<kTile>(kb, warp * 16 + g + 8 * r, c) ? dpe * p.drop_scale : 0.0f;
        s[n][e] = pe * (dpe - dl[r]);  // dS
      }
    }
    gemm_rn<kBf16, D, kN, kNd>(acc, s, ks(st), lane);

    if (more) {
      if (kStages == 1) {
        block_sync();
        load_rows<kBf16, D, kTile>(ks(0), k, ld, j0 + kTile, L, tid);
        load_rows<kBf16, D, kTile>(vs(0), v, ld, j0 + kTile, L, tid);
        cp_async_commit();
      }
      if (p.dropout) dropout_bits<kTile, kTile>(bits((kt + 1) % kStages), p, bh_T, i0, j0 + kTile, L, tid);
    }
  }

  FT_ATTN_PRAGMA(unroll)
  for (int r = 0; r < 2; ++r) {
    const int i = i0 + warp * 16 + g + 8 * r;
    if (i < T) {
      E* row = dq + static_cast<int64_t>(i) * ld;
      FT_ATTN_PRAGMA(unroll)
      for (int n = 0; n < kNd; ++n)
        store_pair<kBf16>(row + 8 * n + 2 * t, acc[n][2 * r] * p.scale, acc[n][2 * r + 1] * p.scale);
    }
  }
}

// =====================================================================================
// Backward dK, dV: one block per (key tile, h, b); loops over all query tiles 0 .. T (padded query
// rows included: they are computed like real rows in the forward). Each warp owns 16 keys and
// works on transposed tiles (rows = keys, columns = queries):
//   P^T = exp(K Q^T - lse), dP'^T = V dO^T, dS^T = P^T * (dP'^T * mask / (1-p) - delta)
//   dV += (P^T * mask / (1-p)) dO,  dK += dS^T Q (times scale at the end)
// Key tiles at or past lengths[b] only write zeros.
// =====================================================================================

template <bool kBf16, int D>
struct DkdvSmem {
  static constexpr int kQueryRows = dkdv_query_rows<D>();
  static constexpr int kKeyTileBytes = TileLayout<kBf16, D>::bytes(kTile);
  static constexpr int kQueryTileBytes = TileLayout<kBf16, D>::bytes(kQueryRows);
  // Per stage: Q (BQ, S), dO (BQ, S), lse2 (BQ), delta (BQ), dropout bits (BQ, 4).
  static constexpr int kStageBytes = 2 * kQueryTileBytes + 2 * kQueryRows * 4 + kQueryRows * (kTile / 16) * 2;
  static constexpr int kStages = stages_for<2 * kKeyTileBytes + kStageBytes, kStageBytes>();
  static constexpr int kBytes = 2 * kKeyTileBytes + kStages * kStageBytes;  // K, V, then the stages
};

template <bool kBf16, int D>
constexpr int dkdv_smem_bytes() {
  return DkdvSmem<kBf16, D>::kBytes;
}

template <bool kBf16, int D>
FT_ATTN_FN void dkdv_body(const Params& p, unsigned char* smem, int tid, int ktile, int h, int b) {
  using E = Elem<kBf16>;
  using TL = TileLayout<kBf16, D>;
  using SM = DkdvSmem<kBf16, D>;
  constexpr int S = TL::kStride;
  constexpr int kStages = SM::kStages;
  constexpr int BQ = SM::kQueryRows;
  constexpr int kN = BQ / 8;  // n-tiles over the queries of a step
  constexpr int kNd = D / 8;
  const int T = p.T, C = p.C, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
  const int64_t ld = 3 * static_cast<int64_t>(C);
  const int L = p.lengths[b];
  const int j0 = ktile * kTile;
  const int64_t bh = static_cast<int64_t>(b) * p.H + h;
  const E* q = static_cast<const E*>(p.qkv) + static_cast<int64_t>(b) * T * ld + h * D;
  const E* k = q + C;
  const E* v = q + 2 * C;
  const E* dout = static_cast<const E*>(p.dout) + static_cast<int64_t>(b) * T * C + h * D;
  E* dk = static_cast<E*>(p.dqkv) + static_cast<int64_t>(b) * T * ld + C + h * D;  // (T, D) rows ld apart
  E* dv = dk + C;
  const int j_end = j0 + kTile < T ? j0 + kTile : T;

  if (!length_ok(L, T) || j0 >= L) {
    const float value = length_ok(L, T) ? 0.0f : quiet_nan();
    fill_rows<kBf16, D>(dk, ld, j0, j_end, value, tid);
    fill_rows<kBf16, D>(dv, ld, j0, j_end, value, tid);
    return;
  }

  E* ks = reinterpret_cast<E*>(smem);  // (64, S) keys j0 ..
  E* vs = ks + kTile * S;              // (64, S) values j0 ..
  unsigned char* stages = smem + 2 * SM::kKeyTileBytes;
  const auto qs = [&](int st) { return reinterpret_cast<E*>(stages + st * SM::kStageBytes); };
  const auto dos = [&](int st) { return qs(st) + BQ * S; };
  const auto lse2_s = [&](int st) {
    return reinterpret_cast<float*>(stages + st * SM::kStageBytes + 2 * SM::kQueryTileBytes);
  };
  const auto dl_s = [&](int st) { return lse2_s(st) + BQ; };
  const auto bits = [&](int st) { return reinterpret_cast<uint16_t*>(lse2_s(st) + 2 * BQ); };
  const uint64_t bh_T = static_cast<uint64_t>(bh) * T;
  const int steps = (T + BQ - 1) / BQ;

  // lse (base-2 units), delta and dropout bits of the query rows i0 .. i0 + BQ - 1, into stage st.
  const auto row_stats = [&](int st, int i0) {
    float* l2 = lse2_s(st);
    float* dl = dl_s(st);
    for (int r = tid; r < BQ; r += kThreads) {
      const int i = i0 + r;
      l2[r] = i < T ? p.lse_saved[bh * T + i] * kLog2e : 0.0f;
      dl[r] = i < T ? p.delta[bh * T + i] : 0.0f;
    }
    if (p.dropout) dropout_bits<BQ, kTile>(bits(st), p, bh_T, i0, j0, L, tid);
  };

  load_rows<kBf16, D, kTile>(ks, k, ld, j0, L, tid);
  load_rows<kBf16, D, kTile>(vs, v, ld, j0, L, tid);
  load_rows<kBf16, D, BQ>(qs(0), q, ld, 0, T, tid);
  load_rows<kBf16, D, BQ>(dos(0), dout, C, 0, T, tid);
  cp_async_commit();
  row_stats(0, 0);
  const E* kw = ks + warp * 16 * S;  // this warp's 16 keys
  const E* vw = vs + warp * 16 * S;

  float dk_acc[kNd][4], dv_acc[kNd][4];
  FT_ATTN_PRAGMA(unroll)
  for (int n = 0; n < kNd; ++n) {
    dk_acc[n][0] = dk_acc[n][1] = dk_acc[n][2] = dk_acc[n][3] = 0.0f;
    dv_acc[n][0] = dv_acc[n][1] = dv_acc[n][2] = dv_acc[n][3] = 0.0f;
  }

  for (int qt = 0; qt < steps; ++qt) {
    const int st = qt % kStages, i0 = qt * BQ;
    const bool more = qt + 1 < steps;
    cp_async_wait_all();
    block_sync();
    if (kStages == 2 && more) {
      load_rows<kBf16, D, BQ>(qs(1 - st), q, ld, i0 + BQ, T, tid);
      load_rows<kBf16, D, BQ>(dos(1 - st), dout, C, i0 + BQ, T, tid);
      cp_async_commit();
    }

    const E* qst = qs(st);
    const E* dost = dos(st);
    const float* l2 = lse2_s(st);
    const float* dl = dl_s(st);
    const uint16_t* kb = bits(st);
    float sT[kN][4], dpT[kN][4];
    FT_ATTN_PRAGMA(unroll)
    for (int n = 0; n < kN; ++n) {
      sT[n][0] = sT[n][1] = sT[n][2] = sT[n][3] = 0.0f;
      dpT[n][0] = dpT[n][1] = dpT[n][2] = dpT[n][3] = 0.0f;
    }
    gemm_nt<kBf16, D, kN>(sT, kw, qst, lane);    // S^T: rows = keys, columns = queries
    gemm_nt<kBf16, D, kN>(dpT, vw, dost, lane);  // dP'^T
    FT_ATTN_PRAGMA(unroll)
    for (int n = 0; n < kN; ++n) {
      FT_ATTN_PRAGMA(unroll)
      for (int e = 0; e < 4; ++e) {
        const int c = 8 * n + 2 * t + (e & 1);        // query within the step
        const int kr = warp * 16 + g + 8 * (e >> 1);  // key within the tile
        const bool valid = j0 + kr < L && i0 + c < T;
        const float pe = valid ? fast_exp2(sT[n][e] * p.scale_log2 - l2[c]) : 0.0f;
        float dpe = dpT[n][e], pd = pe;
        if (p.dropout) {
          const bool keep = keep_bit<kTile>(kb, c, kr);
          dpe = keep ? dpe * p.drop_scale : 0.0f;
          pd = keep ? pe * p.drop_scale : 0.0f;
        }
        dpT[n][e] = pe * (dpe - dl[c]);  // dS^T
        sT[n][e] = pd;                   // P^T after dropout
      }
    }
    gemm_rn<kBf16, D, kN, kNd>(dv_acc, sT, dost, lane);
    gemm_rn<kBf16, D, kN, kNd>(dk_acc, dpT, qst, lane);

    if (more) {
      if (kStages == 1) {
        block_sync();
        load_rows<kBf16, D, BQ>(qs(0), q, ld, i0 + BQ, T, tid);
        load_rows<kBf16, D, BQ>(dos(0), dout, C, i0 + BQ, T, tid);
        cp_async_commit();
      }
      row_stats((qt + 1) % kStages, i0 + BQ);
    }
  }

  FT_ATTN_PRAGMA(unroll)
  for (int r = 0; r < 2; ++r) {
    const int j = j0 + warp * 16 + g + 8 * r;
    if (j < T) {
      const bool real = j < L;  // padded keys: exactly zero, as the CPU backend writes
      E* krow = dk + static_cast<int64_t>(j) * ld;
      E* vrow = dv + static_cast<int64_t>(j) * ld;
      FT_ATTN_PRAGMA(unroll)
      for (int n = 0; n < kNd; ++n) {
        store_pair<kBf16>(krow + 8 * n + 2 * t, real ? dk_acc[n][2 * r] * p.scale : 0.0f,
                          real ? dk_acc[n][2 * r + 1] * p.scale : 0.0f);
        store_pair<kBf16>(vrow + 8 * n + 2 * t, real ? dv_acc[n][2 * r] : 0.0f, real ? dv_acc[n][2 * r + 1] : 0.0f);
      }
    }
  }
}

}  // namespace ft::cuda::attn
