// BERT checkpoints onto the canonical layout: every name variant Hugging Face has used, HF-style
// initialisation of a missing pooler/head, the errors for wrong shapes and missing tensors, and
// the saved model directory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "core/philox.h"
#include "core/safetensors.h"
#include "model/checkpoint.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_data.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

fs::path golden_dir() { return test::golden_dir() / "checkpoints"; }
std::string golden(const char* name) { return (golden_dir() / name).string(); }

::testing::AssertionResult same_bytes(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape())
    return ::testing::AssertionFailure() << dtype_name(a.dtype()) << shape_str(a.shape()) << " vs "
                                         << dtype_name(b.dtype()) << shape_str(b.shape());
  if (a.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) != 0) return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& phrases) {
  try {
    f();
    ADD_FAILURE() << "no error; expected: " << phrases.front();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "missing \"" << p << "\" in: " << msg;
  }
}

// The golden model's own tensors (HF's model.safetensors), by HF name.
std::map<std::string, Tensor> golden_tensors() {
  std::map<std::string, Tensor> m;
  for (auto& [n, t] : read_safetensors(golden("model.safetensors")).tensors) m.emplace(n, t);
  return m;
}

void expect_matches_golden(const BertCheckpoint& c) {
  const auto want = golden_tensors();
  const BertParamLayout layout = bert_param_layout(c.config);
  ASSERT_EQ(c.params.tensors.size(), layout.specs.size());
  for (size_t i = 0; i < layout.specs.size(); ++i) {
    EXPECT_EQ(c.params.tensors[i].first, layout.specs[i].name);
    EXPECT_TRUE(same_bytes(c.params.tensors[i].second, want.at(layout.specs[i].name))) << layout.specs[i].name;
  }
  EXPECT_TRUE(c.initialised.empty());
}

TEST(CheckpointNames, CanonicalNames) {
  EXPECT_EQ(canonical_bert_name("bert.encoder.layer.0.output.dense.weight"), "bert.encoder.layer.0.output.dense.weight");
  EXPECT_EQ(canonical_bert_name("encoder.layer.11.output.LayerNorm.gamma"), "bert.encoder.layer.11.output.LayerNorm.weight");
  EXPECT_EQ(canonical_bert_name("embeddings.LayerNorm.beta"), "bert.embeddings.LayerNorm.bias");
  EXPECT_EQ(canonical_bert_name("bert.embeddings.LayerNorm.gamma"), "bert.embeddings.LayerNorm.weight");
  EXPECT_EQ(canonical_bert_name("pooler.dense.bias"), "bert.pooler.dense.bias");
  EXPECT_EQ(canonical_bert_name("classifier.weight"), "classifier.weight");
  EXPECT_EQ(canonical_bert_name("cls.predictions.decoder.weight"), std::nullopt);
  EXPECT_EQ(canonical_bert_name("cls.seq_relationship.bias"), std::nullopt);
  EXPECT_EQ(canonical_bert_name("embeddings.position_ids"), std::nullopt);
  EXPECT_EQ(canonical_bert_name("bert.embeddings.position_ids"), std::nullopt);
  EXPECT_EQ(canonical_bert_name("bert.embeddings.token_type_ids"), std::nullopt);
  EXPECT_EQ(bert_group_of("bert.embeddings.word_embeddings.weight"), "embeddings");
  EXPECT_EQ(bert_group_of("bert.encoder.layer.10.attention.self.query.bias"), "encoder.10");
  EXPECT_EQ(bert_group_of("bert.pooler.dense.weight"), "pooler");
  EXPECT_EQ(bert_group_of("classifier.bias"), "head");
  EXPECT_EQ(bert_group_of("bert.encoder.layer.x.foo"), "");
  EXPECT_EQ(bert_group_of("something.else"), "");
}

TEST(CheckpointBert, BertBaseParameterCountsAreThePapersFigure1) {
  const BertParamLayout l = bert_param_layout(BertConfig{});  // BERT-base, 30,522 vocabulary
  EXPECT_EQ(l.find_group("embeddings")->count, 23'837'184);
  int64_t encoder = 0;
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(l.find_group("encoder." + std::to_string(i))->count, 7'087'872);
    encoder += l.find_group("encoder." + std::to_string(i))->count;
  }
  EXPECT_EQ(encoder, 85'054'464);
  EXPECT_EQ(l.find_group("pooler")->count, 590'592);
  EXPECT_EQ(l.find_group("head")->count, 769);
}

