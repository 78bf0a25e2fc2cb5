// The argument structs of every op: the contract that the CPU backend (core/cpu/) and the CUDA
// backend (cuda/) both implement, and that model/ calls through Backend<Real> (core/backend.h).
//
// Conventions (held by every op, both backends):
//  - Real is the activation/parameter type: float or double on the CPU, float or bf16 on CUDA.
//    Stat = stat_t<Real> is the type of per-row statistics, predictions, targets and losses.
//  - All pointers live in the backend's memory (host for CPU, device for CUDA), except where a
//    field says "host".
//  - Shapes are written next to each buffer, row-major: B batch, T padded sequence length of the
//    batch, C hidden size, H heads, D head size (C = H * D), F intermediate size, N = B * T rows.
//  - Activation gradients are written (=) unless the struct has an `accumulate` flag set;
//    parameter gradients always accumulate (+=). A null gradient pointer means "not needed": the
//    op skips that work (frozen parameters, or no gradient wanted below the lowest trainable group).
//  - Dropout masks are never stored: both directions draw them from Philox (core/philox.h) with the
//    DropoutSpec and the element index written next to each DropoutSpec.
//  - Sequences are right-padded; lengths[b] is the number of real tokens of sequence b (>= 1).
//    Keys j >= lengths[b] get probability 0, which is what Hugging Face's additive
//    finfo.min mask gives. Padded query rows are computed like real ones (their outputs never
//    reach a real row).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/philox.h"

