// The parameters of BertForSequenceClassification (num_labels = 1), in ftengine's order.
//
// Names are Hugging Face's canonical ones (with the "bert." prefix; the head is "classifier.").
// The order is the layout of the one contiguous parameter buffer: group by group (embeddings,
// encoder.0 .. encoder.L-1, pooler, head), and within each group first the tensors that get weight
// decay, then those that do not (biases and LayerNorm weights, as HF Trainer decides). Inside a
// layer, query/key/value weights are consecutive, and so are their biases, so that they form
// the fused (3C, C) QKV projection and its (3C) bias.
// Every tensor starts at a multiple of kParamAlignment elements (padding stays zero), so kernels
// can use 16-byte vector loads on any tensor; the exceptions are key/value weight and bias, which
// follow query's directly so the fused blocks have no gaps (the fused block itself is aligned).
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/bert_config.h"

namespace ft {

constexpr int64_t kParamAlignment = 16;

struct ParamSpec {
  std::string name;    // "bert.encoder.layer.3.attention.self.query.weight"
  Shape shape;
  std::string group;   // "embeddings", "encoder.3", "pooler" or "head"
  bool decay = true;   // false for biases and LayerNorm weights
  int64_t offset = 0;  // element offset in the parameter buffer (aligned)
  int64_t numel() const { return shape_numel(shape); }
};

struct ParamGroup {
  std::string name;
  int64_t offset = 0;  // first element of the group in the parameter buffer
  int64_t size = 0;    // elements including alignment padding (the next group starts here + size)
  int64_t count = 0;   // real parameters (no padding)
  std::vector<int> specs;  // indices into BertParamLayout::specs
};

struct BertParamLayout {
  std::vector<ParamSpec> specs;
  std::vector<ParamGroup> groups;  // embeddings, encoder.0..L-1, pooler, head
  int64_t total = 0;               // buffer size in elements (with padding)

  const ParamSpec* find(const std::string& name) const;  // null if absent
  const ParamGroup* find_group(const std::string& name) const;
};

BertParamLayout bert_param_layout(const BertConfig& config);

}  // namespace ft
