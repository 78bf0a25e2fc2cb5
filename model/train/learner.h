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
template <class Real>
class Learner {
 public:
  virtual ~Learner() = default;
  virtual double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) = 0;
  virtual void zero_grad() = 0;
  virtual double grad_norm() = 0;
  virtual void step(const AdamWSettings& settings, float lr, float grad_scale) = 0;
  virtual std::vector<double> predict(Split split) = 0;  // Valid or Test: predictions for that set
  virtual StateDict params() = 0;
  virtual OptimizerState optimizer_state() = 0;
  virtual void load(const StateDict& params, const OptimizerState* optimizer) = 0;
};

template <class Real>
class FullLearner final : public Learner<Real> {
 public:
  FullLearner(BertRegressor<Real>& model, const std::vector<const EncodedSet*>& sets, int32_t pad_id,
              DropoutRates rates, uint64_t seed, int eval_batch_size)
      : model_(model), sets_(sets), pad_(pad_id), rates_(rates), seed_(seed), eval_batch_(eval_batch_size) {}
  double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) override {
    const ModelBatch batch = make_batch(*sets_[0], indices, pad_);
    const auto out = model_.forward(batch, /*training=*/true, rates_, seed_, micro_step);
    model_.backward(loss_scale);
    return out.loss;
  }
  void zero_grad() override { model_.zero_grad(); }
  double grad_norm() override { return model_.grad_norm(); }
  void step(const AdamWSettings& s, float lr, float grad_scale) override { model_.optimizer_step(s, lr, grad_scale); }
  std::vector<double> predict(Split split) override {
    return predict_set(model_, *sets_[set_index(split)], eval_batch_, pad_);
  }
  StateDict params() override { return model_.params_to_host(); }
  OptimizerState optimizer_state() override { return model_.optimizer_state(); }
  void load(const StateDict& params, const OptimizerState* optimizer) override {
    model_.load_params(params);
    if (optimizer) model_.set_optimizer_state(*optimizer);
  }

 private:
  BertRegressor<Real>& model_;
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
      : model_(model), head_(backend, model, sets, eval_batch_size, pad_id), p_(classifier_p), seed_(seed),
        eval_batch_(eval_batch_size) {}
  double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) override {
    return head_.train_micro(0, indices, p_, seed_, micro_step, loss_scale);
  }
  // Parameters, gradients and optimizer state are the model's own: the same calls as FullLearner.
  void zero_grad() override { model_.zero_grad(); }
  double grad_norm() override { return model_.grad_norm(); }
  void step(const AdamWSettings& s, float lr, float grad_scale) override { model_.optimizer_step(s, lr, grad_scale); }
  std::vector<double> predict(Split split) override {
    return head_.predict(static_cast<int>(set_index(split)), eval_batch_);
  }
  StateDict params() override { return model_.params_to_host(); }
  OptimizerState optimizer_state() override { return model_.optimizer_state(); }
  void load(const StateDict& params, const OptimizerState* optimizer) override {
    model_.load_params(params);
    if (optimizer) model_.set_optimizer_state(*optimizer);
  }

 private:
  BertRegressor<Real>& model_;
  CachedHead<Real> head_;
  float p_;
  uint64_t seed_;
  int eval_batch_;
};

}  // namespace ft
