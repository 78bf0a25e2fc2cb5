// Training the pooler and/or the regression head on cached encoder outputs.
//
// When nothing below the pooler trains and the frozen layers run without dropout, the encoder's
// output for an example is the same in every epoch. CachedHead computes each example's [CLS]
// vector once (the model's own forward in evaluation mode), and, with the pooler frozen too, the
// pooled vector; every training step then runs only the pooler (if it trains) and the head on them,
// through the model itself (BertRegressor::head_forward / head_backward): the same parameters,
// gradients, dropout streams, AdamW segments and optimizer state, so there is one learner and
// checkpoints are the model's. The updates are the ones the full forward would make, up to the
// float rounding of features computed in other batch shapes (docs/performance.md, "Determinism").
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/backend.h"
#include "model/bert_regressor.h"
#include "model/data/batching.h"

namespace ft {

template <class Real>
class CachedHead {
 public:
  // `model` holds the parameters (already loaded) and trains; its trainable groups must be a subset
  // of {pooler, head} with the head among them. The features of `sets` are computed here, in
  // evaluation batches of eval_batch_size.
  CachedHead(Backend<Real>& backend, BertRegressor<Real>& model, const std::vector<const EncodedSet*>& sets,
             int eval_batch_size, int32_t pad_id);
  ~CachedHead();
  CachedHead(const CachedHead&) = delete;
  CachedHead& operator=(const CachedHead&) = delete;

  static bool supports(const BertParamLayout& layout, const TrainableGroups& trainable);

  // One training micro-batch of set `set_index` (dropout on the head's input with `classifier_p`).
  // Returns the batch's mean squared error; the model's gradients accumulate scaled by loss_scale.
  double train_micro(int set_index, const std::vector<int64_t>& indices, float classifier_p, uint64_t seed,
                     uint32_t step, float loss_scale);
  // Predictions (no dropout) for every example of set `set_index`, in order.
  std::vector<double> predict(int set_index, int batch_size);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

extern template class CachedHead<float>;
extern template class CachedHead<double>;
extern template class CachedHead<bf16>;

}  // namespace ft