TEST(CheckpointBert, DirectoryLoadsHuggingFacesSafetensors) {
  FT_REQUIRE_PATH(golden("model.safetensors"));
  const BertCheckpoint c = load_bert_checkpoint(golden_dir().string(), 1);
  EXPECT_EQ(c.source, golden("model.safetensors"));
  EXPECT_EQ(c.config.hidden_size, 32);
  EXPECT_EQ(c.config.num_hidden_layers, 2);
  expect_matches_golden(c);
}

TEST(CheckpointBert, PytorchBinLoadsTheSameTensors) {
  FT_REQUIRE_PATH(golden("pytorch_model.bin"));
  expect_matches_golden(load_bert_checkpoint(golden("pytorch_model.bin"), 1));  // config.json beside it
}

TEST(CheckpointBert, LegacyUnprefixedNamesLoadTheSameTensors) {
  FT_REQUIRE_PATH(golden("legacy_unprefixed.bin"));
  expect_matches_golden(load_bert_checkpoint(golden("legacy_unprefixed.bin"), 1, golden("config.json")));
}

TEST(CheckpointBert, HalfPrecisionCheckpointsAreWidenedToF32) {
  FT_REQUIRE_PATH(golden("pytorch_model_bf16.bin"));
  const auto want = golden_tensors();
  for (const char* file : {"pytorch_model_bf16.bin", "pytorch_model_fp16.bin"}) {
    const bool is_bf16 = std::string(file).find("bf16") != std::string::npos;
    const BertCheckpoint c = load_bert_checkpoint(golden(file), 1);
    for (const auto& [name, t] : c.params.tensors) {
      ASSERT_EQ(t.dtype(), DType::F32);
      const float* got = t.data<float>();
      const float* ref = want.at(name).data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) {
        // The file holds torch's rounding of the F32 value; widening back is exact.
        const float rounded = is_bf16 ? bf16::from_float(ref[i]).to_float() : f16::from_float(ref[i]).to_float();
        ASSERT_EQ(got[i], rounded) << file << " " << name << "[" << i << "]";
      }
    }
  }
}

TEST(CheckpointBert, MaskedLmCheckpointGetsPoolerAndHeadInitialisedAsHuggingFaceDoes) {
  FT_REQUIRE_PATH(golden("masked_lm.bin"));
  const BertCheckpoint c = load_bert_checkpoint(golden("masked_lm.bin"), 42, golden("config.json"));
  EXPECT_EQ(c.initialised, (std::vector<std::string>{"bert.pooler.dense.weight", "bert.pooler.dense.bias",
                                                     "classifier.weight", "classifier.bias"}));
  // Everything else comes from the file (cls.* and position_ids ignored).
  StateDict raw = load_state_dict(golden("masked_lm.bin"));
  for (const auto& [name, t] : c.params.tensors) {
    if (bert_group_of(name) == "pooler" || bert_group_of(name) == "head") continue;
    ASSERT_NE(raw.find(name), nullptr) << name;
    EXPECT_TRUE(same_bytes(t, *raw.find(name))) << name;
  }
  const Tensor& w = *c.params.find("bert.pooler.dense.weight");
  const Tensor& b = *c.params.find("bert.pooler.dense.bias");
  const Tensor& hw = *c.params.find("classifier.weight");
  const Tensor& hb = *c.params.find("classifier.bias");
  EXPECT_EQ(w.shape(), (Shape{32, 32}));
  EXPECT_EQ(hw.shape(), (Shape{1, 32}));
  for (int64_t i = 0; i < b.numel(); ++i) EXPECT_EQ(b.data<float>()[i], 0.0f);
  EXPECT_EQ(hb.data<float>()[0], 0.0f);
  // normal(0, 0.02) over 1024 draws: the sample mean has standard error 0.02/32 = 0.000625 and the
  // sample std about 0.02/sqrt(2*1024) = 0.00044; the bounds are 4 of those, so a wrong scale
  // (e.g. 1 or 0.01) or a biased generator fails while a correct one passes (the draws are fixed).
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < w.numel(); ++i) {
    sum += w.data<float>()[i];
    sq += double(w.data<float>()[i]) * w.data<float>()[i];
  }
  const double mean = sum / w.numel(), stddev = std::sqrt(sq / w.numel() - mean * mean);
  EXPECT_LT(std::abs(mean), 4 * 0.000625);
  EXPECT_LT(std::abs(stddev - 0.02), 4 * 0.00044);
  // Pooler and head draw from different streams: no shared values.
  EXPECT_NE(hw.data<float>()[0], w.data<float>()[0]);
  // A pure function of the seed: the same seed gives the same weights, another seed others.
  const BertCheckpoint again = load_bert_checkpoint(golden("masked_lm.bin"), 42, golden("config.json"));
  EXPECT_TRUE(same_bytes(*again.params.find("bert.pooler.dense.weight"), w));
  const BertCheckpoint other = load_bert_checkpoint(golden("masked_lm.bin"), 43, golden("config.json"));
  EXPECT_FALSE(same_bytes(*other.params.find("bert.pooler.dense.weight"), w));
  // The documented recipe: philox_normal(seed, stream = spec index, idx) * initializer_range.
  const BertParamLayout layout = bert_param_layout(c.config);
  int spec = 0;
  while (layout.specs[spec].name != "classifier.weight") ++spec;
  EXPECT_EQ(hw.data<float>()[5], static_cast<float>(0.02f * philox_normal(42, spec, 5)));
}

