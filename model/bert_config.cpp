#include "model/bert_config.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/float_decimal.h"
#include "core/text_file.h"

namespace ft {

void BertConfig::validate(const std::string& source) const {
  const auto positive = [&](const char* key, int v) {
    FT_CHECK(v > 0, source, ": ", key, " must be positive, found ", v);
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  FT_CHECK(hidden_size % num_attention_heads == 0, source, ": hidden_size ", hidden_size,
           " is not divisible by num_attention_heads ", num_attention_heads);
  FT_CHECK(hidden_act == "gelu", source, ": hidden_act \"", hidden_act,
           "\" is not supported (ftengine implements BERT's exact-erf \"gelu\")");
  FT_CHECK(position_embedding_type == "absolute", source, ": position_embedding_type \"", position_embedding_type,
           "\" is not supported (only \"absolute\")");
  const auto probability = [&](const char* key, float p) {
    FT_CHECK(std::isfinite(p) && p >= 0.0f && p < 1.0f, source, ": ", key, " must be in [0, 1), found ", p);
  };
  probability("hidden_dropout_prob", hidden_dropout_prob);
  probability("attention_probs_dropout_prob", attention_probs_dropout_prob);
  if (classifier_dropout) probability("classifier_dropout", *classifier_dropout);
  FT_CHECK(std::isfinite(layer_norm_eps) && layer_norm_eps > 0.0f, source, ": layer_norm_eps must be positive");
  FT_CHECK(std::isfinite(initializer_range) && initializer_range > 0.0f, source,
           ": initializer_range must be positive");
}

namespace {
// Values are type-checked before conversion: nlohmann would silently truncate 768.5 to an int,
// and an out-of-range number converted to int is undefined behaviour.
template <class T>
T required(const nlohmann::json& j, const char* key, const std::string& source) {
  FT_CHECK(j.contains(key), source, ": missing key \"", key, "\"");
  const nlohmann::json& v = j.at(key);
  if constexpr (std::is_same_v<T, int>) {
    FT_CHECK(v.is_number_integer(), source, ": key \"", key, "\" must be an integer, found ", v.dump());
    const int64_t x = v.get<int64_t>();
    FT_CHECK(v.is_number_unsigned() ? v.get<uint64_t>() <= 0x7fffffffu
                                    : x >= std::numeric_limits<int>::min() && x <= std::numeric_limits<int>::max(),
             source, ": key \"", key, "\" is out of range: ", v.dump());
    return static_cast<int>(x);
  } else if constexpr (std::is_same_v<T, float>) {
    FT_CHECK(v.is_number(), source, ": key \"", key, "\" must be a number, found ", v.dump());
    const double d = v.get<double>();
    FT_CHECK(std::isfinite(d) && std::abs(d) <= std::numeric_limits<float>::max(), source, ": key \"", key,
             "\" is out of range: ", v.dump());
    return static_cast<float>(d);
  } else {
    FT_CHECK(v.is_string(), source, ": key \"", key, "\" must be a string, found ", v.dump());
    return v.get<std::string>();
  }
}

template <class T>
T optional_key(const nlohmann::json& j, const char* key, T fallback, const std::string& source) {
  if (!j.contains(key) || j.at(key).is_null()) return fallback;
  return required<T>(j, key, source);
}
}  // namespace

BertConfig bert_config_from_json(const nlohmann::json& j, const std::string& source) {
  FT_CHECK(j.is_object(), source, ": expected a JSON object");
  if (j.contains("model_type") && j.at("model_type").is_string()) {
    const std::string type = j.at("model_type").get<std::string>();
    FT_CHECK(type == "bert", source, ": model_type \"", type, "\" is not a BERT model");
  }
  BertConfig c;
  c.vocab_size = required<int>(j, "vocab_size", source);
  c.hidden_size = required<int>(j, "hidden_size", source);
  c.num_hidden_layers = required<int>(j, "num_hidden_layers", source);
  c.num_attention_heads = required<int>(j, "num_attention_heads", source);
  c.intermediate_size = required<int>(j, "intermediate_size", source);
  c.hidden_act = optional_key<std::string>(j, "hidden_act", c.hidden_act, source);
  c.hidden_dropout_prob = optional_key<float>(j, "hidden_dropout_prob", c.hidden_dropout_prob, source);
  c.attention_probs_dropout_prob =
      optional_key<float>(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, source);
  if (j.contains("classifier_dropout") && !j.at("classifier_dropout").is_null())
    c.classifier_dropout = required<float>(j, "classifier_dropout", source);
  c.max_position_embeddings = required<int>(j, "max_position_embeddings", source);
  c.type_vocab_size = optional_key<int>(j, "type_vocab_size", c.type_vocab_size, source);
  c.layer_norm_eps = optional_key<float>(j, "layer_norm_eps", c.layer_norm_eps, source);
  c.initializer_range = optional_key<float>(j, "initializer_range", c.initializer_range, source);
  c.pad_token_id = optional_key<int>(j, "pad_token_id", c.pad_token_id, source);
  c.position_embedding_type = optional_key<std::string>(j, "position_embedding_type", c.position_embedding_type, source);
  c.validate(source);
  return c;
}

void BertConfig::check_max_length(int max_length) const {
  FT_CHECK(max_length >= 3 && max_length <= max_position_embeddings, "--max-length ", max_length, ": must be in [3, ",
           max_position_embeddings, "] (the model's max_position_embeddings)");
}

BertConfig load_bert_config(const std::string& path) {
  return bert_config_from_json(read_json_file(path, "config file"), path);
}

namespace {
// The shortest decimal that reads back as the same float, as a JSON number: 0.1f is written
// "0.1", not the double 0.10000000149011612 that a plain float -> double conversion prints.
nlohmann::json float_json(float f) { return shortest_decimal(f); }
}  // namespace

nlohmann::json bert_config_to_json(const BertConfig& c) {
  nlohmann::json j;
  j["architectures"] = {"BertForSequenceClassification"};
  j["model_type"] = "bert";
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["intermediate_size"] = c.intermediate_size;
  j["hidden_act"] = c.hidden_act;
  j["hidden_dropout_prob"] = float_json(c.hidden_dropout_prob);
  j["attention_probs_dropout_prob"] = float_json(c.attention_probs_dropout_prob);
  j["classifier_dropout"] = c.classifier_dropout ? float_json(*c.classifier_dropout) : nlohmann::json(nullptr);
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["type_vocab_size"] = c.type_vocab_size;
  j["layer_norm_eps"] = float_json(c.layer_norm_eps);
  j["initializer_range"] = float_json(c.initializer_range);
  j["pad_token_id"] = c.pad_token_id;
  j["position_embedding_type"] = c.position_embedding_type;
  j["num_labels"] = 1;
  j["id2label"] = {{"0", "LABEL_0"}};
  j["label2id"] = {{"LABEL_0", 0}};
  j["problem_type"] = "regression";
  j["torch_dtype"] = "float32";
  return j;
}

}  // namespace ft
