// Element types that ftengine stores and computes in, and host-side 16-bit float conversions.
//
// bf16 and f16 here are storage types for the host (checkpoint I/O, the CPU side of the bf16 CUDA
// backend). CUDA code reinterprets bf16 as __nv_bfloat16: both are a uint16_t bit pattern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace ft {

enum class DType : uint8_t { F32, F16, BF16, F64, I32, I64, I8, U8, Bool };

size_t dtype_size(DType t);
// Safetensors spelling ("F32", "BF16", ...). Every DType has one.
std::string_view dtype_name(DType t);
// Parses a safetensors dtype name; returns false for names ftengine does not know.
bool parse_dtype(std::string_view name, DType* out);

// bfloat16 bit pattern. Conversion from float rounds to nearest even, like torch and CUDA.
struct bf16 {
  uint16_t bits = 0;
  static bf16 from_float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    bf16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep it a quiet NaN
      r.bits = static_cast<uint16_t>((u >> 16) | 0x40u);
      return r;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    r.bits = static_cast<uint16_t>(u >> 16);
    return r;
  }
  float to_float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  explicit operator float() const { return to_float(); }
};
static_assert(sizeof(bf16) == 2);

// IEEE half bit pattern (only converted, never computed in on the host).
struct f16 {
  uint16_t bits = 0;
  static f16 from_float(float f);
  float to_float() const;
  explicit operator float() const { return to_float(); }
};
static_assert(sizeof(f16) == 2);

// Type of per-row statistics (layernorm mean/rstd, attention logsumexp), predictions and losses:
// double for the double CPU backend (gradient checks), float for float and bf16.
template <class Real>
using stat_t = std::conditional_t<std::is_same_v<Real, double>, double, float>;

// Type of master weights and optimizer moments: fp32 master weights under a bf16 working copy.
template <class Real>
using master_t = std::conditional_t<std::is_same_v<Real, double>, double, float>;

template <class T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<bf16>() { return DType::BF16; }
template <> constexpr DType dtype_of<f16>() { return DType::F16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }

}  // namespace ft
