// ftengine convert IN OUT: a checkpoint (pytorch_model.bin or safetensors, or a model directory)
// to safetensors, written atomically. Names and dtypes are kept as they are unless asked:
// --canonical maps them to ftengine's canonical BERT names (adds "bert.", renames LayerNorm
// gamma/beta, drops cls.* heads and position_ids buffers); --dtype F32|F16|BF16 converts every
// floating tensor (rounding to nearest even when narrowing: F16/BF16 halve the file, e.g. to carry a
// model to a machine with a size limit; the loader widens them back to F32, so the model computes
// with the rounded weights). --f32 is --dtype F32.
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/error.h"
#include "model/checkpoint.h"
#include "tools/commands.h"

namespace ft::tools {

namespace {

struct Options {
  std::string in, out, dtype;
  bool canonical = false, f32 = false;
};

bool is_floating(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::F64; }

void run(const Options& o) {
  FT_CHECK(!(o.f32 && !o.dtype.empty()), "--f32 and --dtype: give one of them");
  std::optional<DType> to;
  if (o.f32) to = DType::F32;
  if (!o.dtype.empty()) {
    DType d{};
    FT_CHECK(parse_dtype(o.dtype, &d) && is_floating(d) && d != DType::F64, "--dtype \"", o.dtype,
             "\": must be F32, F16 or BF16");
    to = d;
  }
  FT_CHECK(o.out.size() < 4 || o.out.compare(o.out.size() - 4, 4, ".bin") != 0, o.out,
           ": convert writes safetensors only; name the output *.safetensors");
  const StateDict in = load_state_dict(o.in);
  StateDict out;
  std::set<std::string> names;
  size_t dropped = 0;
  for (const auto& [name, t] : in.tensors) {
    std::string n = name;
    if (o.canonical) {
      const std::optional<std::string> c = canonical_bert_name(name);
      if (!c) {
        ++dropped;
        continue;
      }
      n = *c;
    }
    FT_CHECK(names.insert(n).second, o.in, ": two tensors map to the name \"", n, "\"");
    out.tensors.emplace_back(n, to && is_floating(t.dtype()) && t.dtype() != *to ? t.to(*to) : t);
  }
  save_state_dict(o.out, out);
  std::printf("%s -> %s: %zu tensors%s\n", o.in.c_str(), o.out.c_str(), out.tensors.size(),
              dropped ? (", " + std::to_string(dropped) + " dropped (cls.* heads, position_ids buffers)").c_str() : "");
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert",
                                 "Convert a pytorch_model.bin (or safetensors file, or model directory) to "
                                 "safetensors, natively and atomically");
  auto opt = std::make_shared<Options>();
  cmd->add_option("input", opt->in, "pytorch_model.bin, .safetensors file or model directory")->required();
  cmd->add_option("output", opt->out, "the .safetensors file to write")->required();
  cmd->add_flag("--canonical", opt->canonical,
                "rename to canonical BERT names (bert. prefix, LayerNorm weight/bias) and drop cls.* and "
                "position_ids");
  cmd->add_flag("--f32", opt->f32, "widen F16/BF16/F64 tensors to F32 (the same as --dtype F32)");
  cmd->add_option("--dtype", opt->dtype,
                  "convert every floating tensor to F32, F16 or BF16 (narrowing rounds to nearest even)");
  cmd->callback([opt] { run(*opt); });
}

}  // namespace ft::tools
