// embedding: out = dropout(LayerNorm((word[ids] + type[type_ids]) + pos[t])), HF's BertEmbeddings.
//
// Forward: the LayerNorm row kernel (cuda/layernorm.cu) reading its rows straight from the three
// tables, so gather, sum, LayerNorm and dropout are one kernel and only mean/rstd are saved.
//
// Backward: the LayerNorm backward row kernel recomputes each row from the tables, passes dout
// through the dropout mask, accumulates dgamma/dbeta deterministically and writes the gradient of
// the pre-LayerNorm sum (ds, fp32) to scratch. The tables then take a scatter-add of ds rows, made
// deterministic without atomics:
//  - dpos[t] += sum over b of ds[b, t], one thread per (t, c), b in order (fp64);
//  - dword and dtype: rows are sorted by table index (CUB's stable radix sort, so equal indices keep
//    row order). The sorted positions are cut into fixed chunks of 64; one thread per (chunk, column)
//    walks its chunk in order: a group of equal indices that lies inside the chunk is added to its
//    table row directly; the parts of a group that crosses chunk boundaries go to per-chunk carry
//    slots, which a second kernel adds in chunk order. Every table row has exactly one writer and
//    every sum a fixed order, so the result is the same bits on every run.
#include <algorithm>

#include "core/error.h"
#include "cuda/layernorm_rows.cuh"
#include "cuda/ops.h"
#include "cuda/sort_rows.cuh"

namespace ft::cuda {

namespace {

constexpr int kChunk = 64;          // sorted positions per scatter chunk
constexpr int kScatterThreads = 128;

// keys[r] = index[r] (0 when index is null), or `limit` when out of range (never added anywhere);
// rows[r] = r.
__global__ void scatter_keys_kernel(const int32_t* index, int n, int limit, uint32_t* keys, int32_t* rows) {
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= n) return;
  const int v = index ? index[r] : 0;
  keys[r] = static_cast<uint32_t>(v >= 0 && v < limit ? v : limit);
  rows[r] = r;
}

template <class T>
__device__ __forceinline__ void add_to(T* dst, double v) {
  *dst = from_float<T>(to_float(*dst) + static_cast<float>(v));
}

// One thread per (column, chunk of sorted positions [s, e)). head[chunk]: this chunk's part of a
// group that began in an earlier chunk; tail[chunk]: its part of a group that begins here and
// continues into later chunks. Groups inside the chunk go straight to the table.
template <class T>
__global__ void __launch_bounds__(kScatterThreads)
    scatter_chunks_kernel(const uint32_t* keys, const int32_t* rows, int n, int C, uint32_t limit, const float* ds,
                          T* table, double* head, double* tail) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int chunk = blockIdx.y;
  if (col >= C) return;
  const int s = chunk * kChunk, e = min(n, s + kChunk);
  const bool from_left = chunk > 0 && keys[s - 1] == keys[s];
  const bool to_right = e < n && keys[e] == keys[e - 1];
  int group_start = s;
  double acc = 0.0;
  for (int i = s; i < e; ++i) {
    acc += static_cast<double>(ds[static_cast<int64_t>(rows[i]) * C + col]);
    const uint32_t key = keys[i];
    if (i + 1 < e && keys[i + 1] == key) continue;
    // the group [group_start, i] ends here (in this chunk)
    const size_t slot = static_cast<size_t>(chunk) * C + col;
    if (group_start == s && from_left) head[slot] = acc;
    else if (i + 1 == e && to_right) tail[slot] = acc;
    else if (key < limit) add_to(table + static_cast<int64_t>(key) * C + col, acc);
    acc = 0.0;
    group_start = i + 1;
  }
}

// One thread per (column, chunk): a chunk whose last group begins in it and crosses into the next
// chunks adds its tail and the following chunks' heads, in chunk order, to the table row.
template <class T>
__global__ void __launch_bounds__(kScatterThreads)
    scatter_carry_kernel(const uint32_t* keys, int n, int C, uint32_t limit, const double* head, const double* tail,
                         T* table) {
  const int col = blockIdx.x * blockDim.x + threadIdx.x;
  const int chunk = blockIdx.y;
  if (col >= C) return;
  const int s = chunk * kChunk, e = min(n, s + kChunk);
  if (!(e < n && keys[e] == keys[e - 1])) return;  // the last group ends in this chunk
  const uint32_t key = keys[e - 1];
  if (chunk > 0 && keys[s - 1] == key) return;       // it began in an earlier chunk, which owns it
  if (key >= limit) return;
  double acc = tail[static_cast<size_t>(chunk) * C + col];
  for (int j = chunk + 1;; ++j) {
    acc += head[static_cast<size_t>(j) * C + col];
    const int ej = min(n, (j + 1) * kChunk);
    if (!(ej < n && keys[ej] == key)) break;  // the group ends in chunk j
  }
  add_to(table + static_cast<int64_t>(key) * C + col, acc);
}

