// Frozen parameter groups (float CPU backend, tiny 3-layer config, dropout on): the gradients of
// the trainable parameters are bitwise those of the all-trainable run (the backward that stops
// early computes the same thing for what it does compute), frozen parameters never move, and
// frozen groups own no gradient or optimizer memory.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/backend_registry.h"
#include "core/error.h"
#include "model_fixtures.h"

namespace ft {
namespace {

const DropoutRates kRates{0.1f, 0.1f, 0.1f};
constexpr uint64_t kSeed = 5;

BertConfig config3() { return test::tiny_bert_config(3, 16, 4, 32, 29, 16); }

StateDict gradients_with(const std::string& train, int64_t* grad_size = nullptr) {
  const BertConfig config = config3();
  const BertParamLayout layout = bert_param_layout(config);
  auto backend = make_backend<float>(DeviceSpec{});
  BertRegressor<float> model(*backend, config, test::groups_from(layout, train));
  model.load_params(test::random_bert_params(layout, 3));
  model.zero_grad();
  model.forward(test::random_batch({9, 4, 7, 2}, config.vocab_size, 4), true, kRates, kSeed, 3);
  model.backward(0.5f);
  if (grad_size) *grad_size = model.grad_size();
  return model.grads_to_host();
}

TEST(ModelFrozenGroups, TrainableGradientsMatchTheFullBackwardBitwise) {
  const StateDict full = gradients_with("all");
  const BertParamLayout layout = bert_param_layout(config3());
  for (const std::string train : {"head", "pooler", "pooler,head", "encoder.2", "encoder.1-2,head", "encoder.0",
                                  "embeddings", "embeddings,head"}) {
    int64_t grad_size = 0;
    const StateDict part = gradients_with(train, &grad_size);
    const TrainableGroups groups = test::groups_from(layout, train);
    int64_t expected_size = 0;
    size_t expected_tensors = 0;
    for (size_t g = 0; g < groups.size(); ++g)
      if (groups[g]) expected_size += layout.groups[g].size, expected_tensors += layout.groups[g].specs.size();
    EXPECT_EQ(grad_size, expected_size) << train << ": gradient buffer holds only the trainable groups";
    ASSERT_EQ(part.tensors.size(), expected_tensors) << train;
    for (const auto& [name, grad] : part.tensors) {
      const Tensor* ref = full.find(name);
      ASSERT_TRUE(ref) << name;
      EXPECT_TRUE(test::bitwise_equal(grad, *ref)) << "--train " << train << ": gradient of " << name;
    }
  }
}

TEST(ModelFrozenGroups, FrozenParametersNeverMove) {
  const BertConfig config = config3();
  const BertParamLayout layout = bert_param_layout(config);
  const StateDict initial = test::random_bert_params(layout, 3);
  for (const std::string train : {"head", "encoder.1,pooler"}) {
    auto backend = make_backend<float>(DeviceSpec{});
    const TrainableGroups groups = test::groups_from(layout, train);
    BertRegressor<float> model(*backend, config, groups);
    model.load_params(initial);
    AdamWSettings adamw;
    adamw.weight_decay = 0.1f;  // decay must not touch frozen weights either
    for (uint32_t step = 0; step < 3; ++step) {
      model.zero_grad();
      model.forward(test::random_batch({5, 8, 3}, config.vocab_size, 10 + step), true, kRates, kSeed, step);
      model.backward();
      model.optimizer_step(adamw, 1e-2f, 1.0f);
    }
    const StateDict after = model.params_to_host();
    for (const auto& [name, t] : after.tensors) {
      const ParamSpec* spec = layout.find(name);
      const bool trains = groups[static_cast<size_t>(layout.find_group(spec->group) - layout.groups.data())];
      if (trains) {
        EXPECT_FALSE(test::bitwise_equal(t, *initial.find(name))) << train << ": " << name << " did not train";
      } else {
        EXPECT_TRUE(test::bitwise_equal(t, *initial.find(name))) << train << ": frozen " << name << " moved";
      }
    }
  }
}

TEST(ModelFrozenGroups, FrozenGroupsOwnNoGradientOrOptimizerMemory) {
  // BERT-like proportions so that parameters dominate: frozen groups would need gradients (float)
  // and two moments (float) each, 12 bytes per parameter.
  const BertConfig config = test::tiny_bert_config(2, 64, 4, 128, 500, 32);
  const BertParamLayout layout = bert_param_layout(config);
  const StateDict params = test::random_bert_params(layout, 8);
  const ModelBatch batch = test::random_batch({7, 5}, config.vocab_size, 9);
  const auto peak_for = [&](const std::string& train) {
    auto backend = make_backend<float>(DeviceSpec{});
    BertRegressor<float> model(*backend, config, test::groups_from(layout, train));
    model.load_params(params);
    model.forward(batch, true, kRates, kSeed, 0);
    model.backward();
    model.optimizer_step(AdamWSettings{}, 1e-3f, 1.0f);
    return model.peak_memory();
  };
  const size_t all = peak_for("all"), head = peak_for("head");
  const size_t frozen_state = 3 * sizeof(float) * static_cast<size_t>(layout.total - layout.groups.back().size);
  EXPECT_LE(head + frozen_state, all) << "head-only peak " << head << " B, all-trainable peak " << all << " B";
}

TEST(ModelFrozenGroups, NothingTrainableCannotStep) {
  const BertConfig config = config3();
  const BertParamLayout layout = bert_param_layout(config);
  auto backend = make_backend<float>(DeviceSpec{});
  BertRegressor<float> model(*backend, config, TrainableGroups(layout.groups.size(), false));
  model.load_params(test::random_bert_params(layout, 3));
  EXPECT_EQ(model.grad_size(), 0);
  EXPECT_EQ(model.trainable_count(), 0);
  model.forward(test::random_batch({4, 2}, config.vocab_size, 1), false, kRates, kSeed, 0);  // prediction works
  EXPECT_THROW(model.backward(), Error);
  EXPECT_THROW(model.optimizer_step(AdamWSettings{}, 1e-3f, 1.0f), Error);
}

}  // namespace
}  // namespace ft
