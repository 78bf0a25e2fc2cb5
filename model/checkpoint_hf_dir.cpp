// A model directory that transformers' BertForSequenceClassification.from_pretrained loads as is.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "model/checkpoint.h"

namespace fs = std::filesystem;

namespace ft {

void save_hf_model_dir(const std::string& dir, const BertConfig& config, const StateDict& params,
                       const std::string& tokenizer_dir) {
  config.validate(dir + "/config.json");
  const BertParamLayout layout = bert_param_layout(config);

  // Every layout tensor exactly once, with the config's shape; nothing else. Saved in layout order, F32.
  std::vector<Tensor> converted;  // keeps F32 copies of non-F32 tensors alive until written
  converted.reserve(layout.specs.size());
  std::vector<NamedTensorRef> refs;
  for (const auto& [name, t] : params.tensors)
    FT_CHECK(layout.find(name), dir, ": cannot save tensor \"", name, "\": not a parameter of this BERT regressor");
  for (const ParamSpec& spec : layout.specs) {
    const Tensor* t = nullptr;
    for (const auto& [name, tensor] : params.tensors) {
      if (name != spec.name) continue;
      FT_CHECK(!t, dir, ": tensor \"", name, "\" is given twice");
      t = &tensor;
    }
    FT_CHECK(t, dir, ": cannot save: tensor ", spec.name, " is missing");
    FT_CHECK(t->shape() == spec.shape, dir, ": cannot save tensor ", spec.name, ": expected shape ",
             shape_str(spec.shape), ", found ", shape_str(t->shape()));
    if (t->dtype() != DType::F32 || t->device() != Device::Host) {
      converted.push_back(t->device() == Device::Host ? t->to(DType::F32) : t->to_host().to(DType::F32));
      t = &converted.back();
    }
    refs.push_back({spec.name, t});
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  FT_CHECK(fs::is_directory(dir), dir, ": cannot create the model directory (", ec.message(), ")");
  const fs::path out(dir);
  write_safetensors((out / "model.safetensors").string(), refs);
  write_file_atomically((out / "config.json").string(), bert_config_to_json(config).dump(2) + "\n");

  if (tokenizer_dir.empty()) return;
  const fs::path from(tokenizer_dir);
  FT_CHECK(fs::is_regular_file(from / "vocab.txt"), tokenizer_dir, ": no vocab.txt to save with the model");
  const auto copy = [&](const char* name) {
    if (!fs::is_regular_file(from / name)) return false;
    if (!fs::exists(out / name) || !fs::equivalent(from / name, out / name))
      copy_file_atomically((from / name).string(), (out / name).string());
    return true;
  };
  copy("vocab.txt");
  copy("tokenizer.json");
  copy("special_tokens_map.json");
  if (!copy("tokenizer_config.json")) {
    // Without one, transformers' BertTokenizer defaults apply (lower-casing on); write them out.
    nlohmann::json tc = {{"tokenizer_class", "BertTokenizer"}, {"do_lower_case", true},
                         {"model_max_length", config.max_position_embeddings}};
    write_file_atomically((out / "tokenizer_config.json").string(), tc.dump(2) + "\n");
  }
}

}  // namespace ft
