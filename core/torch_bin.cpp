#include "core/torch_bin.h"

#include <zip.h>

#include <memory>
#include <optional>

#include "core/error.h"

namespace ft {

namespace {

std::string libzip_error(int code) {
  zip_error_t e;
  zip_error_init_with_code(&e, code);
  std::string s = zip_error_strerror(&e);
  zip_error_fini(&e);
  return s;
}

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }  // read-only: nothing to write back
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

ZipPtr open_zip(const std::string& path) {
  int code = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  FT_CHECK(z, path, ": not a readable zip archive (libzip: ", libzip_error(code), ")");
  return ZipPtr(z);
}

std::optional<zip_uint64_t> find_entry(zip_t* z, const std::string& name) {
  const zip_int64_t i = zip_name_locate(z, name.c_str(), ZIP_FL_ENC_RAW);
  if (i < 0) return std::nullopt;
  return static_cast<zip_uint64_t>(i);
}

// Reads one entry completely; its declared size must not exceed `max_size`.
std::vector<uint8_t> read_entry(zip_t* z, zip_uint64_t index, const std::string& path, const std::string& name,
                                uint64_t max_size) {
  zip_stat_t st;
  zip_stat_init(&st);
  FT_CHECK(zip_stat_index(z, index, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE), path, ": cannot stat ", name,
           " (libzip: ", zip_strerror(z), ")");
  FT_CHECK(st.size <= max_size, path, ": ", name, " is ", st.size, " bytes, more than the ", max_size, " expected");
  if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
    FT_THROW(path, ": ", name, " uses zip compression method ", st.comp_method, " (only stored or deflated)");
  // The sizes come from the archive's directory; do not allocate what the data cannot hold.
  if (st.valid & ZIP_STAT_COMP_SIZE) {
    if (st.comp_method == ZIP_CM_STORE)
      FT_CHECK(st.size == st.comp_size, path, ": ", name, " is stored uncompressed but its sizes differ (", st.size,
               " vs ", st.comp_size, "): corrupt archive");
    else  // deflate expands at most 1032:1
      FT_CHECK(st.size / 1032 <= st.comp_size + 1, path, ": ", name, " claims ", st.size, " bytes from ",
               st.comp_size, " compressed: corrupt archive");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(st.size));
  zip_file_t* f = zip_fopen_index(z, index, 0);
  FT_CHECK(f, path, ": cannot open ", name, " in the archive (libzip: ", zip_strerror(z), ")");
  size_t got = 0;
  while (got < bytes.size()) {
    const zip_int64_t n = zip_fread(f, bytes.data() + got, bytes.size() - got);
    if (n <= 0) {
      const std::string why = n < 0 ? zip_file_strerror(f) : "unexpected end of data";
      zip_fclose(f);
      FT_THROW(path, ": reading ", name, " failed after ", got, " of ", bytes.size(), " bytes (", why, ")");
    }
    got += static_cast<size_t>(n);
  }
  // Reading to the end lets libzip verify the CRC.
  uint8_t extra;
  const zip_int64_t tail = zip_fread(f, &extra, 1);
  const std::string why = tail < 0 ? zip_file_strerror(f) : "";
  const int close_rc = zip_fclose(f);
  FT_CHECK(tail == 0, path, ": ", name, " is corrupt (", tail < 0 ? why : "more data than its declared size", ")");
  FT_CHECK(close_rc == 0, path, ": ", name, " is corrupt (libzip: ", libzip_error(close_rc), ")");
  return bytes;
}

// "<archive>/data.pkl": exactly one, in a single top-level folder (torch names the folder after
// the file it first wrote, so any name is accepted).
std::string find_archive_prefix(zip_t* z, const std::string& path) {
  const zip_int64_t n = zip_get_num_entries(z, 0);
  std::vector<std::string> found;
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
    if (!name) continue;
    const std::string s = name;
    const size_t slash = s.find('/');
    if (slash != std::string::npos && slash > 0 && s.substr(slash) == "/data.pkl") found.push_back(s.substr(0, slash));
  }
  FT_CHECK(!found.empty(), path, ": zip archive has no <archive>/data.pkl: not a PyTorch checkpoint");
  FT_CHECK(found.size() == 1, path, ": zip archive has ", found.size(), " data.pkl files (", found[0], "/, ",
           found[1], "/, ...); expected one");
  return found[0];
}

}  // namespace

bool looks_like_zip(const uint8_t* bytes, size_t size) {
  return size >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4;
}

std::vector<std::pair<std::string, Tensor>> read_torch_bin(const std::string& path) {
  ZipPtr zip = open_zip(path);
  const std::string prefix = find_archive_prefix(zip.get(), path);

  if (auto order = find_entry(zip.get(), prefix + "/byteorder")) {
    const std::vector<uint8_t> b = read_entry(zip.get(), *order, path, prefix + "/byteorder", 64);
    const std::string s(b.begin(), b.end());
    FT_CHECK(s == "little", path, ": byteorder is \"", s, "\"; only little-endian checkpoints are supported");
  }

  const std::string pkl_name = prefix + "/data.pkl";
  const std::vector<uint8_t> pkl =
      read_entry(zip.get(), *find_entry(zip.get(), pkl_name), path, pkl_name, kTorchBinMaxPickleSize);
  const PickledStateDict dict = unpickle_state_dict(pkl.data(), pkl.size(), path + ": " + pkl_name);

  // Read each storage once and cut every tensor that views it; storages are freed as we go.
  std::vector<Tensor> tensors(dict.tensors.size());
  std::vector<std::vector<size_t>> users(dict.storages.size());
  for (size_t i = 0; i < dict.tensors.size(); ++i) users[static_cast<size_t>(dict.tensors[i].storage)].push_back(i);
  for (size_t s = 0; s < dict.storages.size(); ++s) {
    if (users[s].empty()) continue;
    const PickledStorage& storage = dict.storages[s];
    const std::string entry = prefix + "/data/" + storage.key;
    const auto index = find_entry(zip.get(), entry);
    FT_CHECK(index.has_value(), path, ": storage ", entry, " used by tensor \"", dict.tensors[users[s][0]].name,
             "\" is missing from the archive");
    const uint64_t declared = static_cast<uint64_t>(storage.numel) * dtype_size(storage.dtype);
    const std::vector<uint8_t> bytes = read_entry(zip.get(), *index, path, entry, declared);
    for (size_t i : users[s])
      tensors[i] = materialize_pickled_tensor(dict.tensors[i], storage, bytes.data(), bytes.size(), path + ": " + entry);
  }

  std::vector<std::pair<std::string, Tensor>> out;
  out.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.emplace_back(dict.tensors[i].name, std::move(tensors[i]));
  return out;
}

}  // namespace ft
