// What the training loop drives: the full model (FullLearner), or the pooler and head on cached
// encoder outputs (CachedLearner). Both hold the train, valid and test sets and present the same
// steps, predictions, parameters and optimizer state, so the loop and the checkpoints do not know
// which one runs.
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "model/bert_regressor.h"
#include "model/data/batching.h"
#include "model/data/dataset.h"
#include "model/train/cached_head.h"
#include "model/train/inference.h"

namespace ft {

// The sets a Learner holds, in this order: train, valid, test.
inline size_t set_index(Split split) {
  FT_CHECK(split == Split::Train || split == Split::Valid || split == Split::Test, "no set for this split");
  return split == Split::Train ? 0 : split == Split::Valid ? 1 : 2;
}

// The parts of a run that the training loop drives: the full model, or the cached pooler/head.
// Both train the same BertRegressor, so gradients, the optimizer and the state are the model's
// own; the two differ only in how a micro-batch and a prediction reach it.
template <class Real>
class Learner {
 public:
  explicit Learner(BertRegressor<Real>& model) : model_(model) {}
  virtual ~Learner() = default;
  virtual double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) = 0;
  virtual std::vector<double> predict(Split split) = 0;  // Valid or Test: predictions for that set

  void zero_grad() { model_.zero_grad(); }
  double grad_norm() { return model_.grad_norm(); }
  void step(const AdamWSettings& s, float lr, float grad_scale) { model_.optimizer_step(s, lr, grad_scale); }
  StateDict params() { return model_.params_to_host(); }
  OptimizerState optimizer_state() { return model_.optimizer_state(); }
  void load(const StateDict& params, const OptimizerState* optimizer) {
    model_.load_params(params);
    if (optimizer) model_.set_optimizer_state(*optimizer);
  }

 protected:
  BertRegressor<Real>& model_;
};

template <class Real>
class FullLearner final : public Learner<Real> {
 public:
  FullLearner(BertRegressor<Real>& model, const std::vector<const EncodedSet*>& sets, int32_t pad_id,
              DropoutRates rates, uint64_t seed, int eval_batch_size)
      : Learner<Real>(model), sets_(sets), pad_(pad_id), rates_(rates), seed_(seed), eval_batch_(eval_batch_size) {}
  double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) override {
    const ModelBatch batch = make_batch(*sets_[0], indices, pad_);
    const auto out = this->model_.forward(batch, /*training=*/true, rates_, seed_, micro_step);
    this->model_.backward(loss_scale);
    return out.loss;
  }
  std::vector<double> predict(Split split) override {
    return predict_set(this->model_, *sets_[set_index(split)], eval_batch_, pad_);
  }

 private:
  std::vector<const EncodedSet*> sets_;
  int32_t pad_;
  DropoutRates rates_;
  uint64_t seed_;
  int eval_batch_;
};

template <class Real>
class CachedLearner final : public Learner<Real> {
 public:
  CachedLearner(Backend<Real>& backend, BertRegressor<Real>& model, const std::vector<const EncodedSet*>& sets,
                int32_t pad_id, float classifier_p, uint64_t seed, int eval_batch_size)
      : Learner<Real>(model), head_(backend, model, sets, eval_batch_size, pad_id), p_(classifier_p), seed_(seed),
        eval_batch_(eval_batch_size) {}
  double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) override {
    return head_.train_micro(0, indices, p_, seed_, micro_step, loss_scale);
  }
  std::vector<double> predict(Split split) override {
    return head_.predict(static_cast<int>(set_index(split)), eval_batch_);
  }

 private:
  CachedHead<Real> head_;
  float p_;
  uint64_t seed_;
  int eval_batch_;
};

}  // namespace ft
