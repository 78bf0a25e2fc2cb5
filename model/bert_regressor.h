// BertRegressor<Real>: Hugging Face's BertForSequenceClassification with num_labels = 1 (MSE
// regression), its forward and its hand-written backward written out layer by layer against
// Backend<Real>, and the AdamW step. It never knows which backend runs it.
//
// Buffers (all in the backend's memory):
//   params  (layout.total)   the working parameters, laid out by bert_param_layout()
//   master  (layout.total)   fp32 master weights (only when Real is bf16; else params is master)
//   grads   (trainable)      gradients of the trainable groups only, group after group
//   m, v    (trainable)      AdamW moments, indexed like grads
//   activations              sized for the largest (B, T) seen so far, grown on demand
// Frozen groups get no gradient and no optimizer state, and the backward pass stops below the
// lowest trainable group.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "model/bert_config.h"
#include "model/bert_params.h"
#include "model/checkpoint.h"
#include "model/trainable_groups.h"

namespace ft {

// One batch on the host, right-padded to its longest sequence T.
struct ModelBatch {
  int B = 0, T = 0;
  std::vector<int32_t> input_ids;       // (B, T), padded with the pad id
  std::vector<int32_t> token_type_ids;  // (B, T)
  std::vector<int32_t> lengths;         // (B) real tokens per sequence, [CLS] and [SEP] included
  std::vector<float> targets;           // (B); empty when only predicting
};

// Dropout probabilities in effect (the config's, or the CLI's overrides).
struct DropoutRates {
  float hidden = 0.1f;
  float attention = 0.1f;
  float classifier = 0.1f;
  static DropoutRates from_config(const BertConfig& c) {
    return {c.hidden_dropout_prob, c.attention_probs_dropout_prob, c.head_dropout()};
  }
};

struct AdamWSettings {
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.0f;  // applied to `decay` parameters only (HF Trainer's rule)
};

// Host copies of the optimizer's state, for checkpoints.
struct OptimizerState {
  int64_t step = 0;
  std::vector<double> m, v;  // indexed like the gradient buffer
};

template <class Real>
class BertRegressor {
 public:
  BertRegressor(Backend<Real>& backend, const BertConfig& config, TrainableGroups trainable);
  ~BertRegressor();
  BertRegressor(const BertRegressor&) = delete;
  BertRegressor& operator=(const BertRegressor&) = delete;

  const BertConfig& config() const;
  const BertParamLayout& layout() const;
  const TrainableGroups& trainable() const;
  int64_t trainable_count() const;  // real (unpadded) trainable parameters

  // Parameters in canonical names (F32, as from load_bert_checkpoint) in and out.
  void load_params(const StateDict& params);
  StateDict params_to_host() const;
  StateDict grads_to_host() const;  // trainable parameters only

  struct Output {
    std::vector<float> pred;  // (B)
    double loss = 0.0;        // mean squared error over the batch (0 without targets)
  };
  // training = true applies dropout (rates, seed, step); false is evaluation (no dropout).
  Output forward(const ModelBatch& batch, bool training, const DropoutRates& rates, uint64_t seed, uint32_t step);
  // Backward of the last forward (which must have had targets): parameter gradients += loss_scale * dL/dθ.
  void backward(float loss_scale = 1.0f);

  // ---- the pooler and head alone, on cached encoder outputs (model/train/cached_head.h)
  // When nothing below the pooler trains or drops out, an example's [CLS] row of the last layer is
  // the same in every epoch. head_forward runs the pooler (when it trains: `features` are then
  // [CLS] rows; else they are the pooled vectors) and the head on `features` (B, C, backend memory,
  // kept alive until head_backward), with dropout p on the head's input when training, through
  // this model's own parameters; head_backward accumulates their gradients, so zero_grad,
  // grad_norm, optimizer_step and the optimizer state are the full model's.
  Output head_forward(const Real* features, int B, const std::vector<float>& targets, bool training,
                      float classifier_p, uint64_t seed, uint32_t step);
  void head_backward(float loss_scale);
  // pooled = tanh(cls Wp^T + bp) for the B rows of `cls` (B, C) into `pooled` (B, C), backend memory.
  void pool(const Real* cls, int B, Real* pooled);
  void zero_grad();
  double grad_norm();  // global L2 norm of the trainable gradients
  // One AdamW step on the trainable parameters with gradients multiplied by grad_scale (clipping).
  void optimizer_step(const AdamWSettings& settings, float lr, float grad_scale);

  OptimizerState optimizer_state() const;
  void set_optimizer_state(const OptimizerState& state);

  size_t peak_memory() const;
  // Sizes the activation arenas once for the largest batches a run will see (training batches of
  // train_batch x train_length, evaluation batches of eval_batch x eval_length), so that no step
  // allocates: a run that reserves first allocates nothing in steady state, and runs out of memory,
  // if it must, before its first step rather than at its longest batch.
  void reserve(int train_batch, int train_length, int eval_batch, int eval_length);

  // The final encoder layer's output of the last forward (HF's last_hidden_state), (B, T, C) on the
  // host, padded rows included.
  std::vector<float> last_hidden_state() const;

  // Raw buffers in the backend's memory, for tests that poke single values (gradient checks on the
  // host-addressable CPU backend). params_data() is the working copy laid out by layout(); under bf16
  // writing it bypasses the master weights. grads_data() holds grad_size() values: trainable groups
  // packed in layout order, each laid out like its slice of the parameter buffer.
  Real* params_data();
  const Real* grads_data() const;
  int64_t grad_size() const;
  // Offset of a parameter's gradient in grads_data(); -1 when its group is frozen.
  int64_t grad_offset(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

extern template class BertRegressor<float>;
extern template class BertRegressor<double>;
extern template class BertRegressor<bf16>;

}  // namespace ft
