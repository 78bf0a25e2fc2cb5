// Bad batches and bad parameters are errors naming the fault, never a crash or a silent guess.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "core/backend_registry.h"
#include "core/error.h"
#include "model_fixtures.h"

namespace ft {
namespace {

void expect_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning \"" << fragment << "\"";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

class ModelBadInput : public ::testing::Test {
 protected:
  BertConfig config = test::tiny_bert_config();
  BertParamLayout layout = bert_param_layout(config);
  std::unique_ptr<Backend<float>> backend = make_backend<float>(DeviceSpec{});
  BertRegressor<float> model{*backend, config, TrainableGroups(layout.groups.size(), true)};
  ModelBatch good = test::random_batch({5, 3}, config.vocab_size, 1);
  void SetUp() override { model.load_params(test::random_bert_params(layout, 2)); }
  void forward(const ModelBatch& b) { model.forward(b, true, DropoutRates{}, 1, 0); }
};

TEST_F(ModelBadInput, Batches) {
  ModelBatch b = good;
  b.input_ids[3] = config.vocab_size;
  expect_error([&] { forward(b); }, "outside the vocabulary");
  b = good;
  b.input_ids[1] = -1;
  expect_error([&] { forward(b); }, "outside the vocabulary");
  b = good;
  b.token_type_ids[2] = 2;
  expect_error([&] { forward(b); }, "token type");
  b = good;
  b.lengths[1] = 0;
  expect_error([&] { forward(b); }, "has length 0");
  b = good;
  b.lengths[0] = b.T + 1;
  expect_error([&] { forward(b); }, "outside [1, T");
  b = good;
  b.targets[1] = NAN;
  expect_error([&] { forward(b); }, "not a finite number");
  b = good;
  b.targets.pop_back();
  expect_error([&] { forward(b); }, "targets has 1 entries");
  b = good;
  b.input_ids.pop_back();
  expect_error([&] { forward(b); }, "input_ids has");
  b = test::random_batch({config.max_position_embeddings + 1}, config.vocab_size, 3);
  expect_error([&] { forward(b); }, "exceeds the model's");
  b = good;
  b.B = 0;
  expect_error([&] { forward(b); }, "empty");
}

TEST_F(ModelBadInput, BackwardNeedsAForwardWithTargets) {
  expect_error([&] { model.backward(); }, "no forward pass");
  ModelBatch b = good;
  b.targets.clear();
  const auto out = model.forward(b, false, DropoutRates{}, 1, 0);
  EXPECT_EQ(out.pred.size(), 2u);
  expect_error([&] { model.backward(); }, "no targets");
}

TEST_F(ModelBadInput, Parameters) {
  StateDict p = test::random_bert_params(layout, 2);
  p.tensors.erase(p.tensors.begin() + 3);
  expect_error([&] { model.load_params(p); }, "missing tensor \"bert.embeddings.LayerNorm.weight\"");

  p = test::random_bert_params(layout, 2);
  p.tensors[0].second = Tensor::zeros(DType::F32, {config.vocab_size + 1, config.hidden_size});
  expect_error([&] { model.load_params(p); }, "has shape");

  p = test::random_bert_params(layout, 2);
  p.tensors[1].second = p.tensors[1].second.to(DType::BF16);
  expect_error([&] { model.load_params(p); }, "expected F32");

  p = test::random_bert_params(layout, 2);
  p.tensors.emplace_back("bert.embeddings.position_ids", Tensor::zeros(DType::F32, {1}));
  expect_error([&] { model.load_params(p); }, "unexpected tensor \"bert.embeddings.position_ids\"");

  p = test::random_bert_params(layout, 2);
  p.tensors[5].second.data<float>()[7] = INFINITY;
  expect_error([&] { model.load_params(p); }, "is not finite");
}

TEST_F(ModelBadInput, OptimizerState) {
  OptimizerState s = model.optimizer_state();
  s.m.pop_back();
  expect_error([&] { model.set_optimizer_state(s); }, "moments");
  s = model.optimizer_state();
  s.v[0] = -1.0;
  expect_error([&] { model.set_optimizer_state(s); }, "negative");
}

}  // namespace
}  // namespace ft
