// The same seed gives bitwise the same run: two models built from the same parameters, trained
// on the same batches with dropout on and the same seed, agree to the last bit in every loss,
// every prediction and every parameter; another seed gives another run (so dropout is really in
// play).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "core/backend_registry.h"
#include "model/train/schedule.h"
#include "model_fixtures.h"

namespace ft {
namespace {

struct TrainingRun {
  std::vector<double> losses;
  std::vector<float> preds;
  StateDict params;
  OptimizerState optimizer;
};

TrainingRun train(uint64_t seed) {
  const BertConfig config = test::tiny_bert_config(2, 32, 4, 64, 41, 24);
  const BertParamLayout layout = bert_param_layout(config);
  auto backend = make_backend<float>(DeviceSpec{});
  BertRegressor<float> model(*backend, config, TrainableGroups(layout.groups.size(), true));
  model.load_params(test::random_bert_params(layout, 21));
  const DropoutRates rates{0.1f, 0.1f, 0.1f};
  AdamWSettings adamw;
  adamw.weight_decay = 0.01f;
  TrainingRun run;
  for (uint32_t step = 0; step < 4; ++step) {
    const ModelBatch batch = test::random_batch({17, 9, 23, 4, 12}, config.vocab_size, 100 + step);
    model.zero_grad();
    const auto out = model.forward(batch, true, rates, seed, step);
    run.losses.push_back(out.loss);
    run.preds.insert(run.preds.end(), out.pred.begin(), out.pred.end());
    model.backward();
    const double coef = clip_coefficient(model.grad_norm(), 1.0);
    model.optimizer_step(adamw, static_cast<float>(linear_schedule_lr(1e-3, step, 1, 10)), static_cast<float>(coef));
  }
  run.params = model.params_to_host();
  run.optimizer = model.optimizer_state();
  return run;
}

TEST(ModelDeterminism, SameSeedSameBits) {
  const TrainingRun a = train(77), b = train(77);
  ASSERT_EQ(a.losses.size(), b.losses.size());
  for (size_t i = 0; i < a.losses.size(); ++i)
    EXPECT_EQ(std::memcmp(&a.losses[i], &b.losses[i], sizeof(double)), 0) << "loss " << i;
  ASSERT_EQ(a.preds.size(), b.preds.size());
  EXPECT_EQ(std::memcmp(a.preds.data(), b.preds.data(), a.preds.size() * sizeof(float)), 0);
  ASSERT_EQ(a.params.tensors.size(), b.params.tensors.size());
  for (size_t i = 0; i < a.params.tensors.size(); ++i)
    EXPECT_TRUE(test::bitwise_equal(a.params.tensors[i].second, b.params.tensors[i].second))
        << a.params.tensors[i].first;
  EXPECT_EQ(a.optimizer.step, 4);
  EXPECT_TRUE(a.optimizer.m == b.optimizer.m);
  EXPECT_TRUE(a.optimizer.v == b.optimizer.v);
}

TEST(ModelDeterminism, AnotherSeedAnotherRun) {
  const TrainingRun a = train(77), c = train(78);
  EXPECT_NE(a.losses[0], c.losses[0]);
  EXPECT_FALSE(test::bitwise_equal(a.params.tensors[0].second, c.params.tensors[0].second));
}

}  // namespace
}  // namespace ft
