// A float as the decimal it was written from: the shortest decimal that reads back as the same
// float, as a double (0.9f -> 0.9, not 0.8999999761581421). Used where a float setting meets a
// double world: AdamW's scalars (torch takes Python doubles), JSON written for people and for HF.
#pragma once

#include <charconv>
#include <cmath>

namespace ft {

inline double shortest_decimal(float f) {
  if (!std::isfinite(f)) return static_cast<double>(f);
  char buf[64];
  const auto written = std::to_chars(buf, buf + sizeof(buf), f);
  double d = static_cast<double>(f);
  std::from_chars(buf, written.ptr, d);
  return d;
}

}  // namespace ft
