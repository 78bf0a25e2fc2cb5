// Training the pooler and/or the regression head on cached encoder outputs.
//
// When nothing below the pooler trains and the frozen layers run without dropout, the encoder's
// output for an example is the same in every epoch. CachedHead computes each example's [CLS]
// vector once (BertRegressor's own forward in evaluation mode), and, with the pooler frozen too,
// the pooled vector; every training step then runs only the pooler (if it trains) and the head,
// through the same backend ops, dropout streams, gradient layout and AdamW segments as
// BertRegressor: the updates are the ones the full model would make, up to the float rounding of
// features computed in other batch shapes (docs/performance.md, "Determinism"). Its optimizer state is
// indexed like BertRegressor's, so checkpoints are interchangeable.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/backend.h"
#include "model/data/batching.h"
#include "model/bert_regressor.h"

namespace ft {

template <class Real>
class CachedHead {
 public:
  // `encoder` holds the parameters (already loaded); its trainable groups must be a subset of
  // {pooler, head} with the head among them. The features of `sets` are computed here, in
  // evaluation batches of eval_batch_size.
  CachedHead(Backend<Real>& backend, BertRegressor<Real>& encoder, const std::vector<const EncodedSet*>& sets,
             int eval_batch_size, int32_t pad_id);
  ~CachedHead();
  CachedHead(const CachedHead&) = delete;
  CachedHead& operator=(const CachedHead&) = delete;

  static bool supports(const BertParamLayout& layout, const TrainableGroups& trainable);

  // One training micro-batch of set `set_index` (dropout on the head's input with `classifier_p`).
  // Returns the batch's mean squared error; gradients accumulate scaled by loss_scale.
  double train_micro(int set_index, const std::vector<int64_t>& indices, float classifier_p, uint64_t seed,
                     uint32_t step, float loss_scale);
  void zero_grad();
  double grad_norm();
  void optimizer_step(const AdamWSettings& settings, float lr, float grad_scale);
  // Predictions (no dropout) for every example of set `set_index`, in order.
  std::vector<double> predict(int set_index, int batch_size);

  // All parameters: the encoder's (frozen) with this object's pooler and head.
  StateDict params_to_host() const;
  // Takes the pooler and head tensors of `params` (the rest must equal the encoder's: they are
  // frozen; not checked).
  void load_params(const StateDict& params);
  OptimizerState optimizer_state() const;
  void set_optimizer_state(const OptimizerState& state);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

extern template class CachedHead<float>;
extern template class CachedHead<double>;
extern template class CachedHead<bf16>;

}  // namespace ft
