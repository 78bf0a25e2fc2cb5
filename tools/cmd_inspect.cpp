// ftengine inspect <file or dir>: what a checkpoint holds. One line per tensor (name, dtype,
// shape, elements), then the parameters per group (embeddings, each encoder layer, encoder total,
// pooler, head: the numbers behind the paper's Figure 1) and, for a model directory or with
// --config, the config and the counts it implies.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/checkpoint.h"
#include "tools/commands.h"

namespace fs = std::filesystem;

namespace ft::tools {

namespace {

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string millions(int64_t n) {
  char buf[32];
  if (n >= 100'000)
    std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%s", with_commas(n).c_str());
  return buf;
}

struct GroupCount {
  int64_t tensors = 0, params = 0;
};

void print_config(const BertConfig& c, const std::string& path) {
  std::printf("config %s\n", path.c_str());
  std::printf("  vocab %d, hidden %d, layers %d, heads %d (head size %d), FFN %d, positions %d, token types %d\n",
              c.vocab_size, c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.head_size(),
              c.intermediate_size, c.max_position_embeddings, c.type_vocab_size);
  std::printf("  activation %s, dropout hidden %g / attention %g / classifier %g, layer norm eps %g, init std %g\n",
              c.hidden_act.c_str(), c.hidden_dropout_prob, c.attention_probs_dropout_prob, c.head_dropout(),
              c.layer_norm_eps, c.initializer_range);
}

void run(const std::string& path, std::string config_path) {
  std::string weights = path;
  if (fs::is_directory(path)) {
    weights = find_weights_file(path);
    if (config_path.empty() && fs::is_regular_file(fs::path(path) / "config.json"))
      config_path = (fs::path(path) / "config.json").string();
  }
  std::optional<BertConfig> config;
  if (!config_path.empty()) config = load_bert_config(config_path);

  const StateDict dict = load_state_dict(weights);
  std::printf("%s: %zu tensors\n", weights.c_str(), dict.tensors.size());
  size_t width = 20;
  for (const auto& [name, t] : dict.tensors) width = std::max(width, name.size());
  std::map<std::string, GroupCount> groups;
  int64_t all_elements = 0;
  for (const auto& [name, t] : dict.tensors) {
    std::printf("  %-*s  %-4s  %-18s %14s\n", static_cast<int>(width), name.c_str(),
                std::string(dtype_name(t.dtype())).c_str(), shape_str(t.shape()).c_str(), with_commas(t.numel()).c_str());
    const std::optional<std::string> canonical = canonical_bert_name(name);
    std::string group = canonical ? bert_group_of(*canonical) : "ignored";
    if (group.empty()) group = "other";
    groups[group].tensors++;
    groups[group].params += t.numel();
    all_elements += t.numel();
  }

  if (config) print_config(*config, config_path);
  const std::optional<BertParamLayout> layout =
      config ? std::optional<BertParamLayout>(bert_param_layout(*config)) : std::nullopt;

  // Group order: embeddings, encoder layers by number, encoder total, pooler, head, then the rest.
  int layers = config ? config->num_hidden_layers : 0;
  for (const auto& [g, c] : groups)
    if (g.rfind("encoder.", 0) == 0) layers = std::max(layers, std::stoi(g.substr(8)) + 1);
  std::printf("\n  %-22s %8s %14s %9s", "group", "tensors", "parameters", "");
  if (layout) std::printf("   %14s", "from config");
  std::printf("\n");
  int64_t model_total = 0, absent = 0;
  const auto row = [&](const std::string& label, const GroupCount& c, std::optional<int64_t> expected) {
    std::printf("  %-22s %8lld %14s %9s", label.c_str(), static_cast<long long>(c.tensors), with_commas(c.params).c_str(),
                c.params >= 100'000 ? ("(" + millions(c.params) + ")").c_str() : "");
    if (expected) {
      std::printf("   %14s", with_commas(*expected).c_str());
      if (c.params == 0 && *expected != 0) {
        absent += *expected;
        std::printf("  absent: initialised at load");
      } else if (*expected != c.params) {
        std::printf(label == "total (regressor)" && *expected - c.params == absent ? "  (the absent groups)"
                                                                                   : "  MISMATCH with the config");
      }
    }
    std::printf("\n");
  };
  const auto expected_of = [&](const std::string& g) -> std::optional<int64_t> {
    if (!layout) return std::nullopt;
    const ParamGroup* pg = layout->find_group(g);
    return pg ? std::optional<int64_t>(pg->count) : std::optional<int64_t>(0);
  };
  const auto get = [&](const std::string& g) { return groups.count(g) ? groups.at(g) : GroupCount{}; };

  row("embeddings", get("embeddings"), expected_of("embeddings"));
  model_total += get("embeddings").params;
  GroupCount encoder;
  std::optional<int64_t> encoder_expected = layout ? std::optional<int64_t>(0) : std::nullopt;
  for (int l = 0; l < layers; ++l) {
    const std::string g = "encoder." + std::to_string(l);
    row(g, get(g), expected_of(g));
    encoder.tensors += get(g).tensors;
    encoder.params += get(g).params;
    if (encoder_expected) *encoder_expected += *expected_of(g);
  }
  row("encoder total", encoder, encoder_expected);
  model_total += encoder.params;
  row("pooler", get("pooler"), expected_of("pooler"));
  row("head", get("head"), expected_of("head"));
  model_total += get("pooler").params + get("head").params;
  GroupCount total{get("embeddings").tensors + encoder.tensors + get("pooler").tensors + get("head").tensors, model_total};
  std::optional<int64_t> layout_total;
  if (layout) {
    layout_total = 0;
    for (const ParamGroup& g : layout->groups) *layout_total += g.count;
  }
  row("total (regressor)", total, layout_total);
  if (groups.count("ignored"))
    row("ignored at load", groups.at("ignored"), std::nullopt);  // cls.* heads, position_ids buffers
  if (groups.count("other")) row("other (not BERT)", groups.at("other"), std::nullopt);
  std::printf("  %-22s %8zu %14s\n", "all tensors in file", dict.tensors.size(), with_commas(all_elements).c_str());
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "inspect", "List a checkpoint's tensors (name, dtype, shape) and its parameters per group; a model "
                 "directory (or --config) also shows the config and the counts it expects");
  struct Options {
    std::string path, config;
  };
  auto opt = std::make_shared<Options>();
  cmd->add_option("path", opt->path, "model directory, .safetensors file or pytorch_model.bin")->required();
  cmd->add_option("--config", opt->config, "config.json to compare with (default: the directory's)");
  cmd->callback([opt] { run(opt->path, opt->config); });
}

}  // namespace ft::tools
