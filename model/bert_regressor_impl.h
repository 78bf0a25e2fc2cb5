// The inside of BertRegressor<Real> (model/bert_regressor.h), shared by the files that implement
// it: bert_regressor.cpp (buffers, parameters in and out, optimizer), bert_forward.cpp and
// bert_backward.cpp (the passes, layer by layer). Not part of the public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/backend.h"
#include "core/philox.h"
#include "model/bert_config.h"
#include "model/bert_params.h"
#include "model/bert_regressor.h"

namespace ft::detail {

// One encoder layer's parameters (or their gradients) inside the parameter (gradient) buffer.
// Gradient pointers of a frozen layer are all null.
template <class T>
struct LayerTensors {
  T* wqkv = nullptr;   // (3C, C) query, key, value weights back to back: the fused projection
  T* bqkv = nullptr;   // (3C)
  T* wo = nullptr;     // (C, C) attention.output.dense
  T* bo = nullptr;     // (C)
  T* ln1_g = nullptr;  // (C) attention.output.LayerNorm
  T* ln1_b = nullptr;  // (C)
  T* wi = nullptr;     // (F, C) intermediate.dense
  T* bi = nullptr;     // (F)
  T* wo2 = nullptr;    // (C, F) output.dense
  T* bo2 = nullptr;    // (C)
  T* ln2_g = nullptr;  // (C) output.LayerNorm
  T* ln2_b = nullptr;  // (C)
};

// All parameters (or gradients) of the model as typed views into one buffer.
template <class T>
struct ModelTensors {
  T* word = nullptr;     // (vocab, C)
  T* pos = nullptr;      // (max_positions, C)
  T* type = nullptr;     // (type_vocab, C)
  T* emb_g = nullptr;    // (C) embeddings.LayerNorm
  T* emb_b = nullptr;    // (C)
  std::vector<LayerTensors<T>> layers;
  T* pool_w = nullptr;   // (C, C)
  T* pool_b = nullptr;   // (C)
  T* head_w = nullptr;   // (C) classifier.weight (1, C)
  T* head_b = nullptr;   // (1)
};

// What the forward saves for the backward (and the inputs it reads), for one encoder layer.
template <class Real>
struct LayerActivations {
  using Stat = stat_t<Real>;
  Real* qkv = nullptr;    // (B, T, 3C) fused q | k | v projection
  Real* ctx = nullptr;    // (B, T, C) attention output, heads concatenated
  Stat* lse = nullptr;    // (B, H, T) logsumexp of the attention scores
  Real* sum1 = nullptr;   // (B, T, C) dropout(attention dense) + layer input
  Stat* mean1 = nullptr;  // (B, T)
  Stat* rstd1 = nullptr;  // (B, T)
  Real* x1 = nullptr;     // (B, T, C) LayerNorm(sum1)
  Real* h = nullptr;      // (B, T, F) intermediate dense, GELU's input
  Real* g = nullptr;      // (B, T, F) GELU(h)
  Real* sum2 = nullptr;   // (B, T, C) dropout(output dense) + x1
  Stat* mean2 = nullptr;  // (B, T)
  Stat* rstd2 = nullptr;  // (B, T)
  Real* out = nullptr;    // (B, T, C) LayerNorm(sum2): the layer's output
};

// Carves typed, 64-byte aligned buffers out of one backend allocation. Used twice: once to count
// the bytes (base null), once to hand out pointers.
class ArenaCarver {
 public:
  explicit ArenaCarver(char* base) : base_(base) {}
  template <class T>
  T* take(int64_t n) {
    const size_t at = offset_;
    offset_ += (static_cast<size_t>(n) * sizeof(T) + 63) / 64 * 64;
    return base_ ? reinterpret_cast<T*>(base_ + at) : nullptr;
  }
  size_t bytes() const { return offset_; }

 private:
  char* base_;
  size_t offset_ = 0;
};

// Forward activations and the batch's inputs, sized for up to `rows` = B * T rows and `batch` = B
// sequences.
template <class Real>
struct ForwardArena {
  using Stat = stat_t<Real>;
  int64_t rows = 0, batch = 0;  // capacity
  int32_t* input_ids = nullptr;       // (B, T)
  int32_t* token_type_ids = nullptr;  // (B, T)
  int32_t* lengths = nullptr;         // (B)
  Stat* targets = nullptr;            // (B)
  Real* emb = nullptr;                // (B, T, C) embedding output, the input of layer 0
  Stat* emb_mean = nullptr;           // (B, T)
  Stat* emb_rstd = nullptr;           // (B, T)
  std::vector<LayerActivations<Real>> layers;
  Real* proj = nullptr;               // (B, T, C) scratch: an output projection before its residual LayerNorm
  Real* pooled = nullptr;             // (B, C)
  Stat* pred = nullptr;               // (B)
  Stat* loss = nullptr;               // (1)

