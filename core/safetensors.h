// Safetensors (https://github.com/huggingface/safetensors), read and written exactly as the format
// says:
//
//   [8 bytes]  N, the header length, unsigned little-endian
//   [N bytes]  a UTF-8 JSON object: {"<name>": {"dtype": "F32", "shape": [2, 3],
//              "data_offsets": [begin, end]}, ..., "__metadata__": {"<key>": "<value>"}}
//              (the writer pads it with trailing spaces so that 8 + N is a multiple of 8)
//   [rest]     the tensor bytes, row-major, little-endian; offsets are relative to byte 8 + N
//
// The reader enforces the reference implementation's rules before it trusts any number from the
// header: N at most 100,000,000 and within the file; the header a JSON object with unique names;
// each entry exactly dtype/shape/data_offsets with a known dtype; end - begin = elements x dtype
// size; the offsets, sorted, contiguous from 0 with no gap or overlap and ending exactly at the end
// of the file; __metadata__ a string-to-string map. Zero-length tensors and an empty list are legal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace ft {

constexpr uint64_t kSafetensorsMaxHeaderSize = 100'000'000;

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte offsets relative to the data start
};

struct SafetensorsHeader {
  uint64_t data_start = 0;                    // 8 + N
  std::vector<SafetensorsEntry> tensors;      // in data order (sorted by offset)
  std::map<std::string, std::string> metadata;
};

// Parses and validates the header of a complete safetensors file held in `bytes` (`size` must be
// the whole file's size). `source` names the file in errors. Never reads outside [0, size).
SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& source);

// A safetensors file mapped into memory. Tensors whose data is aligned for their dtype borrow the
// mapping (zero-copy; copy-on-write, so writing to them never touches the file); the others are
// copied into aligned memory.
struct SafetensorsFile {
  std::string path;
  SafetensorsHeader header;
  std::vector<std::pair<std::string, Tensor>> tensors;  // in data order
};
SafetensorsFile read_safetensors(const std::string& path);

// Writes `tensors` in the given order (header keys in that order, data back to back) with
// __metadata__ = `metadata` (Hugging Face wants {"format": "pt"}), atomically. Host tensors only;
// names must be unique, non-empty and not "__metadata__".
struct NamedTensorRef {
  std::string name;
  const Tensor* tensor;
};
void write_safetensors(const std::string& path, const std::vector<NamedTensorRef>& tensors,
                       const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// The header bytes (8-byte length + padded JSON) that write_safetensors would write.
std::string safetensors_header_bytes(const std::vector<NamedTensorRef>& tensors,
                                     const std::map<std::string, std::string>& metadata);

}  // namespace ft
