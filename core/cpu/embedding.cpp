// embedding: out = dropout(LayerNorm(word[ids] + type[type_ids] + pos[t])), HF's BertEmbeddings
// (the sum in HF's order: word + type, then + position). The backward recomputes the sum from the
// tables, so the forward saves only mean and rstd.
//
// The table gradients are a scatter-add (many rows may share a token id, every sequence shares each
// position). To keep it deterministic without atomics, rows are grouped by table index (a stable
// sort, so rows stay in order within a group) and each (group, column block) task sums its rows in
// double, in row order, and adds the sum to the table row once.
#include <algorithm>
#include <numeric>
#include <vector>

#include "core/cpu/dropout_mask.h"
#include "core/cpu/layernorm_row.h"
#include "core/cpu/ops.h"
#include "core/cpu/parallel.h"
#include "core/error.h"

namespace ft::cpu {

namespace {

template <class Args>
void check_indices(const char* op, const Args& a) {
  FT_CHECK(a.T <= a.max_positions, op, ": sequence length ", a.T, " exceeds the ", a.max_positions,
           " positions of the position embedding table");
  const int64_t n = static_cast<int64_t>(a.B) * a.T;
  for (int64_t r = 0; r < n; ++r) {
    const int32_t id = a.input_ids[r];
    FT_CHECK(id >= 0 && id < a.vocab, op, ": input id ", id, " at (batch ", r / a.T, ", position ", r % a.T,
             ") is outside the vocabulary of ", a.vocab, " tokens");
    if (a.token_type_ids) {
      const int32_t tt = a.token_type_ids[r];
      FT_CHECK(tt >= 0 && tt < a.type_vocab, op, ": token type id ", tt, " at (batch ", r / a.T, ", position ",
               r % a.T, ") is outside the ", a.type_vocab, " token types");
    } else {
      FT_CHECK(a.type_vocab >= 1, op, ": no token type ids given and the token type table is empty");
    }
  }
}

// e (C) = word[id] + type[tt] + pos[t] for row r = b * T + t, in HF's order.
template <class Args, class Real>
void embedding_sum(const Args& a, int64_t r, Real* e) {
  const int C = a.C;
  const Real* w = a.word + static_cast<int64_t>(a.input_ids[r]) * C;
  const Real* ty = a.type + static_cast<int64_t>(a.token_type_ids ? a.token_type_ids[r] : 0) * C;
  const Real* p = a.pos + (r % a.T) * C;
  for (int c = 0; c < C; ++c) e[c] = (w[c] + ty[c]) + p[c];
}

// table[index(r)] += sum of de rows r that share the index; rows of one index added in row order.
template <class Real, class IndexOf>
void scatter_rows(const std::vector<Real>& de, int64_t n, int C, Real* table, IndexOf index_of) {
  std::vector<int64_t> order(static_cast<size_t>(n));  // (n) rows sorted by table index, stable
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return index_of(x) < index_of(y); });
  std::vector<int64_t> group_start;  // (groups + 1) offsets into order
  for (int64_t i = 0; i < n; ++i)
    if (i == 0 || index_of(order[i]) != index_of(order[i - 1])) group_start.push_back(i);
  group_start.push_back(n);
  const int64_t groups = static_cast<int64_t>(group_start.size()) - 1;
  const int64_t col_blocks = ceil_div(C, kReduceColumns);
#pragma omp parallel for schedule(static) if (n * C > 32768)
  for (int64_t task = 0; task < groups * col_blocks; ++task) {
    const int64_t g = task / col_blocks;
    const int c0 = static_cast<int>((task % col_blocks) * kReduceColumns);
    const int c1 = std::min<int>(C, c0 + static_cast<int>(kReduceColumns));
    double acc[kReduceColumns] = {};
    for (int64_t i = group_start[g]; i < group_start[g + 1]; ++i) {
      const Real* row = de.data() + order[i] * C;
      for (int c = c0; c < c1; ++c) acc[c - c0] += static_cast<double>(row[c]);
    }
    Real* dst = table + static_cast<int64_t>(index_of(order[group_start[g]])) * C;
    for (int c = c0; c < c1; ++c) dst[c] += static_cast<Real>(acc[c - c0]);
  }
}

}  // namespace

