#include "core/dtype.h"

#include <cmath>

#include "core/error.h"

namespace ft {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2}, {DType::F64, "F64", 8},
    {DType::I32, "I32", 4}, {DType::I64, "I64", 8}, {DType::I8, "I8", 1},     {DType::U8, "U8", 1},
    {DType::Bool, "BOOL", 1},
};
const DTypeInfo& info(DType t) {
  for (const auto& i : kDTypes)
    if (i.type == t) return i;
  FT_THROW("unknown DType value ", static_cast<int>(t));
}
}  // namespace

size_t dtype_size(DType t) { return info(t).size; }
std::string_view dtype_name(DType t) { return info(t).name; }

bool parse_dtype(std::string_view name, DType* out) {
  for (const auto& i : kDTypes) {
    if (i.name == name) {
      *out = i.type;
      return true;
    }
  }
  return false;
}

f16 f16::from_float(float f) {
  // Round-to-nearest-even conversion, handling subnormals, overflow to inf, and NaN.
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  f16 r;
  if (abs > 0x7f800000u) {
    r.bits = static_cast<uint16_t>(sign | 0x7e00u);
    return r;
  }
  if (abs >= 0x477ff000u) {  // rounds to >= 65520: infinity
    r.bits = static_cast<uint16_t>(sign | 0x7c00u);
    return r;
  }
  if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    float a;
    std::memcpy(&a, &abs, 4);
    // 2^-24 is the subnormal step; rint rounds half to even in the default rounding mode.
    const uint32_t m = static_cast<uint32_t>(std::nearbyint(a * 16777216.0f));
    r.bits = static_cast<uint16_t>(sign | m);
    return r;
  }
  const uint32_t mant_odd = (abs >> 13) & 1u;
  const uint32_t rounded = abs + 0xfffu + mant_odd;
  r.bits = static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  return r;
}

float f16::to_float() const {
  const uint32_t sign = (static_cast<uint32_t>(bits) & 0x8000u) << 16;
  const uint32_t exp = (bits >> 10) & 0x1fu;
  const uint32_t mant = bits & 0x3ffu;
  uint32_t out;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);
    std::memcpy(&out, &v, 4);
    out |= sign;
  } else if (exp == 31) {
    out = sign | 0x7f800000u | (mant << 13);
  } else {
    out = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

}  // namespace ft