  void carve(ArenaCarver& a, const BertConfig& c, int64_t N, int64_t B) {
    const int64_t C = c.hidden_size, F = c.intermediate_size, H = c.num_attention_heads;
    input_ids = a.take<int32_t>(N);
    token_type_ids = a.take<int32_t>(N);
    lengths = a.take<int32_t>(B);
    targets = a.take<Stat>(B);
    emb = a.take<Real>(N * C);
    emb_mean = a.take<Stat>(N);
    emb_rstd = a.take<Stat>(N);
    layers.assign(static_cast<size_t>(c.num_hidden_layers), {});
    for (auto& l : layers) {
      l.qkv = a.take<Real>(N * 3 * C);
      l.ctx = a.take<Real>(N * C);
      l.lse = a.take<Stat>(N * H);
      l.sum1 = a.take<Real>(N * C);
      l.mean1 = a.take<Stat>(N);
      l.rstd1 = a.take<Stat>(N);
      l.x1 = a.take<Real>(N * C);
      l.h = a.take<Real>(N * F);
      l.g = a.take<Real>(N * F);
      l.sum2 = a.take<Real>(N * C);
      l.mean2 = a.take<Stat>(N);
      l.rstd2 = a.take<Stat>(N);
      l.out = a.take<Real>(N * C);
    }
    proj = a.take<Real>(N * C);
    pooled = a.take<Real>(B * C);
    pred = a.take<Stat>(B);
    loss = a.take<Stat>(1);
  }
};

// Gradient scratch of the backward: the residual stream's gradient and the per-layer temporaries.
// Allocated on the first backward (prediction never needs it); when no encoder layer or embedding
// trains, only dpooled (the backward stops at the pooler).
template <class Real>
struct BackwardArena {
  int64_t rows = 0, batch = 0;  // capacity
  Real* dres = nullptr;     // (B, T, C) gradient of the residual stream (a layer's output, then its input)
  Real* dsum = nullptr;     // (B, T, C) gradient of a LayerNorm input (sum), then of the attention context
  Real* dtmp = nullptr;     // (B, T, C) dropout-masked copy of a gradient
  Real* dffn = nullptr;     // (B, T, F) gradient of GELU's output, then of its input (in place)
  Real* dqkv = nullptr;     // (B, T, 3C)
  Real* dpooled = nullptr;  // (B, C)

  void carve(ArenaCarver& a, const BertConfig& c, int64_t N, int64_t B, bool through_encoder) {
    const int64_t C = c.hidden_size, F = c.intermediate_size;
    dpooled = a.take<Real>(B * C);
    if (!through_encoder) N = 0;
    dres = a.take<Real>(N * C);
    dsum = a.take<Real>(N * C);
    dtmp = a.take<Real>(N * C);
    dffn = a.take<Real>(N * F);
    dqkv = a.take<Real>(N * 3 * C);
  }
};

// The forward's settings, kept for the backward (which redraws the same dropout masks).
struct LastForward {
  bool valid = false;
  int B = 0, T = 0;
  bool has_targets = false;
  bool training = false;
  DropoutRates rates;
  uint64_t seed = 0;
  uint32_t step = 0;
  std::vector<int32_t> lengths;  // host copy (B)
  const void* features = nullptr;  // head_forward's input (B, C); null after a full forward
};

}  // namespace ft::detail

namespace ft {

template <class Real>
struct BertRegressor<Real>::Impl {
  using Stat = stat_t<Real>;
  using Master = master_t<Real>;
  static constexpr bool kSeparateMaster = !std::is_same_v<Real, Master>;

  Backend<Real>& backend;
  BertConfig config;
  BertParamLayout layout;
  TrainableGroups trainable;
  int lowest_trainable = -1;  // index of the first trainable group; -1 when nothing trains

  BackendBuffer<Real, Real> params;      // (layout.total)
  BackendBuffer<Master, Real> master;    // (layout.total), only when Real is bf16
  BackendBuffer<Real, Real> grads;       // (grad_total) trainable groups, packed in layout order
  BackendBuffer<Master, Real> adam_m;    // (grad_total)
  BackendBuffer<Master, Real> adam_v;    // (grad_total)
  std::vector<int64_t> grad_group_offset;  // per group: offset in grads, -1 when frozen
  int64_t grad_total = 0;
  std::vector<AdamWSegment> segments;    // host: trainable parameters, decay and no-decay runs
  int64_t optimizer_steps = 0;

  detail::ModelTensors<Real> p;  // views into params
  detail::ModelTensors<Real> g;  // views into grads (null for frozen tensors)

  BackendBuffer<char, Real> forward_memory;
  detail::ForwardArena<Real> fwd;
  BackendBuffer<char, Real> backward_memory;
  detail::BackwardArena<Real> bwd;
  detail::LastForward last;

  Impl(Backend<Real>& b, const BertConfig& c, TrainableGroups t);

  int group_of_layer(int l) const { return 1 + l; }
  int pooler_group() const { return 1 + config.num_hidden_layers; }
  int head_group() const { return 2 + config.num_hidden_layers; }
  // Gradient view of a parameter, null when its group is frozen.
  Real* grad_of(const ParamSpec& spec) const;
  int64_t grad_offset_of(const ParamSpec& spec) const;

  void ensure_forward_capacity(int B, int T);
  void ensure_backward_capacity(int B, int T);

  // The targets of a batch into fwd.targets; the forward's predictions (and loss) back to the host.
  void upload_targets(const std::vector<float>& targets) {
    const std::vector<Stat> t(targets.begin(), targets.end());
    backend.upload(fwd.targets, t.data(), t.size() * sizeof(Stat));
  }
  void download_output(int B, bool has_loss, std::vector<float>* pred, double* loss) {
    std::vector<Stat> p_host(static_cast<size_t>(B));
    backend.download(p_host.data(), fwd.pred, p_host.size() * sizeof(Stat));
    pred->assign(p_host.begin(), p_host.end());
    if (has_loss) {
      Stat l = 0;
      backend.download(&l, fwd.loss, sizeof(l));
      *loss = static_cast<double>(l);
    }
  }

  DropoutSpec dropout(float p, uint32_t layer, DropoutSite site) const {
    DropoutSpec d;
    d.p = last.training ? p : 0.0f;
    d.seed = last.seed;
    d.stream = dropout_stream(layer, site);
    d.step = last.step;
    return d;
  }

  void run_forward();   // bert_forward.cpp: over the uploaded batch described by `last`
  void run_backward(float loss_scale);  // bert_backward.cpp
};

}  // namespace ft