// A copy of the golden model with some tensors removed, renamed or replaced.
std::string write_variant(const TempDir& dir, const std::function<void(StateDict&)>& edit) {
  StateDict d = load_state_dict(golden("model.safetensors"));
  edit(d);
  const std::string path = dir.file("variant.safetensors");
  save_state_dict(path, d);
  return path;
}

TEST(CheckpointBert, MissingEncoderTensorIsAnErrorNamingItAndItsShape) {
  TempDir dir;
  const std::string path = write_variant(dir, [](StateDict& d) {
    std::erase_if(d.tensors, [](const auto& p) { return p.first == "bert.encoder.layer.1.intermediate.dense.weight"; });
  });
  expect_error([&] { load_bert_checkpoint(path, 1, golden("config.json")); },
               {path, "missing tensor bert.encoder.layer.1.intermediate.dense.weight [64, 32]"});
}

TEST(CheckpointBert, ShapeMismatchAgainstTheConfigNamesTensorAndBothShapes) {
  TempDir dir;
  nlohmann::json config = nlohmann::json::parse(test::read_bytes(golden("config.json")));
  config["intermediate_size"] = 48;
  test::write_bytes(dir.file("config.json"), config.dump());
  expect_error([&] { load_bert_checkpoint(golden("model.safetensors"), 1, dir.file("config.json")); },
               {golden("model.safetensors"), "bert.encoder.layer.0.intermediate.dense.weight", "expected shape [48, 32]",
                "found [64, 32]"});
  // A classifier with two labels is a shape error too, not something to guess around.
  const std::string path = write_variant(dir, [](StateDict& d) {
    for (auto& [n, t] : d.tensors)
      if (n == "classifier.weight") t = Tensor::zeros(DType::F32, {2, 32});
  });
  expect_error([&] { load_bert_checkpoint(path, 1, golden("config.json")); },
               {"classifier.weight", "expected shape [1, 32]", "found [2, 32]"});
}

TEST(CheckpointBert, LegacyNameShownInShapeErrors) {
  TempDir dir;
  const std::string path = write_variant(dir, [](StateDict& d) {
    for (auto& [n, t] : d.tensors)
      if (n == "bert.embeddings.LayerNorm.weight") {
        n = "embeddings.LayerNorm.gamma";
        t = Tensor::zeros(DType::F32, {31});
      }
  });
  expect_error([&] { load_bert_checkpoint(path, 1, golden("config.json")); },
               {"bert.embeddings.LayerNorm.weight (\"embeddings.LayerNorm.gamma\" in the file)", "found [31]"});
}

