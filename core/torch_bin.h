// PyTorch checkpoints written by torch.save in the zip format (torch >= 1.6), e.g. Hugging Face's
// pytorch_model.bin, read natively: no Python.
//
// Layout of the zip (stored, not compressed; any single top-level folder name):
//   <archive>/data.pkl      the pickled state dict (see core/pickle.h for the subset understood)
//   <archive>/data/<key>    the raw little-endian bytes of each storage
//   <archive>/byteorder     "little" (absent in old files, which are little-endian)
//   <archive>/version, .format_version, .storage_alignment, .data/serialization_id  (not needed)
// Tensors are materialised as contiguous host tensors in their storage's dtype, honouring storage
// offsets, strides and storages shared between tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/pickle.h"
#include "core/tensor.h"

namespace ft {

// The pickle inside the zip may be at most this large (a state dict's pickle is kilobytes).
constexpr uint64_t kTorchBinMaxPickleSize = 256ull << 20;

// True if the bytes start like a zip archive ("PK\x03\x04").
bool looks_like_zip(const uint8_t* bytes, size_t size);

// Reads every tensor of a torch.save'd state dict, in the pickle's order. Errors name the file
// and the fault (not a zip, no data.pkl, a pickle outside the supported subset, a missing or
// short storage, a big-endian file).
std::vector<std::pair<std::string, Tensor>> read_torch_bin(const std::string& path);

}  // namespace ft