template <class Real>
void embedding_forward(const EmbeddingForwardArgs<Real>& a) {
  check_indices("embedding_forward", a);
  const int C = a.C;
  const int64_t n = static_cast<int64_t>(a.B) * a.T;
#pragma omp parallel if (n * C > 16384)
  {
    std::vector<Real> e(static_cast<size_t>(C));  // (C) pre-LayerNorm sum of one row
#pragma omp for schedule(static)
    for (int64_t r = 0; r < n; ++r) {
      embedding_sum(a, r, e.data());
      Real* out = a.out + r * C;
      layernorm_row_forward(e.data(), a.gamma, a.beta, C, a.eps, out, a.mean + r, a.rstd + r);
      if (a.dropout.active()) apply_dropout(a.dropout, static_cast<uint64_t>(r) * C, C, out);
    }
  }
}

template <class Real>
void embedding_backward(const EmbeddingBackwardArgs<Real>& a) {
  check_indices("embedding_backward", a);
  const int C = a.C;
  const int64_t n = static_cast<int64_t>(a.B) * a.T;
  const bool tables = a.dword || a.dpos || a.dtype;
  if (!tables && !a.dgamma && !a.dbeta) return;
  std::vector<Real> de(tables ? static_cast<size_t>(n * C) : 0);  // (N, C) gradient of the sum
  const int64_t chunks = ceil_div(n, kReduceRows);
  std::vector<double> dgamma_part(a.dgamma ? static_cast<size_t>(chunks * C) : 0, 0.0);  // (chunks, C)
  std::vector<double> dbeta_part(a.dbeta ? static_cast<size_t>(chunks * C) : 0, 0.0);    // (chunks, C)
#pragma omp parallel if (n * C > 16384)
  {
    std::vector<Real> e(static_cast<size_t>(C));   // (C) recomputed pre-LayerNorm sum
    std::vector<Real> dy(static_cast<size_t>(C));  // (C) dout through the dropout mask
#pragma omp for schedule(static)
    for (int64_t k = 0; k < chunks; ++k) {
      double* dg = a.dgamma ? dgamma_part.data() + k * C : nullptr;
      double* db = a.dbeta ? dbeta_part.data() + k * C : nullptr;
      const int64_t r1 = std::min(n, (k + 1) * kReduceRows);
      for (int64_t r = k * kReduceRows; r < r1; ++r) {
        embedding_sum(a, r, e.data());
        std::copy(a.dout + r * C, a.dout + (r + 1) * C, dy.data());
        if (a.dropout.active()) apply_dropout(a.dropout, static_cast<uint64_t>(r) * C, C, dy.data());
        layernorm_row_backward(e.data(), a.gamma, a.mean[r], a.rstd[r], dy.data(), C,
                               tables ? de.data() + r * C : nullptr, false, dg, db);
      }
    }
  }
  if (a.dgamma) accumulate_chunk_partials(dgamma_part, chunks, C, a.dgamma);
  if (a.dbeta) accumulate_chunk_partials(dbeta_part, chunks, C, a.dbeta);
  if (a.dword) scatter_rows(de, n, C, a.dword, [&](int64_t r) { return a.input_ids[r]; });
  if (a.dpos) scatter_rows(de, n, C, a.dpos, [&](int64_t r) { return static_cast<int32_t>(r % a.T); });
  if (a.dtype)
    scatter_rows(de, n, C, a.dtype, [&](int64_t r) { return a.token_type_ids ? a.token_type_ids[r] : 0; });
}

template void embedding_forward<float>(const EmbeddingForwardArgs<float>&);
template void embedding_forward<double>(const EmbeddingForwardArgs<double>&);
template void embedding_backward<float>(const EmbeddingBackwardArgs<float>&);
template void embedding_backward<double>(const EmbeddingBackwardArgs<double>&);

}  // namespace ft::cpu