TEST(CheckpointBert, UnexpectedAndDuplicateTensorsAreErrors) {
  TempDir dir;
  std::string path = write_variant(dir, [](StateDict& d) {
    d.tensors.emplace_back("bert.encoder.layer.2.output.dense.weight", Tensor::zeros(DType::F32, {32, 64}));
  });
  expect_error([&] { load_bert_checkpoint(path, 1, golden("config.json")); },
               {"not part of a BERT regressor", "bert.encoder.layer.2.output.dense.weight"});
  path = write_variant(dir, [](StateDict& d) {
    d.tensors.emplace_back("embeddings.LayerNorm.gamma", *d.find("bert.embeddings.LayerNorm.weight"));
  });
  expect_error([&] { load_bert_checkpoint(path, 1, golden("config.json")); },
               {"\"bert.embeddings.LayerNorm.weight\" and \"embeddings.LayerNorm.gamma\" both map to"});
  path = write_variant(dir, [](StateDict& d) {
    for (auto& [n, t] : d.tensors)
      if (n == "bert.pooler.dense.bias") t = Tensor::zeros(DType::I32, {32});
  });
  expect_error([&] { load_bert_checkpoint(path, 1, golden("config.json")); }, {"bert.pooler.dense.bias", "I32"});
}

TEST(CheckpointBert, ConfigErrors) {
  TempDir dir;
  nlohmann::json config = nlohmann::json::parse(test::read_bytes(golden("config.json")));
  config.erase("num_attention_heads");
  test::write_bytes(dir.file("missing.json"), config.dump());
  expect_error([&] { load_bert_checkpoint(golden("model.safetensors"), 1, dir.file("missing.json")); },
               {dir.file("missing.json"), "missing key \"num_attention_heads\""});
  config["num_attention_heads"] = 3;
  test::write_bytes(dir.file("heads.json"), config.dump());
  expect_error([&] { load_bert_checkpoint(golden("model.safetensors"), 1, dir.file("heads.json")); },
               {dir.file("heads.json"), "hidden_size 32 is not divisible by num_attention_heads 3"});
  test::write_bytes(dir.file("weights.safetensors"), test::read_bytes(golden("model.safetensors")));
  expect_error([&] { load_bert_checkpoint(dir.file("weights.safetensors"), 1); }, {"no config.json found"});
  expect_error([&] { load_bert_checkpoint(dir.path().string(), 1); }, {"no model.safetensors or pytorch_model.bin"});
}

TEST(CheckpointBert, FormatDetectionByContent) {
  TempDir dir;
  // A .bin name holding safetensors, and a .safetensors name holding a torch zip, both load.
  test::write_bytes(dir.file("a.bin"), test::read_bytes(golden("model.safetensors")));
  test::write_bytes(dir.file("b.safetensors"), test::read_bytes(golden("pytorch_model.bin")));
  EXPECT_EQ(load_state_dict(dir.file("a.bin")).tensors.size(), load_state_dict(dir.file("b.safetensors")).tensors.size());
  // torch.save's pre-1.6 format is named, not misread.
  test::write_bytes(dir.file("legacy.bin"), std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14));
  expect_error([&] { load_state_dict(dir.file("legacy.bin")); }, {dir.file("legacy.bin"), "legacy"});
  expect_error([&] { load_state_dict(dir.file("none.bin")); }, {dir.file("none.bin"), "does not exist"});
  // Random bytes under a torch name are a broken zip, not a safetensors header of absurd length.
  test::write_bytes(dir.file("pytorch_model.bin"), std::string("\x96\xd0\xa9\xd0\x11\x22\x33\x44\x55\x66\x77\x88", 12));
  expect_error([&] { load_state_dict(dir.file("pytorch_model.bin")); }, {dir.file("pytorch_model.bin"), "not a zip archive"});
  // A directory holding no weights, and a missing path, say so.
  expect_error([&] { load_bert_checkpoint(dir.file("missing_model"), 1); }, {dir.file("missing_model"), "does not exist"});
}

