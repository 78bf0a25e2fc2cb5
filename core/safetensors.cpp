#include "core/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/mapped_file.h"

namespace ft {

namespace {

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string known_dtypes() {
  std::string s;
  for (DType t : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32, DType::I8, DType::U8,
                  DType::Bool}) {
    if (!s.empty()) s += ", ";
    s += dtype_name(t);
  }
  return s;
}

// One header entry, checked field by field. Numbers are validated before any arithmetic on them.
SafetensorsEntry parse_entry(const std::string& name, const nlohmann::json& info, const std::string& source) {
  const std::string where = source + ": tensor \"" + name + "\"";
  FT_CHECK(!name.empty(), source, ": a tensor has an empty name");
  FT_CHECK(info.is_object(), where, ": expected an object with dtype, shape and data_offsets, found ",
           info.type_name());
  for (const char* key : {"dtype", "shape", "data_offsets"})
    FT_CHECK(info.contains(key), where, ": missing \"", key, "\"");

  SafetensorsEntry e;
  e.name = name;
  const auto& dtype = info.at("dtype");
  FT_CHECK(dtype.is_string(), where, ": \"dtype\" must be a string, found ", dtype.type_name());
  const std::string dtype_str = dtype.get<std::string>();
  FT_CHECK(parse_dtype(dtype_str, &e.dtype), where, ": unknown dtype \"", dtype_str, "\" (ftengine reads ",
           known_dtypes(), ")");

  const auto& shape = info.at("shape");
  FT_CHECK(shape.is_array(), where, ": \"shape\" must be an array, found ", shape.type_name());
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : shape) {
    FT_CHECK(d.is_number_unsigned(), where, ": shape entries must be non-negative integers, found ", d.dump());
    const uint64_t v = d.get<uint64_t>();
    FT_CHECK(v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), where, ": dimension ", v,
             " is too large");
    e.shape.push_back(static_cast<int64_t>(v));
    if (v != 0 && numel > std::numeric_limits<uint64_t>::max() / v) overflow = true;
    numel = overflow ? 0 : numel * v;
  }
  if (std::find(e.shape.begin(), e.shape.end(), 0) != e.shape.end()) {  // an empty tensor cannot overflow
    overflow = false;
    numel = 0;
  }
  FT_CHECK(!overflow, where, ": shape ", shape_str(e.shape), " has more elements than fit in 64 bits");
  const uint64_t elem = dtype_size(e.dtype);
  FT_CHECK(numel <= std::numeric_limits<uint64_t>::max() / elem, where, ": shape ", shape_str(e.shape),
           " is too large in bytes");

  const auto& offsets = info.at("data_offsets");
  FT_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
               offsets[1].is_number_unsigned(),
           where, ": \"data_offsets\" must be two non-negative integers [begin, end], found ", offsets.dump());
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  FT_CHECK(e.end >= e.begin, where, ": data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  FT_CHECK(e.end - e.begin == numel * elem, where, ": data_offsets [", e.begin, ", ", e.end, "] hold ",
           e.end - e.begin, " bytes but shape ", shape_str(e.shape), " of ", dtype_str, " needs ", numel * elem);
  return e;
}

}  // namespace

