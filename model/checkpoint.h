// Reading and writing model checkpoints: safetensors and PyTorch's pytorch_model.bin, Hugging Face
// model directories, and the canonical BERT tensor names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "model/bert_config.h"
#include "model/bert_params.h"

namespace ft {

// Named tensors in file order.
struct StateDict {
  std::vector<std::pair<std::string, Tensor>> tensors;
  const Tensor* find(const std::string& name) const;
};

// Loads a .safetensors file or a pytorch_model.bin (detected by content, not by name). Tensors
// keep the file's names and dtypes; safetensors tensors borrow the memory-mapped file (copy-on-write).
// A directory means its model.safetensors, else its pytorch_model.bin.
StateDict load_state_dict(const std::string& path);

// Writes `dict` as safetensors with __metadata__ {"format": "pt"}, names and order unchanged,
// atomically.
void save_state_dict(const std::string& path, const StateDict& dict);

// The weights file of a model directory: model.safetensors, else pytorch_model.bin. Sharded
// checkpoints (*.index.json) are an error that says so.
std::string find_weights_file(const std::string& dir);

// Checkpoint name -> canonical name of bert_param_layout: "bert." added where missing (except for
// "classifier."), legacy "LayerNorm.gamma"/"LayerNorm.beta" renamed to weight/bias. Returns
// nullopt for tensors a BERT regressor ignores: pretraining heads ("cls.*") and the
// "embeddings.position_ids" / "embeddings.token_type_ids" buffers (with or without the prefix).
std::optional<std::string> canonical_bert_name(const std::string& name);

// The parameter group of a canonical name ("embeddings", "encoder.<i>", "pooler", "head"), or ""
// for a name that belongs to none.
std::string bert_group_of(const std::string& canonical_name);

// A BERT checkpoint mapped onto the canonical names of bert_param_layout(config): "bert." prefix
// added where missing, legacy LayerNorm.gamma/beta renamed, cls.* and position_ids dropped, every
// tensor converted to F32. A missing pooler or classifier is initialised as Hugging Face does
// (normal(0, initializer_range), zero bias) from `seed`, and `initialised` names them; one log
// line reports them. The normal draws are ft::philox_normal(seed, stream = index of the tensor in
// bert_param_layout(config).specs, idx = element index) * initializer_range, so they depend on
// the seed and the config only. Tensors that are F32 in a safetensors file are not copied.
// A missing encoder/embedding tensor, or a shape that differs from the config, is an error naming
// the file, the tensor, the expected and the found shape.
struct BertCheckpoint {
  BertConfig config;
  std::string source;                 // file the weights came from
  StateDict params;                   // canonical names, F32, in layout order
  std::vector<std::string> initialised;
};

// `path` is a model directory (config.json + model.safetensors or pytorch_model.bin) or a weights
// file with `config_path` naming its config.
BertCheckpoint load_bert_checkpoint(const std::string& path, uint64_t seed, const std::string& config_path = "");

// Writes `dir` so that transformers' BertForSequenceClassification.from_pretrained(dir) loads it:
// config.json (num_labels 1, problem_type regression), model.safetensors with HF names, and the
// tokenizer files copied from `tokenizer_dir` when given (vocab.txt, tokenizer_config.json,
// tokenizer.json, special_tokens_map.json). Every file is written atomically.
void save_hf_model_dir(const std::string& dir, const BertConfig& config, const StateDict& params,
                       const std::string& tokenizer_dir);

}  // namespace ft
