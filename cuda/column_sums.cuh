// out[c] += sum over rows r of x[r * ld + c]: the bias gradient of linear and pooler, reduced in a
// fixed order (no atomics). Rows are cut into fixed chunks of 256; a (32 x 8) block sums one chunk
// of 32 columns (each of its 8 thread rows a fixed stride of rows, in fp64, then the 8 added in
// order) into a partial row; a second kernel adds the chunk partials in chunk order.
#pragma once

#include <cstddef>

#include "cuda/context.h"

namespace ft::cuda {

size_t column_sums_scratch_bytes(int rows, int cols);

// T is float or __nv_bfloat16; `scratch` holds column_sums_scratch_bytes(rows, cols) bytes.
template <class T>
void add_column_sums(const T* x, int rows, int cols, int ld, T* out, void* scratch, const Context& ctx);

}  // namespace ft::cuda