SafetensorsHeader parse_safetensors_header(const uint8_t* bytes, size_t size, const std::string& source) {
  FT_CHECK(size >= 8, source, ": truncated safetensors file (", size, " bytes; the 8-byte header length is missing)");
  const uint64_t n = read_u64_le(bytes);
  FT_CHECK(n <= kSafetensorsMaxHeaderSize, source, ": not a safetensors file (its first 8 bytes give a header length of ",
           n, ", above the format's limit of ", kSafetensorsMaxHeaderSize, " bytes): the file is damaged or of another kind");
  FT_CHECK(n <= size - 8, source, ": header length ", n, " is larger than the file (", size,
           " bytes): the file is truncated or not safetensors");
  FT_CHECK(n >= 2 && bytes[8] == '{', source, ": header does not start with '{' (not a safetensors JSON header)");
  const char* text = reinterpret_cast<const char*>(bytes + 8);

  // Duplicate top-level names would be silently merged by a plain parse; catch them as they stream by.
  std::set<std::string> seen;
  std::string duplicate;
  const auto on_event = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && duplicate.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second) duplicate = key;
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text, text + n, on_event);
  } catch (const nlohmann::json::exception& e) {
    FT_THROW(source, ": header is not valid JSON (", e.what(), ")");
  }
  FT_CHECK(duplicate.empty(), source, ": duplicate tensor name \"", duplicate, "\" in the header");
  FT_CHECK(header.is_object(), source, ": header must be a JSON object, found ", header.type_name());

  SafetensorsHeader out;
  out.data_start = 8 + n;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      FT_CHECK(value.is_object(), source, ": __metadata__ must be an object of strings, found ", value.type_name());
      for (const auto& [mk, mv] : value.items()) {
        FT_CHECK(mv.is_string(), source, ": __metadata__ value of \"", mk, "\" must be a string, found ",
                 mv.type_name());
        out.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    out.tensors.push_back(parse_entry(key, value, source));
  }

  // Sorted by (begin, end), the regions must tile [0, data size) exactly: zero-length tensors sort
  // before the tensor that starts where they sit.
  std::stable_sort(out.tensors.begin(), out.tensors.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected_begin = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const auto& e : out.tensors) {
    if (e.begin < expected_begin) {
      FT_THROW(source, ": tensor \"", e.name, "\" at data_offsets [", e.begin, ", ", e.end, "] overlaps \"",
               previous->name, "\" at [", previous->begin, ", ", previous->end, "]");
    }
    if (e.begin > expected_begin) {
      FT_THROW(source, ": gap in the data: bytes [", expected_begin, ", ", e.begin, ") before tensor \"", e.name,
               "\" belong to no tensor");
    }
    expected_begin = e.end;
    previous = &e;
  }
  const uint64_t data_size = size - out.data_start;
  FT_CHECK(expected_begin <= data_size, source, ": tensor data runs past the end of the file (the tensors need ",
           expected_begin, " bytes after the header, the file has ", data_size, "): truncated file");
  FT_CHECK(expected_begin == data_size, source, ": ", data_size - expected_begin,
           " trailing bytes after the last tensor (the tensors cover ", expected_begin, " of ", data_size,
           " data bytes)");
  return out;
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  SafetensorsFile out;
  out.path = path;
  out.header = parse_safetensors_header(file->data(), file->size(), path);
  out.tensors.reserve(out.header.tensors.size());
  for (const auto& e : out.header.tensors) {
    uint8_t* p = file->mutable_data() + out.header.data_start + e.begin;
    Tensor t;
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(e.dtype) == 0) {
      t = Tensor::borrow(e.dtype, e.shape, p, file);
    } else {
      t = Tensor::zeros(e.dtype, e.shape);
      if (t.nbytes()) std::memcpy(t.raw(), p, t.nbytes());
    }
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

std::string safetensors_header_bytes(const std::vector<NamedTensorRef>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    FT_CHECK(!name.empty() && name != "__metadata__", "safetensors writer: invalid tensor name \"", name, "\"");
    FT_CHECK(names.insert(name).second, "safetensors writer: duplicate tensor name \"", name, "\"");
    FT_CHECK(tensor && tensor->defined(), "safetensors writer: tensor \"", name, "\" has no data");
    const uint64_t bytes = tensor->nbytes();
    nlohmann::ordered_json entry;
    entry["dtype"] = std::string(dtype_name(tensor->dtype()));
    entry["shape"] = tensor->shape();
    entry["data_offsets"] = {offset, offset + bytes};
    header[name] = std::move(entry);
    offset += bytes;
  }
  std::string json;
  try {
    json = header.dump();
  } catch (const nlohmann::json::exception& e) {
    FT_THROW("safetensors writer: a tensor name or metadata value is not valid UTF-8 (", e.what(), ")");
  }
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  json.append((8 - (8 + json.size()) % 8) % 8, ' ');
  FT_CHECK(json.size() <= kSafetensorsMaxHeaderSize, "safetensors writer: header of ", json.size(),
           " bytes exceeds the format's limit");
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += json;
  return out;
}

void write_safetensors(const std::string& path, const std::vector<NamedTensorRef>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  for (const auto& [name, tensor] : tensors)
    FT_CHECK(tensor && tensor->device() == Device::Host, path, ": tensor \"", name,
             "\" is not in host memory; copy it to the host before saving");
  const std::string header = safetensors_header_bytes(tensors, metadata);
  AtomicFileWriter out(path);
  out.write(header);
  for (const auto& [name, tensor] : tensors)
    if (tensor->nbytes()) out.write(tensor->raw(), tensor->nbytes());
  out.commit();
}

}  // namespace ft
