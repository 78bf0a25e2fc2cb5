// The LayerNorm row kernels that layernorm.cu and embedding.cu share (both launched from
// layernorm.cu, so each kernel is compiled once).
//
// A row of the LayerNorm input is either a plain row (x, plus a residual when given) or, for the
// embedding, the sum of three table rows (word[id] + type[tt]) + pos[t], recomputed from the tables
// on both passes so that nothing but mean and rstd is saved.
#pragma once

#include <cstdint>

#include "cuda/common.cuh"
#include "cuda/context.h"

namespace ft::cuda {

// Where the rows come from. With ids null: row r is x[r] (+ residual[r]). With ids set: row
// r = b * seq_len + t is (word[ids[r]] + type[type_ids[r] or 0]) + pos[t]; ids outside [0, vocab)
// or type ids outside [0, type_vocab) are reported through Context::status.
template <class T>
struct LnRowSource {
  const T* x = nullptr;         // (N, C)
  const T* residual = nullptr;  // (N, C) or null
  const int32_t* ids = nullptr;       // (N) or null
  const int32_t* type_ids = nullptr;  // (N) or null (all zero)
  const T* word = nullptr;      // (vocab, C)
  const T* pos = nullptr;       // (seq_len.., C)
  const T* type = nullptr;      // (type_vocab, C)
  int seq_len = 1, vocab = 0, type_vocab = 0;
};

template <class T>
struct LnRowsForward {
  int N = 0, C = 0;
  LnRowSource<T> src;
  T* sum = nullptr;  // (N, C) x + residual rounded to T; written when src.residual is set
  const T* gamma = nullptr;
  const T* beta = nullptr;
  float eps = 1e-12f;
  DropoutSpec dropout;  // on the output, element index row * C + c; p = 0 disables
  T* out = nullptr;     // (N, C)
  float* mean = nullptr;  // (N)
  float* rstd = nullptr;  // (N)
};

template <class T>
struct LnRowsBackward {
  int N = 0, C = 0;
  LnRowSource<T> src;   // the LayerNorm input (with a residual, pass the saved sum as src.x)
  const T* gamma = nullptr;
  const float* mean = nullptr;  // (N)
  const float* rstd = nullptr;  // (N)
  const T* dout = nullptr;      // (N, C)
  DropoutSpec dropout;          // applied to dout first (the embedding's output dropout); p = 0: none
  T* din = nullptr;             // (N, C) = or += (din_accumulate); null skips
  bool din_accumulate = false;
  float* din_f32 = nullptr;     // (N, C) = in fp32 (the embedding's scatter input); null skips
  T* dgamma = nullptr;          // (C) +=; null skips
  T* dbeta = nullptr;           // (C) +=; null skips
};

template <class T>
void launch_ln_rows_forward(const LnRowsForward<T>& p, const Context& ctx);

// Scratch needed by launch_ln_rows_backward for its dgamma/dbeta partial sums (0 when neither is
// wanted); `scratch` must hold that many bytes (it comes from the caller's one Scratch::get).
template <class T>
size_t ln_rows_backward_scratch_bytes(const LnRowsBackward<T>& p, const Context& ctx);
template <class T>
void launch_ln_rows_backward(const LnRowsBackward<T>& p, void* scratch, const Context& ctx);

}  // namespace ft::cuda
