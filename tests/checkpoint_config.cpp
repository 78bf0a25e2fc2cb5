// config.json <-> BertConfig: Hugging Face's spelling in and out, and a clear error for each fault.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/bert_config.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_data.h"

namespace ft {
namespace {

nlohmann::json golden_config() {
  return nlohmann::json::parse(test::read_bytes((test::golden_dir() / "checkpoints" / "config.json").string()));
}

void expect_config_error(const nlohmann::json& j, const std::string& phrase) {
  try {
    bert_config_from_json(j, "cfg.json");
    ADD_FAILURE() << "accepted; expected " << phrase;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cfg.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(phrase), std::string::npos) << "missing \"" << phrase << "\" in: " << msg;
  }
}

TEST(CheckpointConfig, ReadsTransformersConfig) {
  const BertConfig c = bert_config_from_json(golden_config(), "config.json");
  EXPECT_EQ(c.vocab_size, 128);
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 2);
  EXPECT_EQ(c.intermediate_size, 64);
  EXPECT_EQ(c.max_position_embeddings, 64);
  EXPECT_EQ(c.hidden_dropout_prob, 0.1f);
  EXPECT_FALSE(c.classifier_dropout.has_value());  // null in the file
  EXPECT_EQ(c.layer_norm_eps, 1e-12f);
}

TEST(CheckpointConfig, WrittenJsonReadsBackAndPrintsFloatsShortest) {
  BertConfig c = bert_config_from_json(golden_config(), "config.json");
  c.classifier_dropout = 0.3f;
  c.attention_probs_dropout_prob = 0.15f;
  const nlohmann::json j = bert_config_to_json(c);
  EXPECT_EQ(j.at("hidden_dropout_prob").dump(), "0.1");
  EXPECT_EQ(j.at("attention_probs_dropout_prob").dump(), "0.15");
  EXPECT_EQ(j.at("classifier_dropout").dump(), "0.3");
  EXPECT_EQ(j.at("layer_norm_eps").dump(), "1e-12");
  EXPECT_EQ(j.at("initializer_range").dump(), "0.02");
  const BertConfig back = bert_config_from_json(nlohmann::json::parse(j.dump()), "x");
  EXPECT_EQ(back.classifier_dropout, c.classifier_dropout);
  EXPECT_EQ(back.attention_probs_dropout_prob, c.attention_probs_dropout_prob);
  EXPECT_EQ(back.layer_norm_eps, c.layer_norm_eps);
  EXPECT_EQ(back.vocab_size, c.vocab_size);
}

TEST(CheckpointConfig, MissingKey) {
  for (const char* key : {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                          "intermediate_size", "max_position_embeddings"}) {
    nlohmann::json j = golden_config();
    j.erase(key);
    expect_config_error(j, std::string("missing key \"") + key + "\"");
  }
}

TEST(CheckpointConfig, HiddenSizeNotDivisibleByHeads) {
  nlohmann::json j = golden_config();
  j["num_attention_heads"] = 5;
  expect_config_error(j, "hidden_size 32 is not divisible by num_attention_heads 5");
}

TEST(CheckpointConfig, WrongTypesAndValues) {
  nlohmann::json j = golden_config();
  j["hidden_size"] = "32";
  expect_config_error(j, "\"hidden_size\" must be an integer");
  j = golden_config();
  j["hidden_size"] = 32.5;
  expect_config_error(j, "\"hidden_size\" must be an integer");
  j = golden_config();
  j["vocab_size"] = 1e12;
  expect_config_error(j, "\"vocab_size\" must be an integer");
  j = golden_config();
  j["vocab_size"] = 4294967296ll;
  expect_config_error(j, "out of range");
  j = golden_config();
  j["hidden_dropout_prob"] = 1e300;
  expect_config_error(j, "out of range");
  j = golden_config();
  j["hidden_act"] = "relu";
  expect_config_error(j, "hidden_act \"relu\" is not supported");
  j = golden_config();
  j["model_type"] = "roberta";
  expect_config_error(j, "not a BERT model");
  j = golden_config();
  j["num_hidden_layers"] = 0;
  expect_config_error(j, "num_hidden_layers must be positive");
  expect_config_error(nlohmann::json::array(), "expected a JSON object");
}

TEST(CheckpointConfig, FileErrorsNameTheFile) {
  test::TempDir dir;
  test::write_bytes(dir.file("c.json"), "{\"vocab_size\": 12,");
  try {
    load_bert_config(dir.file("c.json"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("c.json") + ": not valid JSON"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_bert_config(dir.file("absent.json")), Error);
}

}  // namespace
}  // namespace ft
