// Reading and writing model checkpoints: safetensors and PyTorch's pytorch_model.bin, Hugging Face
// model directories, and the canonical BERT tensor names.
#pragma once

#include <cstdint>
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

// Loads a .safetensors file or a pytorch_model.bin (detected by content, not by name).
StateDict load_state_dict(const std::string& path);

// A BERT checkpoint mapped onto the canonical names of bert_param_layout(config): "bert." prefix
// added where missing, legacy LayerNorm.gamma/beta renamed, cls.* and position_ids dropped, every
// tensor converted to F32. A missing pooler or classifier is initialised as Hugging Face does
// (normal(0, initializer_range), zero bias) from `seed`, and `initialised` names them.
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