namespace ft {

struct DropoutSpec {
  float p = 0.0f;         // drop probability; 0 disables dropout
  uint64_t seed = 0;      // the run's seed
  uint32_t stream = 0;    // dropout_stream(layer, site)
  uint32_t step = 0;      // micro-batch counter of the run (distinct masks each step)
  bool active() const { return p > 0.0f; }
};

// ---- embedding: out = dropout(LayerNorm(word[ids] + pos[t] + type[type_ids]))
// dropout element index: row * C + c.
template <class Real>
struct EmbeddingForwardArgs {
  int B = 0, T = 0, C = 0;
  int vocab = 0, max_positions = 0, type_vocab = 0;  // rows of the three tables (ids are checked)
  const int32_t* input_ids = nullptr;       // (B, T)
  const int32_t* token_type_ids = nullptr;  // (B, T), null means all zero
  const Real* word = nullptr;               // (vocab, C)
  const Real* pos = nullptr;                // (max_positions, C); position of token t is t
  const Real* type = nullptr;               // (type_vocab, C)
  const Real* gamma = nullptr;              // (C)
  const Real* beta = nullptr;               // (C)
  float eps = 1e-12f;
  DropoutSpec dropout;
  Real* out = nullptr;                      // (B, T, C)
  stat_t<Real>* mean = nullptr;             // (B, T) saved for backward
  stat_t<Real>* rstd = nullptr;             // (B, T) saved for backward
};

// Recomputes the pre-LayerNorm sum from the tables, so nothing but mean/rstd is saved.
template <class Real>
struct EmbeddingBackwardArgs {
  int B = 0, T = 0, C = 0;
  int vocab = 0, max_positions = 0, type_vocab = 0;
  const int32_t* input_ids = nullptr;       // (B, T)
  const int32_t* token_type_ids = nullptr;  // (B, T) or null
  const Real* word = nullptr;
  const Real* pos = nullptr;
  const Real* type = nullptr;
  const Real* gamma = nullptr;
  const Real* beta = nullptr;
  DropoutSpec dropout;
  const stat_t<Real>* mean = nullptr;       // (B, T)
  const stat_t<Real>* rstd = nullptr;       // (B, T)
  const Real* dout = nullptr;               // (B, T, C)
  Real* dword = nullptr;                    // (vocab, C)  +=
  Real* dpos = nullptr;                     // (max_positions, C)  +=
  Real* dtype = nullptr;                    // (type_vocab, C)  +=
  Real* dgamma = nullptr;                   // (C)  +=
  Real* dbeta = nullptr;                    // (C)  +=
};

// ---- linear: y = x W^T + b
template <class Real>
struct LinearForwardArgs {
  int N = 0, in = 0, out = 0;
  const Real* x = nullptr;   // (N, in)
  const Real* w = nullptr;   // (out, in), PyTorch's nn.Linear layout
  const Real* b = nullptr;   // (out) or null
  Real* y = nullptr;         // (N, out)
};

template <class Real>
struct LinearBackwardArgs {
  int N = 0, in = 0, out = 0;
  const Real* x = nullptr;   // (N, in)
  const Real* w = nullptr;   // (out, in)
  const Real* dy = nullptr;  // (N, out)
  Real* dx = nullptr;        // (N, in): = dy W, or += when dx_accumulate; null skips
  bool dx_accumulate = false;
  Real* dw = nullptr;        // (out, in)  += dy^T x; null skips
  Real* db = nullptr;        // (out)      += column sums of dy; null skips
};

// ---- layernorm: sum = x + residual (when residual is given); out = (sum - mean) * rstd * gamma + beta
template <class Real>
struct LayerNormForwardArgs {
  int N = 0, C = 0;
  const Real* x = nullptr;         // (N, C)
  const Real* residual = nullptr;  // (N, C) or null
  const Real* gamma = nullptr;     // (C)
  const Real* beta = nullptr;      // (C)
  float eps = 1e-12f;
  Real* sum = nullptr;             // (N, C) x + residual, saved for backward; required with residual
  Real* out = nullptr;             // (N, C)
  stat_t<Real>* mean = nullptr;    // (N)
  stat_t<Real>* rstd = nullptr;    // (N) 1 / sqrt(var + eps), biased variance as PyTorch
};

template <class Real>
struct LayerNormBackwardArgs {
  int N = 0, C = 0;
  const Real* in = nullptr;            // (N, C) the LayerNorm input (sum when there was a residual)
  const Real* gamma = nullptr;         // (C)
  const stat_t<Real>* mean = nullptr;  // (N)
  const stat_t<Real>* rstd = nullptr;  // (N)
  const Real* dout = nullptr;          // (N, C)
  Real* din = nullptr;                 // (N, C) = (or += with din_accumulate); null skips
  bool din_accumulate = false;
  Real* dgamma = nullptr;              // (C) +=; null skips
  Real* dbeta = nullptr;               // (C) +=; null skips
};

// ---- GELU, exact: y = x * 0.5 * (1 + erf(x / sqrt(2)))
template <class Real>
struct GeluForwardArgs {
  int64_t n = 0;
  const Real* x = nullptr;  // (n)
  Real* y = nullptr;        // (n), may alias x
};

template <class Real>
struct GeluBackwardArgs {
  int64_t n = 0;
  const Real* x = nullptr;   // (n) the forward input
  const Real* dy = nullptr;  // (n)
  Real* dx = nullptr;        // (n) =, may alias dy
};

// ---- dropout (in place): x *= keep(idx) / (1 - p), idx = element index in x
template <class Real>
struct DropoutArgs {
  int64_t n = 0;
  DropoutSpec dropout;
  Real* x = nullptr;   // (n) forward: activations; backward: their gradient, masked the same way
};

// ---- attention: out = softmax(q k^T * scale + mask) v per (b, h), dropout on the probabilities
// q, k, v are read straight from the fused projection qkv, row (b, t) = [q | k | v], each C wide
// with head h at columns h*D .. h*D+D-1. Dropout element index: ((b * H + h) * T + i) * T + j.
template <class Real>
struct AttentionForwardArgs {
  int B = 0, T = 0, H = 0, D = 0;
  const Real* qkv = nullptr;          // (B, T, 3C)
  const int32_t* lengths = nullptr;   // (B)
  float scale = 0.0f;                 // 1 / sqrt(D)
  DropoutSpec dropout;
  Real* out = nullptr;                // (B, T, C) heads concatenated (HF's context layer)
  stat_t<Real>* lse = nullptr;        // (B, H, T) logsumexp of the scaled, masked scores
};

template <class Real>
struct AttentionBackwardArgs {
  int B = 0, T = 0, H = 0, D = 0;
  const Real* qkv = nullptr;          // (B, T, 3C)
  const int32_t* lengths = nullptr;   // (B)
  float scale = 0.0f;
  DropoutSpec dropout;
  const Real* out = nullptr;          // (B, T, C) forward output
  const stat_t<Real>* lse = nullptr;  // (B, H, T)
  const Real* dout = nullptr;         // (B, T, C)
  Real* dqkv = nullptr;               // (B, T, 3C) =
};

// ---- pooler: pooled = tanh(hidden[:, 0] W^T + b)
template <class Real>
struct PoolerForwardArgs {
  int B = 0, T = 0, C = 0;
  const Real* hidden = nullptr;  // (B, T, C) last encoder layer
  const Real* w = nullptr;       // (C, C)
  const Real* b = nullptr;       // (C)
  Real* pooled = nullptr;        // (B, C)
};

template <class Real>
struct PoolerBackwardArgs {
  int B = 0, T = 0, C = 0;
  const Real* hidden = nullptr;   // (B, T, C)
  const Real* w = nullptr;        // (C, C)
  const Real* pooled = nullptr;   // (B, C) forward output (tanh' = 1 - pooled^2)
  const Real* dpooled = nullptr;  // (B, C)
  Real* dhidden = nullptr;        // (B, T, C) = : rows t = 0 get the gradient, all others 0; null skips
  Real* dw = nullptr;             // (C, C) +=; null skips
  Real* db = nullptr;             // (C) +=; null skips
};

// ---- regression head and MSE loss: pred = dropout(pooled) w + b; loss = mean_b (pred - y)^2
// dropout element index: b * C + c.
template <class Real>
struct RegressionHeadForwardArgs {
  int B = 0, C = 0;
  const Real* pooled = nullptr;          // (B, C)
  const Real* w = nullptr;               // (C) classifier.weight (1, C)
  const Real* b = nullptr;               // (1)
  DropoutSpec dropout;
  const stat_t<Real>* targets = nullptr; // (B) or null (prediction only)
  stat_t<Real>* pred = nullptr;          // (B)
  stat_t<Real>* loss = nullptr;          // (1) mean squared error; written only with targets
};

template <class Real>
struct RegressionHeadBackwardArgs {
  int B = 0, C = 0;
  const Real* pooled = nullptr;          // (B, C)
  const Real* w = nullptr;               // (C)
  DropoutSpec dropout;
  const stat_t<Real>* targets = nullptr; // (B)
  const stat_t<Real>* pred = nullptr;    // (B)
  float loss_scale = 1.0f;               // d(total)/d(loss): 1 / accumulation steps
  Real* dpooled = nullptr;               // (B, C) =; null skips
  Real* dw = nullptr;                    // (C) +=; null skips
  Real* db = nullptr;                    // (1) +=; null skips
};

// ---- AdamW, exactly torch.optim.AdamW (decoupled weight decay), over segments of the contiguous
// parameter buffer. Gradients are multiplied by grad_scale first (the clipping coefficient).
struct AdamWSegment {
  int64_t param_offset = 0;  // into master / params
  int64_t grad_offset = 0;   // into grads / m / v
  int64_t count = 0;
  float weight_decay = 0.0f;
};

template <class Real>
struct AdamWArgs {
  master_t<Real>* master = nullptr;   // fp32/f64 master weights
  Real* params = nullptr;             // working copy written from master; may equal master
  const Real* grads = nullptr;
  master_t<Real>* m = nullptr;        // first moment, indexed like grads
  master_t<Real>* v = nullptr;        // second moment
  const AdamWSegment* segments = nullptr;  // host array
  int num_segments = 0;
  float lr = 0.0f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  int64_t step = 1;                   // 1-based step count after this update (bias correction)
  float grad_scale = 1.0f;
};

}  // namespace ft
