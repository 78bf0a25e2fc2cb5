#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#ifdef FTENGINE_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace ft {

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    FT_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
    FT_CHECK(d == 0 || n <= std::numeric_limits<int64_t>::max() / d, "shape ", shape_str(shape), " overflows");
    n *= d;
  }
  return n;
}

namespace {
std::shared_ptr<void> allocate(size_t bytes, Device device) {
  if (device == Device::Host) {
    void* p = std::calloc(bytes ? bytes : 1, 1);
    FT_CHECK(p, "out of host memory allocating ", bytes, " bytes");
    return std::shared_ptr<void>(p, std::free);
  }
#ifdef FTENGINE_HAVE_CUDA
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes ? bytes : 1);
  FT_CHECK(err == cudaSuccess, "cudaMalloc of ", bytes, " bytes failed: ", cudaGetErrorString(err));
  FT_CHECK(cudaMemset(p, 0, bytes) == cudaSuccess, "cudaMemset failed");
  return std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });
#else
  FT_THROW("a CUDA tensor was requested but this ftengine was built without CUDA");
#endif
}

template <class From>
double load_as_double(const From* p, int64_t i) {
  if constexpr (std::is_same_v<From, bf16> || std::is_same_v<From, f16>)
    return p[i].to_float();
  else
    return static_cast<double>(p[i]);
}

template <class To>
void store_from_double(To* p, int64_t i, double v) {
  if constexpr (std::is_same_v<To, bf16> || std::is_same_v<To, f16>)
    p[i] = To::from_float(static_cast<float>(v));
  else
    p[i] = static_cast<To>(v);
}

template <class From, class To>
void convert(const From* src, To* dst, int64_t n) {
  if constexpr (std::is_same_v<From, To>) {
    std::memcpy(dst, src, n * sizeof(From));
  } else if constexpr (std::is_same_v<To, double> || std::is_same_v<From, double>) {
    for (int64_t i = 0; i < n; ++i) store_from_double(dst, i, load_as_double(src, i));
  } else {
    // float-range conversions go through float so bf16/f16 rounding is done once, from float.
    for (int64_t i = 0; i < n; ++i) store_from_double(dst, i, static_cast<float>(load_as_double(src, i)));
  }
}

template <class From>
void convert_to(const From* src, const Tensor& dst_t, void* dst, int64_t n) {
  switch (dst_t.dtype()) {
    case DType::F32: return convert(src, static_cast<float*>(dst), n);
    case DType::F64: return convert(src, static_cast<double*>(dst), n);
    case DType::BF16: return convert(src, static_cast<bf16*>(dst), n);
    case DType::F16: return convert(src, static_cast<f16*>(dst), n);
    default: FT_THROW("cannot convert to ", dtype_name(dst_t.dtype()), ": not a floating dtype");
  }
}
}  // namespace

Tensor Tensor::zeros(DType dtype, Shape shape, Device device) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = shape_numel(shape);
  t.shape_ = std::move(shape);
  t.device_ = device;
  t.owner_ = allocate(t.nbytes(), device);
  t.data_ = t.owner_.get();
  return t;
}

Tensor Tensor::borrow(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner, Device device) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = shape_numel(shape);
  t.shape_ = std::move(shape);
  t.device_ = device;
  t.owner_ = std::move(owner);
  t.data_ = data;
  return t;
}

Tensor Tensor::to_host() const {
  Tensor out = zeros(dtype_, shape_, Device::Host);
  if (device_ == Device::Host) {
    if (nbytes()) std::memcpy(out.data_, data_, nbytes());
    return out;
  }
#ifdef FTENGINE_HAVE_CUDA
  const cudaError_t err = cudaMemcpy(out.data_, data_, nbytes(), cudaMemcpyDeviceToHost);
  FT_CHECK(err == cudaSuccess, "copying a tensor to the host failed: ", cudaGetErrorString(err));
  return out;
#else
  FT_THROW("device tensor in a build without CUDA");
#endif
}

Tensor Tensor::to(DType dtype) const {
  FT_CHECK(device_ == Device::Host, "Tensor::to converts host tensors only");
  if (dtype == dtype_) return clone();
  Tensor out = zeros(dtype, shape_, Device::Host);
  switch (dtype_) {
    case DType::F32: convert_to(static_cast<const float*>(data_), out, out.data_, numel_); break;
    case DType::F64: convert_to(static_cast<const double*>(data_), out, out.data_, numel_); break;
    case DType::BF16: convert_to(static_cast<const bf16*>(data_), out, out.data_, numel_); break;
    case DType::F16: convert_to(static_cast<const f16*>(data_), out, out.data_, numel_); break;
    default: FT_THROW("cannot convert from ", dtype_name(dtype_), ": not a floating dtype");
  }
  return out;
}

}  // namespace ft