// dpos[t, c] += sum over b of ds[b, t, c], b in order.
template <class T>
__global__ void dpos_kernel(const float* ds, int B, int seq, int C, T* dpos) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(seq) * C) return;
  const int64_t t = i / C, col = i % C;
  double acc = 0.0;
  for (int b = 0; b < B; ++b) acc += static_cast<double>(ds[(static_cast<int64_t>(b) * seq + t) * C + col]);
  add_to(dpos + i, acc);
}

int key_bits(int limit) {  // bits for keys 0 .. limit (limit is the out-of-range marker)
  int bits = 1;
  while ((static_cast<int64_t>(1) << bits) <= limit) ++bits;
  return bits;
}

// The scratch of one embedding backward, carved from one Scratch::get.
struct EmbeddingScratch {
  float* ds = nullptr;           // (N, C) gradient of the pre-LayerNorm sum
  void* ln = nullptr;            // dgamma/dbeta partials of the row kernel
  uint32_t* keys_in = nullptr;   // (N)
  uint32_t* keys_out = nullptr;  // (N)
  int32_t* rows_in = nullptr;    // (N)
  int32_t* rows_out = nullptr;   // (N)
  double* head = nullptr;        // (chunks, C)
  double* tail = nullptr;        // (chunks, C)
  void* sort_temp = nullptr;
  size_t sort_temp_bytes = 0;

  size_t carve(void* base, int64_t N, int C, bool tables, size_t ln_bytes, bool sort, size_t sort_bytes) {
    ScratchCarver s(base);
    const int64_t chunks = ceil_div(N, kChunk);
    ds = s.take<float>(tables ? static_cast<size_t>(N) * C : 0);
    ln = s.take<char>(ln_bytes);
    keys_in = s.take<uint32_t>(sort ? N : 0);
    keys_out = s.take<uint32_t>(sort ? N : 0);
    rows_in = s.take<int32_t>(sort ? N : 0);
    rows_out = s.take<int32_t>(sort ? N : 0);
    head = s.take<double>(sort ? static_cast<size_t>(chunks) * C : 0);
    tail = s.take<double>(sort ? static_cast<size_t>(chunks) * C : 0);
    sort_temp = s.take<char>(sort ? sort_bytes : 0);
    sort_temp_bytes = sort_bytes;
    return s.bytes();
  }
};

// table[index[r]] += ds[r] for every row r, deterministically (see the file comment).
template <class T>
void scatter_rows(const int32_t* index, int limit, int n, int C, const EmbeddingScratch& s, T* table,
                  const Context& ctx) {
  const int bits = key_bits(limit);
  FT_LAUNCH(static_cast<unsigned>(ceil_div(n, 256)), 256, 0, ctx.stream, scatter_keys_kernel)(
      index, n, limit, s.keys_in, s.rows_in);
  FT_CUDA_CHECK_LAUNCH();
  sort_rows_by_key(s.sort_temp, s.sort_temp_bytes, s.keys_in, s.keys_out, s.rows_in, s.rows_out, n, bits, ctx.stream);
  const dim3 grid(static_cast<unsigned>(ceil_div(C, kScatterThreads)), static_cast<unsigned>(ceil_div(n, kChunk)));
  FT_LAUNCH(grid, kScatterThreads, 0, ctx.stream, scatter_chunks_kernel<T>)(
      s.keys_out, s.rows_out, n, C, static_cast<uint32_t>(limit), s.ds, table, s.head, s.tail);
  FT_CUDA_CHECK_LAUNCH();
  FT_LAUNCH(grid, kScatterThreads, 0, ctx.stream, scatter_carry_kernel<T>)(
      s.keys_out, n, C, static_cast<uint32_t>(limit), s.head, s.tail, table);
  FT_CUDA_CHECK_LAUNCH();
}

