// Format-neutral state dicts: load (safetensors or torch zip, by content) and save (safetensors).
#include "model/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/torch_bin.h"

namespace fs = std::filesystem;

namespace ft {

const Tensor* StateDict::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

std::string find_weights_file(const std::string& dir) {
  const fs::path d(dir);
  for (const char* name : {"model.safetensors", "pytorch_model.bin"})
    if (fs::is_regular_file(d / name)) return (d / name).string();
  for (const char* index : {"model.safetensors.index.json", "pytorch_model.bin.index.json"})
    FT_CHECK(!fs::exists(d / index), dir, ": sharded checkpoint (", index,
             ") is not supported; merge the shards into one file first");
  FT_THROW(dir, ": no model.safetensors or pytorch_model.bin in this directory");
}

namespace {
// torch.save before torch 1.6 (not a zip) starts with this pickled magic number.
constexpr uint8_t kLegacyTorchMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20};
}  // namespace

StateDict load_state_dict(const std::string& path) {
  std::error_code ec;
  FT_CHECK(fs::exists(path, ec), path, ": does not exist (give a model directory, a model.safetensors or a "
           "pytorch_model.bin)");
  if (fs::is_directory(path)) return load_state_dict(find_weights_file(path));
  uint8_t head[16] = {};
  size_t got = 0;
  {
    std::ifstream in(path, std::ios::binary);
    FT_CHECK(in.good(), path, ": cannot open checkpoint");
    in.read(reinterpret_cast<char*>(head), sizeof head);
    got = static_cast<size_t>(in.gcount());
  }
  StateDict out;
  if (looks_like_zip(head, got)) {
    out.tensors = read_torch_bin(path);
    return out;
  }
  FT_CHECK(!(got >= sizeof kLegacyTorchMagic && std::memcmp(head, kLegacyTorchMagic, sizeof kLegacyTorchMagic) == 0),
           path, ": PyTorch's legacy (pre-1.6, non-zip) format is not supported; re-save it with a current torch: "
           "torch.save(torch.load(f), f)");
  // A .bin/.pt/.pth name promises torch.save's zip archive. Safetensors under such a name loads (the
  // format is told by content); anything else is reported as the broken zip it claims to be, not
  // by the safetensors parser's view of its first bytes.
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".bin" || ext == ".pt" || ext == ".pth") {
    try {
      out.tensors = read_safetensors(path).tensors;
      return out;
    } catch (const Error&) {
    }
    char first[16];
    std::snprintf(first, sizeof first, "%02x %02x %02x %02x", head[0], head[1], head[2], head[3]);
    FT_THROW(path, ": not a zip archive (a PyTorch checkpoint such as pytorch_model.bin is a zip archive starting "
             "with \"PK\"; this file ", got < 4 ? std::string("is shorter than 4 bytes") : "starts with bytes " + std::string(first),
             "): the file is damaged, truncated, or not a checkpoint");
  }
  // Everything else must be safetensors; its parser names what is wrong.
  out.tensors = read_safetensors(path).tensors;
  return out;
}

void save_state_dict(const std::string& path, const StateDict& dict) {
  std::vector<NamedTensorRef> refs;
  refs.reserve(dict.tensors.size());
  for (const auto& [name, t] : dict.tensors) refs.push_back({name, &t});
  write_safetensors(path, refs);
}

}  // namespace ft
