// Small random models and batches for the model_* and hf_golden_* tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/bert_config.h"
#include "model/bert_params.h"
#include "model/bert_regressor.h"
#include "model/checkpoint.h"

namespace ft::test {

inline BertConfig tiny_bert_config(int layers = 2, int hidden = 8, int heads = 2, int intermediate = 16,
                                   int vocab = 23, int max_positions = 12) {
  BertConfig c;
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.intermediate_size = intermediate;
  c.max_position_embeddings = max_positions;
  c.type_vocab_size = 2;
  c.hidden_dropout_prob = 0.1f;
  c.attention_probs_dropout_prob = 0.1f;
  return c;
}

// Random parameters with every term of the model away from 0 and 1: weights N(0, 0.3^2), biases
// N(0, 0.1^2), LayerNorm weights 1 + N(0, 0.1^2).
inline StateDict random_bert_params(const BertParamLayout& layout, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  StateDict out;
  for (const ParamSpec& spec : layout.specs) {
    Tensor t = Tensor::zeros(DType::F32, spec.shape);
    float* d = t.data<float>();
    const bool layernorm_weight = spec.name.find("LayerNorm.weight") != std::string::npos;
    const bool bias = !spec.decay && !layernorm_weight;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const float z = normal(rng);
      d[i] = layernorm_weight ? 1.0f + 0.1f * z : bias ? 0.1f * z : 0.3f * z;
    }
    out.tensors.emplace_back(spec.name, std::move(t));
  }
  return out;
}

// A right-padded batch with the given lengths: random ids in [1, vocab) ([CLS]-like first token
// included), pad id 0, a second segment of token type 1, targets N(0, 2^2).
inline ModelBatch random_batch(const std::vector<int>& lengths, int vocab, uint64_t seed, bool targets = true) {
  std::mt19937_64 rng(seed);
  ModelBatch b;
  b.B = static_cast<int>(lengths.size());
  b.T = 0;
  for (int n : lengths) b.T = std::max(b.T, n);
  b.input_ids.assign(static_cast<size_t>(b.B) * b.T, 0);
  b.token_type_ids.assign(static_cast<size_t>(b.B) * b.T, 0);
  b.lengths.assign(lengths.begin(), lengths.end());
  std::uniform_int_distribution<int> id(1, vocab - 1);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (int s = 0; s < b.B; ++s) {
    for (int t = 0; t < lengths[s]; ++t) {
      b.input_ids[static_cast<size_t>(s) * b.T + t] = id(rng);
      b.token_type_ids[static_cast<size_t>(s) * b.T + t] = t > lengths[s] / 2 ? 1 : 0;
    }
    if (targets) b.targets.push_back(normal(rng));
  }
  return b;
}

inline TrainableGroups groups_from(const BertParamLayout& layout, const std::string& train) {
  return parse_trainable(layout, train, "");
}

// ||a - b|| / ||b|| over two equally long float arrays, in double.
inline double relative_error(const float* a, const float* b, int64_t n) {
  double num = 0.0, den = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    num += d * d;
    den += static_cast<double>(b[i]) * static_cast<double>(b[i]);
  }
  return den > 0.0 ? std::sqrt(num / den) : std::sqrt(num);
}

inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace ft::test
