#include "model/bert_params.h"

#include "core/error.h"

namespace ft {

const ParamSpec* BertParamLayout::find(const std::string& name) const {
  for (const auto& s : specs)
    if (s.name == name) return &s;
  return nullptr;
}

const ParamGroup* BertParamLayout::find_group(const std::string& name) const {
  for (const auto& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

namespace {
int64_t align_up(int64_t n) { return (n + kParamAlignment - 1) / kParamAlignment * kParamAlignment; }

struct LayoutBuilder {
  BertParamLayout layout;
  void begin_group(const std::string& name) {
    ParamGroup g;
    g.name = name;
    g.offset = layout.total;
    layout.groups.push_back(g);
  }
  // pad_after = false packs the next tensor right behind this one (the fused q/k/v blocks).
  void add(const std::string& name, Shape shape, bool decay, bool pad_after = true) {
    ParamSpec s;
    s.name = name;
    s.shape = std::move(shape);
    s.group = layout.groups.back().name;
    s.decay = decay;
    s.offset = layout.total;
    layout.total += pad_after ? align_up(s.numel()) : s.numel();
    ParamGroup& g = layout.groups.back();
    g.specs.push_back(static_cast<int>(layout.specs.size()));
    g.count += s.numel();
    g.size = layout.total - g.offset;
    layout.specs.push_back(std::move(s));
  }
};
}  // namespace

BertParamLayout bert_param_layout(const BertConfig& config) {
  const int64_t C = config.hidden_size, F = config.intermediate_size;
  LayoutBuilder b;
  b.begin_group("embeddings");
  b.add("bert.embeddings.word_embeddings.weight", {config.vocab_size, C}, true);
  b.add("bert.embeddings.position_embeddings.weight", {config.max_position_embeddings, C}, true);
  b.add("bert.embeddings.token_type_embeddings.weight", {config.type_vocab_size, C}, true);
  b.add("bert.embeddings.LayerNorm.weight", {C}, false);
  b.add("bert.embeddings.LayerNorm.bias", {C}, false);
  for (int l = 0; l < config.num_hidden_layers; ++l) {
    const std::string p = "bert.encoder.layer." + std::to_string(l) + ".";
    b.begin_group("encoder." + std::to_string(l));
    // Weights (decayed) first; q/k/v consecutive so they form the fused (3C, C) projection.
    b.add(p + "attention.self.query.weight", {C, C}, true, false);
    b.add(p + "attention.self.key.weight", {C, C}, true, false);
    b.add(p + "attention.self.value.weight", {C, C}, true);
    b.add(p + "attention.output.dense.weight", {C, C}, true);
    b.add(p + "intermediate.dense.weight", {F, C}, true);
    b.add(p + "output.dense.weight", {C, F}, true);
    b.add(p + "attention.self.query.bias", {C}, false, false);
    b.add(p + "attention.self.key.bias", {C}, false, false);
    b.add(p + "attention.self.value.bias", {C}, false);
    b.add(p + "attention.output.dense.bias", {C}, false);
    b.add(p + "attention.output.LayerNorm.weight", {C}, false);
    b.add(p + "attention.output.LayerNorm.bias", {C}, false);
    b.add(p + "intermediate.dense.bias", {F}, false);
    b.add(p + "output.dense.bias", {C}, false);
    b.add(p + "output.LayerNorm.weight", {C}, false);
    b.add(p + "output.LayerNorm.bias", {C}, false);
  }
  b.begin_group("pooler");
  b.add("bert.pooler.dense.weight", {C, C}, true);
  b.add("bert.pooler.dense.bias", {C}, false);
  b.begin_group("head");
  b.add("classifier.weight", {1, C}, true);
  b.add("classifier.bias", {1}, false);
  return b.layout;
}

}  // namespace ft
