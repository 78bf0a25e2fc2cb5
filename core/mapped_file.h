// MappedFile: a whole file mapped into memory, for zero-copy reads of checkpoints.
//
// The mapping is private and copy-on-write (MAP_PRIVATE, PROT_READ | PROT_WRITE): tensors that
// borrow it may be written to without the file ever changing, and without a copy until a page is
// first written. Tensors borrowing the mapping keep it alive through a shared_ptr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ft {

class MappedFile {
 public:
  // Maps `path` (an empty file maps to size 0, data nullptr). Errors name the file and the fault.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint8_t* mutable_data() { return data_; }  // private copy-on-write pages
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ft
