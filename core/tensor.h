// Tensor: a dtype, a shape and storage on the host or on a CUDA device.
//
// Storage is reference-counted and may be borrowed (for example a zero-copy view into a
// memory-mapped safetensors file, kept alive by the mapping's owner). Tensors are always dense and
// row-major; ftengine never needs strided views at this level.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"

namespace ft {

enum class Device : uint8_t { Host, Cuda };

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);  // "[2, 768]"
int64_t shape_numel(const Shape& shape);     // throws on negative dims or overflow

class Tensor {
 public:
  Tensor() = default;

  // Fresh zero-initialised storage.
  static Tensor zeros(DType dtype, Shape shape, Device device = Device::Host);
  // A view of memory owned by `owner` (which keeps it alive).
  static Tensor borrow(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner,
                       Device device = Device::Host);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  Device device() const { return device_; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }
  bool defined() const { return data_ != nullptr || numel_ == 0; }

  void* raw() { return data_; }
  const void* raw() const { return data_; }

  template <class T>
  T* data() {
    FT_CHECK(dtype_of<T>() == dtype_, "tensor holds ", dtype_name(dtype_), ", accessed as ", dtype_name(dtype_of<T>()));
    return static_cast<T*>(data_);
  }
  template <class T>
  const T* data() const {
    FT_CHECK(dtype_of<T>() == dtype_, "tensor holds ", dtype_name(dtype_), ", accessed as ", dtype_name(dtype_of<T>()));
    return static_cast<const T*>(data_);
  }

  // Host copy converted to another floating dtype (F32/F64/F16/BF16 in and out).
  Tensor to(DType dtype) const;
  // Host copy (from a device tensor) or a deep copy (of a host tensor).
  Tensor to_host() const;
  Tensor clone() const { return to_host(); }

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  Device device_ = Device::Host;
  int64_t numel_ = 0;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
};

}  // namespace ft
