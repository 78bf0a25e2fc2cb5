// The whole model's hand-written backward against central differences of its own forward, in
// double on the CPU backend: a tiny config (2 layers, hidden 8, 2 heads, FFN 16), a padded batch,
// random parameters. Every parameter tensor is probed at random elements (word embeddings at rows
// the batch uses and one it does not), with dropout off and with dropout on (a fixed seed and step
// give a fixed mask, so the loss stays a smooth function of the parameters).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>

#include "core/backend_registry.h"
#include "model_fixtures.h"

namespace ft {
namespace {

struct Probe {
  std::string name;
  int64_t index;  // element within the tensor
};

std::vector<Probe> choose_probes(const BertParamLayout& layout, const ModelBatch& batch, int per_tensor, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Probe> probes;
  const int64_t C = layout.find("bert.embeddings.LayerNorm.weight")->numel();
  std::set<int> used(batch.input_ids.begin(), batch.input_ids.end());
  for (const ParamSpec& spec : layout.specs) {
    if (spec.name == "bert.embeddings.word_embeddings.weight") {
      // Rows the batch reads (including the pad id 0, whose gradient must be exactly zero) and one
      // row it never reads.
      std::vector<int> rows(used.begin(), used.end());
      std::shuffle(rows.begin(), rows.end(), rng);
      rows.resize(std::min<size_t>(rows.size(), static_cast<size_t>(per_tensor)));
      rows.push_back(0);
      for (int r = 0; r < spec.shape[0]; ++r)
        if (!used.count(r)) {
          rows.push_back(r);
          break;
        }
      for (int r : rows) probes.push_back({spec.name, r * C + static_cast<int64_t>(rng() % C)});
      continue;
    }
    std::uniform_int_distribution<int64_t> pick(0, spec.numel() - 1);
    const int n = static_cast<int>(std::min<int64_t>(per_tensor, spec.numel()));
    for (int i = 0; i < n; ++i) probes.push_back({spec.name, pick(rng)});
  }
  return probes;
}

void run_gradcheck(const DropoutRates& rates, bool training) {
  const BertConfig config = test::tiny_bert_config();
  const BertParamLayout layout = bert_param_layout(config);
  auto backend = make_backend<double>(DeviceSpec{});
  BertRegressor<double> model(*backend, config, TrainableGroups(layout.groups.size(), true));
  model.load_params(test::random_bert_params(layout, 11));
  const ModelBatch batch = test::random_batch({6, 3, 5}, config.vocab_size, 12);
  const uint64_t seed = 1234;
  const uint32_t step = 7;

  model.zero_grad();
  const double loss = model.forward(batch, training, rates, seed, step).loss;
  ASSERT_TRUE(std::isfinite(loss));
  ASSERT_GT(loss, 0.0);
  model.backward(1.0f);
  std::vector<double> grads(model.grads_data(), model.grads_data() + model.grad_size());

  // Central differences with h = 1e-5 on O(1) parameters: the truncation error is about
  // h^2 / 6 * |f'''| ~ 1e-11 (third derivatives of this model are O(1..10)), the rounding error
  // about 1e-16 * |loss| / h ~ 1e-11. An agreement to 1e-8 absolute + 1e-6 relative leaves two
  // orders of margin while any real backward bug (a missing term, a wrong mask) is far larger.
  const double h = 1e-5;
  double* params = model.params_data();
  int checked = 0;
  double worst = 0.0;
  for (const Probe& probe : choose_probes(layout, batch, 4, 99)) {
    const ParamSpec* spec = layout.find(probe.name);
    double& x = params[spec->offset + probe.index];
    const double saved = x;
    x = saved + h;
    const double up = model.forward(batch, training, rates, seed, step).loss;
    x = saved - h;
    const double down = model.forward(batch, training, rates, seed, step).loss;
    x = saved;
    const double numeric = (up - down) / (2.0 * h);
    const double analytic = grads[static_cast<size_t>(model.grad_offset(probe.name) + probe.index)];
    EXPECT_NEAR(analytic, numeric, 1e-8 + 1e-6 * std::abs(numeric))
        << probe.name << "[" << probe.index << "] (dropout " << (training ? "on" : "off") << ")";
    worst = std::max(worst, std::abs(analytic - numeric) / (1e-2 + std::abs(numeric)));
    ++checked;
  }
  std::printf("dropout %s: %d elements checked, worst |analytic - numeric| / (0.01 + |numeric|) = %.2e\n",
              training ? "on" : "off", checked, worst);
  EXPECT_GE(checked, static_cast<int>(layout.specs.size()));
}

TEST(ModelGradcheck, DropoutOff) { run_gradcheck(DropoutRates{0.0f, 0.0f, 0.0f}, false); }

TEST(ModelGradcheck, DropoutOnFixedMask) {
  // High rates so that every site drops a good share of this tiny model's elements.
  run_gradcheck(DropoutRates{0.2f, 0.25f, 0.3f}, true);
}

// With dropout on, the loss must actually depend on the mask (else the test above proves nothing
// about the masks' backward).
TEST(ModelGradcheck, DropoutChangesTheLoss) {
  const BertConfig config = test::tiny_bert_config();
  const BertParamLayout layout = bert_param_layout(config);
  auto backend = make_backend<double>(DeviceSpec{});
  BertRegressor<double> model(*backend, config, TrainableGroups(layout.groups.size(), true));
  model.load_params(test::random_bert_params(layout, 11));
  const ModelBatch batch = test::random_batch({6, 3, 5}, config.vocab_size, 12);
  const DropoutRates rates{0.2f, 0.25f, 0.3f};
  const double off = model.forward(batch, false, rates, 1234, 7).loss;
  const double on = model.forward(batch, true, rates, 1234, 7).loss;
  const double other_step = model.forward(batch, true, rates, 1234, 8).loss;
  EXPECT_NE(off, on);
  EXPECT_NE(on, other_step);
}

}  // namespace
}  // namespace ft
