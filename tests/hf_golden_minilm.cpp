// A real pretrained BERT: MiniLM-L6-H384-uncased (weights/minilm-l6, fetched by
// tools/fetch_minilm.sh; the test skips without it) through load_bert_checkpoint and the float CPU
// model, against Hugging Face's BertModel.last_hidden_state on four UCDP headlines
// (tests/golden/model/minilm.json, from tools/golden/model.py, with HF's own token ids so that
// this test does not depend on our tokenizer).
//
// Tolerance: each real token's hidden state, norm-wise relative 1e-5. Both sides are float32
// (eps 6e-8) with different GEMM and reduction orders. A sum of n terms carries a rounding error
// of about sqrt(n) * eps relative to its terms' magnitude: ~2e-6 at worst for the 1536-term FFN
// sums, ~5e-7 typical per layer. LayerNorm renormalises every layer's output, so the 6 layers add
// their errors rather than compound them: ~3e-6, and 1e-5 leaves a margin for other BLAS kernels
// (measured here: 1.3e-6 worst, 1e-6 mean). A wrong op (mask, scale, GELU variant, LayerNorm eps)
// gives errors of 1e-3 and more.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/backend_registry.h"
#include "model/checkpoint.h"
#include "model_fixtures.h"
#include "support/test_data.h"

namespace ft {
namespace {

TEST(HfGoldenMiniLM, LastHiddenStateMatchesTransformers) {
  const auto golden = test::golden_dir() / "model" / "minilm.json";
  FT_REQUIRE_PATH(golden);
  FT_REQUIRE_PATH(test::minilm_dir() / "model.safetensors");

  std::ifstream in(golden);
  const nlohmann::json j = nlohmann::json::parse(in);
  const auto ids = j.at("input_ids").get<std::vector<std::vector<int32_t>>>();
  const auto types = j.at("token_type_ids").get<std::vector<std::vector<int32_t>>>();
  const auto lengths = j.at("lengths").get<std::vector<int32_t>>();
  const auto expected = j.at("last_hidden_state").get<std::vector<std::vector<std::vector<float>>>>();

  ModelBatch batch;
  batch.B = static_cast<int>(ids.size());
  batch.T = static_cast<int>(ids.at(0).size());
  for (int b = 0; b < batch.B; ++b) {
    batch.input_ids.insert(batch.input_ids.end(), ids[b].begin(), ids[b].end());
    batch.token_type_ids.insert(batch.token_type_ids.end(), types[b].begin(), types[b].end());
  }
  batch.lengths = lengths;

  const BertCheckpoint ckpt = load_bert_checkpoint(test::minilm_dir().string(), 1);
  auto backend = make_backend<float>(DeviceSpec{});
  BertRegressor<float> model(*backend, ckpt.config, parse_trainable(bert_param_layout(ckpt.config), "head", ""));
  model.load_params(ckpt.params);
  model.forward(batch, /*training=*/false, DropoutRates::from_config(ckpt.config), 0, 0);
  const std::vector<float> hidden = model.last_hidden_state();

  const int C = ckpt.config.hidden_size;
  ASSERT_EQ(j.at("hidden_size").get<int>(), C);
  double worst = 0.0, sum = 0.0;
  int rows = 0;
  for (int b = 0; b < batch.B; ++b) {
    ASSERT_EQ(static_cast<int>(expected[b].size()), lengths[b]);
    for (int t = 0; t < lengths[b]; ++t) {
      const float* mine = hidden.data() + (static_cast<size_t>(b) * batch.T + t) * C;
      ASSERT_EQ(static_cast<int>(expected[b][t].size()), C);
      const double err = test::relative_error(mine, expected[b][t].data(), C);
      EXPECT_LE(err, 1e-5) << "sentence " << b << " token " << t;
      worst = std::max(worst, err);
      sum += err;
      ++rows;
    }
  }
  std::printf("MiniLM last_hidden_state over %d tokens: worst rel err %.2e, mean %.2e\n", rows, worst, sum / rows);
}

}  // namespace
}  // namespace ft
