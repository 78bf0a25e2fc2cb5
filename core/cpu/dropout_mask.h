// Dropout masks drawn from Philox (core/philox.h), for every CPU op with a dropout site.
//
// Element idx of a mask is kept iff ft::dropout_keep(seed, stream, step, idx, p), and kept
// elements are scaled by Real(1) / (Real(1) - Real(p)). The words of many Philox blocks are drawn
// at once by a vectorised loop (dropout_mask.cpp), one block per four consecutive indices.
#pragma once

#include <cstdint>

#include "core/ops.h"
#include "core/philox.h"

namespace ft::cpu {

template <class Real>
Real dropout_scale(const DropoutSpec& d) {
  return Real(1) / (Real(1) - Real(d.p));
}

// m[i] = keep(base + i) ? scale : 0 for i < n: the mask as multipliers.
void dropout_multipliers(const DropoutSpec& d, uint64_t base, int64_t n, float* m);
void dropout_multipliers(const DropoutSpec& d, uint64_t base, int64_t n, double* m);

// x[i] = keep(base + i) ? x[i] * scale : 0 for i < n.
void apply_dropout(const DropoutSpec& d, uint64_t base, int64_t n, float* x);
void apply_dropout(const DropoutSpec& d, uint64_t base, int64_t n, double* x);

}  // namespace ft::cpu