TEST(CheckpointBert, SavedDirectoryRoundTripsByteEqualAndIsWhatTransformersExpects) {
  FT_REQUIRE_PATH(golden("model.safetensors"));
  TempDir dir;
  const BertCheckpoint c = load_bert_checkpoint(golden_dir().string(), 1);
  const std::string out = dir.file("saved");
  save_hf_model_dir(out, c.config, c.params, golden_dir().string());
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"})
    EXPECT_TRUE(fs::is_regular_file(fs::path(out) / f)) << f;
  EXPECT_EQ(test::read_bytes(out + "/vocab.txt"), test::read_bytes(golden("vocab.txt")));

  const BertCheckpoint back = load_bert_checkpoint(out, 1);
  expect_matches_golden(back);
  const SafetensorsFile f = read_safetensors(out + "/model.safetensors");
  EXPECT_EQ(f.header.metadata.at("format"), "pt");

  const nlohmann::json j = nlohmann::json::parse(test::read_bytes(out + "/config.json"));
  EXPECT_EQ(j.at("num_labels"), 1);
  EXPECT_EQ(j.at("problem_type"), "regression");
  EXPECT_EQ(j.at("architectures"), nlohmann::json::array({"BertForSequenceClassification"}));
  EXPECT_EQ(j.at("hidden_dropout_prob").dump(), "0.1");
  const nlohmann::json tc = nlohmann::json::parse(test::read_bytes(out + "/tokenizer_config.json"));
  EXPECT_EQ(tc.at("do_lower_case"), true);

  // Saving again over the same directory replaces it atomically and gives the same bytes.
  const std::string first = test::read_bytes(out + "/model.safetensors");
  save_hf_model_dir(out, back.config, back.params, out);
  EXPECT_EQ(test::read_bytes(out + "/model.safetensors"), first);
}

TEST(CheckpointBert, SaveRejectsIncompleteOrMisshapenParameters) {
  TempDir dir;
  const BertCheckpoint c = load_bert_checkpoint(golden_dir().string(), 1);
  StateDict missing = c.params;
  missing.tensors.pop_back();
  expect_error([&] { save_hf_model_dir(dir.file("a"), c.config, missing, ""); }, {"classifier.bias is missing"});
  StateDict extra = c.params;
  extra.tensors.emplace_back("cls.predictions.bias", Tensor::zeros(DType::F32, {128}));
  expect_error([&] { save_hf_model_dir(dir.file("b"), c.config, extra, ""); }, {"cls.predictions.bias"});
  StateDict wrong = c.params;
  wrong.tensors[0].second = Tensor::zeros(DType::F32, {127, 32});
  expect_error([&] { save_hf_model_dir(dir.file("c"), c.config, wrong, ""); },
               {"word_embeddings.weight", "expected shape [128, 32]", "found [127, 32]"});
  EXPECT_FALSE(fs::exists(dir.file("a")));
}

TEST(CheckpointBert, MiniLmLoadsWithCanonicalNamesAndItsOwnPooler) {
  const fs::path minilm = test::minilm_dir();
  FT_REQUIRE_PATH(minilm / "model.safetensors");
  const BertCheckpoint c = load_bert_checkpoint(minilm.string(), 7);
  EXPECT_EQ(c.config.hidden_size, 384);
  EXPECT_EQ(c.initialised, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  const StateDict raw = load_state_dict((minilm / "model.safetensors").string());
  ASSERT_EQ(raw.find("bert.embeddings.word_embeddings.weight"), nullptr) << "the file has no bert. prefix";
  size_t from_file = 0;
  for (const auto& [name, t] : c.params.tensors) {
    ASSERT_EQ(name.rfind("bert.", 0) == 0, bert_group_of(name) != "head") << name;
    if (bert_group_of(name) == "head") continue;
    const Tensor* r = raw.find(name.substr(5));
    ASSERT_NE(r, nullptr) << name;
    EXPECT_TRUE(same_bytes(t, *r)) << name;
    ++from_file;
  }
  EXPECT_EQ(from_file + 2, bert_param_layout(c.config).specs.size());
}

}  // namespace
}  // namespace ft
