// BertConfig: the fields of a Hugging Face BERT config.json that decide the model's shapes and its
// regularisation, read and written in Hugging Face's own spelling.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace ft {

struct BertConfig {
  int vocab_size = 30522;
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  std::string hidden_act = "gelu";             // only exact-erf "gelu" is supported
  float hidden_dropout_prob = 0.1f;
  float attention_probs_dropout_prob = 0.1f;
  std::optional<float> classifier_dropout;     // null in HF: the head then uses hidden_dropout_prob
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  float initializer_range = 0.02f;
  int pad_token_id = 0;
  std::string position_embedding_type = "absolute";  // only "absolute" is supported

  int head_size() const { return hidden_size / num_attention_heads; }
  float head_dropout() const { return classifier_dropout ? *classifier_dropout : hidden_dropout_prob; }

  // Throws ft::Error naming `source` and the fault (a non-positive size, hidden_size not divisible
  // by num_attention_heads, an unsupported activation, a dropout outside [0, 1)).
  void validate(const std::string& source) const;

  // The one check of a --max-length against this model: [CLS], one token and [SEP] at least, and
  // no more positions than the model has. Throws ft::Error naming the flag, the value and the range.
  void check_max_length(int max_length) const;
};

// Reads config.json. A missing required key or a wrong type is an error naming the file and key.
BertConfig load_bert_config(const std::string& path);
BertConfig bert_config_from_json(const nlohmann::json& j, const std::string& source);

// The config.json of a saved regression model: BertForSequenceClassification, num_labels 1,
// problem_type "regression", plus every field above.
nlohmann::json bert_config_to_json(const BertConfig& config);

}  // namespace ft
