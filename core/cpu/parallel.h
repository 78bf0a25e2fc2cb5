// Deterministic parallel reductions for the CPU ops.
//
// Every reduction across rows (parameter gradients: db, dgamma, dbeta, embedding tables; the
// gradient norm) adds its terms in an order fixed by the shapes alone, never by thread scheduling:
// either each output column is summed by one thread over the rows in order, or rows are cut into
// fixed chunks of kReduceRows whose partial sums are combined in chunk order. So results are the
// same bits on every run, for any OpenMP thread count.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ft::cpu {

// Rows per partial sum in chunked reductions: small enough for parallelism at the model's shapes
// (N = B*T in the thousands), large enough that the partial buffers stay small.
constexpr int64_t kReduceRows = 64;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Columns per task when a reduction is parallelised over columns: 16 doubles of accumulator are
// two cache lines, and a block of a float row is 64 bytes.
constexpr int64_t kReduceColumns = 16;

// out[c] += sum over rows r of x[r * ld + c], c < cols; accumulated in double, rows in order.
// Parallel over column blocks, so each column's sum has one fixed order.
template <class Real>
void accumulate_column_sums(const Real* x, int64_t rows, int64_t cols, int64_t ld, Real* out) {
  const int64_t blocks = ceil_div(cols, kReduceColumns);
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t c0 = blk * kReduceColumns;
    const int64_t c1 = std::min(cols, c0 + kReduceColumns);
    double acc[kReduceColumns] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const Real* row = x + r * ld;
      for (int64_t c = c0; c < c1; ++c) acc[c - c0] += static_cast<double>(row[c]);
    }
    for (int64_t c = c0; c < c1; ++c) out[c] += static_cast<Real>(acc[c - c0]);
  }
}

// Combines per-chunk partial sums (chunks x cols, row-major) in chunk order: out[c] += sum_k
// partial[k * cols + c].
template <class Real>
void accumulate_chunk_partials(const std::vector<double>& partial, int64_t chunks, int64_t cols, Real* out) {
#pragma omp parallel for schedule(static) if (chunks * cols > 32768)
  for (int64_t c = 0; c < cols; ++c) {
    double acc = 0.0;
    for (int64_t k = 0; k < chunks; ++k) acc += partial[static_cast<size_t>(k * cols + c)];
    out[c] += static_cast<Real>(acc);
  }
}

}  // namespace ft::cpu