template <class Args>
void check_shapes(const char* op, const Args& a) {
  FT_CHECK(a.C > 0, op, ": hidden size ", a.C, " must be positive");
  FT_CHECK(a.T <= a.max_positions, op, ": sequence length ", a.T, " exceeds the ", a.max_positions,
           " positions of the position embedding table");
  FT_CHECK(a.type_vocab >= 1, op, ": the token type table is empty");
  FT_CHECK(ceil_div(static_cast<int64_t>(a.B) * a.T, kChunk) <= 65535, op, ": batch of ", a.B, " x ", a.T,
           " tokens is too large for one embedding backward");
}

}  // namespace

template <class Real>
void embedding_forward(const EmbeddingForwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.B == 0 || a.T == 0) return;
  check_shapes("embedding_forward", a);
  LnRowsForward<T> p;
  p.N = a.B * a.T;
  p.C = a.C;
  p.src.ids = a.input_ids;
  p.src.type_ids = a.token_type_ids;
  p.src.word = dev(a.word);
  p.src.pos = dev(a.pos);
  p.src.type = dev(a.type);
  p.src.seq_len = a.T;
  p.src.vocab = a.vocab;
  p.src.type_vocab = a.type_vocab;
  p.gamma = dev(a.gamma);
  p.beta = dev(a.beta);
  p.eps = a.eps;
  p.dropout = a.dropout;
  if (!a.dropout.active()) p.dropout.p = 0.0f;
  p.out = dev(a.out);
  p.mean = a.mean;
  p.rstd = a.rstd;
  launch_ln_rows_forward(p, ctx);
}

template <class Real>
void embedding_backward(const EmbeddingBackwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  const bool tables = a.dword || a.dpos || a.dtype;
  if (a.B == 0 || a.T == 0 || (!tables && !a.dgamma && !a.dbeta)) return;
  check_shapes("embedding_backward", a);
  const int N = a.B * a.T, C = a.C;

  LnRowsBackward<T> p;
  p.N = N;
  p.C = C;
  p.src.ids = a.input_ids;
  p.src.type_ids = a.token_type_ids;
  p.src.word = dev(a.word);
  p.src.pos = dev(a.pos);
  p.src.type = dev(a.type);
  p.src.seq_len = a.T;
  p.src.vocab = a.vocab;
  p.src.type_vocab = a.type_vocab;
  p.gamma = dev(a.gamma);
  p.mean = a.mean;
  p.rstd = a.rstd;
  p.dout = dev(a.dout);
  p.dropout = a.dropout;
  if (!a.dropout.active()) p.dropout.p = 0.0f;
  p.dgamma = dev(a.dgamma);
  p.dbeta = dev(a.dbeta);

  const bool sort = a.dword || a.dtype;
  const size_t ln_bytes = ln_rows_backward_scratch_bytes(p, ctx);
  const size_t sort_bytes =
      sort ? std::max(sort_rows_temp_bytes(N, key_bits(a.vocab)), sort_rows_temp_bytes(N, key_bits(a.type_vocab)))
           : 0;
  EmbeddingScratch s;
  const size_t bytes = s.carve(nullptr, N, C, tables, ln_bytes, sort, sort_bytes);
  s.carve(ctx.scratch->get(bytes), N, C, tables, ln_bytes, sort, sort_bytes);
  p.din_f32 = s.ds;

  launch_ln_rows_backward(p, s.ln, ctx);
  if (a.dpos) {
    const int64_t work = static_cast<int64_t>(a.T) * C;
    FT_LAUNCH(static_cast<unsigned>(ceil_div(work, 256)), 256, 0, ctx.stream, dpos_kernel<T>)(
        s.ds, a.B, a.T, C, dev(a.dpos));
    FT_CUDA_CHECK_LAUNCH();
  }
  if (a.dword) scatter_rows(a.input_ids, a.vocab, N, C, s, dev(a.dword), ctx);
  if (a.dtype) scatter_rows(a.token_type_ids, a.type_vocab, N, C, s, dev(a.dtype), ctx);
}

template void embedding_forward<float>(const EmbeddingForwardArgs<float>&, const Context&);
template void embedding_forward<bf16>(const EmbeddingForwardArgs<bf16>&, const Context&);
template void embedding_backward<float>(const EmbeddingBackwardArgs<float>&, const Context&);
template void embedding_backward<bf16>(const EmbeddingBackwardArgs<bf16>&, const Context&);

}  // namespace ft::cuda
