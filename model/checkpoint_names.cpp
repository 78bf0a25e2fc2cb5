// Hugging Face BERT checkpoint names -> the canonical names of bert_param_layout.
#include <cctype>

#include "model/checkpoint.h"

namespace ft {

namespace {
bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
}  // namespace

std::optional<std::string> canonical_bert_name(const std::string& name) {
  std::string n = starts_with(name, "bert.") || starts_with(name, "classifier.") ? name : "bert." + name;
  // Pretraining heads (masked LM, next sentence) and buffers that are not parameters.
  if (starts_with(name, "cls.")) return std::nullopt;
  if (n == "bert.embeddings.position_ids" || n == "bert.embeddings.token_type_ids") return std::nullopt;
  // TF-era names kept by some checkpoints (transformers renames them the same way).
  if (ends_with(n, "LayerNorm.gamma")) n.replace(n.size() - 5, 5, "weight");
  else if (ends_with(n, "LayerNorm.beta")) n.replace(n.size() - 4, 4, "bias");
  return n;
}

std::string bert_group_of(const std::string& n) {
  if (starts_with(n, "bert.embeddings.")) return "embeddings";
  if (starts_with(n, "bert.pooler.")) return "pooler";
  if (starts_with(n, "classifier.")) return "head";
  constexpr std::string_view kLayer = "bert.encoder.layer.";
  if (starts_with(n, kLayer)) {
    size_t i = kLayer.size(), j = i;
    while (j < n.size() && std::isdigit(static_cast<unsigned char>(n[j]))) ++j;
    if (j > i && j < n.size() && n[j] == '.' && j - i < 6) return "encoder." + n.substr(i, j - i);
  }
  return "";
}

}  // namespace ft
