// A BERT checkpoint (any of the names Hugging Face has used) mapped onto bert_param_layout.
#include <filesystem>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/logging.h"
#include "core/philox.h"
#include "model/checkpoint.h"

namespace fs = std::filesystem;

namespace ft {

namespace {

// Hugging Face's _init_weights for nn.Linear: weight ~ normal(0, initializer_range), bias = 0.
Tensor initialise(const ParamSpec& spec, uint32_t stream, float initializer_range, uint64_t seed) {
  Tensor t = Tensor::zeros(DType::F32, spec.shape);
  const bool is_bias = spec.name.size() >= 5 && spec.name.compare(spec.name.size() - 5, 5, ".bias") == 0;
  if (!is_bias) {
    float* w = t.data<float>();  // (out, in)
    for (int64_t i = 0; i < t.numel(); ++i)
      w[i] = static_cast<float>(initializer_range * philox_normal(seed, stream, static_cast<uint64_t>(i)));
  }
  return t;
}

std::string join(const std::vector<std::string>& names, size_t max_shown) {
  std::ostringstream os;
  for (size_t i = 0; i < names.size() && i < max_shown; ++i) os << (i ? ", " : "") << names[i];
  if (names.size() > max_shown) os << ", ... (" << names.size() << " in all)";
  return os.str();
}

}  // namespace

BertCheckpoint load_bert_checkpoint(const std::string& path, uint64_t seed, const std::string& config_path) {
  std::error_code ec;
  FT_CHECK(fs::exists(path, ec), path, ": the model does not exist (give an HF model directory holding config.json "
           "and model.safetensors or pytorch_model.bin, or a weights file)");
  std::string weights, config_file = config_path;
  if (fs::is_directory(path)) {
    weights = find_weights_file(path);
    if (config_file.empty()) config_file = (fs::path(path) / "config.json").string();
  } else {
    weights = path;
    if (config_file.empty()) config_file = (fs::path(path).parent_path() / "config.json").string();
  }
  FT_CHECK(fs::is_regular_file(config_file), weights, ": no config.json found (looked for ", config_file,
           "); pass the model's config.json");

  BertCheckpoint ckpt;
  ckpt.config = load_bert_config(config_file);
  ckpt.source = weights;
  StateDict raw = load_state_dict(weights);
  const BertParamLayout layout = bert_param_layout(ckpt.config);

  // canonical name -> index into raw.tensors
  std::map<std::string, size_t> by_canonical;
  std::vector<std::string> unexpected;
  for (size_t i = 0; i < raw.tensors.size(); ++i) {
    const std::string& name = raw.tensors[i].first;
    const std::optional<std::string> canonical = canonical_bert_name(name);
    if (!canonical) continue;
    const auto [it, fresh] = by_canonical.emplace(*canonical, i);
    FT_CHECK(fresh, weights, ": tensors \"", raw.tensors[it->second].first, "\" and \"", name,
             "\" both map to ", *canonical);
    if (!layout.find(*canonical)) unexpected.push_back(name);
  }
  FT_CHECK(unexpected.empty(), weights, ": tensors that are not part of a BERT regressor for this config: ",
           join(unexpected, 5));

  std::vector<std::string> missing;
  for (size_t s = 0; s < layout.specs.size(); ++s) {
    const ParamSpec& spec = layout.specs[s];
    const auto it = by_canonical.find(spec.name);
    if (it == by_canonical.end()) {
      if (spec.group == "pooler" || spec.group == "head") {
        ckpt.params.tensors.emplace_back(
            spec.name, initialise(spec, static_cast<uint32_t>(s), ckpt.config.initializer_range, seed));
        ckpt.initialised.push_back(spec.name);
      } else {
        missing.push_back(spec.name + " " + shape_str(spec.shape));
      }
      continue;
    }
    const auto& [file_name, tensor] = raw.tensors[it->second];
    const std::string shown = file_name == spec.name ? spec.name : spec.name + " (\"" + file_name + "\" in the file)";
    FT_CHECK(tensor.shape() == spec.shape, weights, ": tensor ", shown, ": expected shape ", shape_str(spec.shape),
             " (from ", config_file, "), found ", shape_str(tensor.shape()));
    const DType dt = tensor.dtype();
    FT_CHECK(dt == DType::F32 || dt == DType::F16 || dt == DType::BF16 || dt == DType::F64, weights, ": tensor ",
             shown, " has dtype ", dtype_name(dt), "; parameters must be floating point");
    // F32 tensors are kept as they are (a safetensors tensor then stays a copy-on-write view).
    ckpt.params.tensors.emplace_back(spec.name, dt == DType::F32 ? tensor : tensor.to(DType::F32));
  }
  FT_CHECK(missing.empty(), weights, ": missing tensor ", missing.front(), " (expected shape from ", config_file,
           ")", missing.size() > 1 ? " and " + std::to_string(missing.size() - 1) + " more" : std::string());
  if (!ckpt.initialised.empty()) {
    FT_LOG_WARN(weights, ": not in the checkpoint, initialised as Hugging Face does (weights normal(0, ",
                ckpt.config.initializer_range, "), biases 0, seed ", seed, "): ", join(ckpt.initialised, 8));
  }
  return ckpt;
}

}  // namespace ft
