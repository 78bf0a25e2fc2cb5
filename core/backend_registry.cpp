#include "core/backend_registry.h"

#include <cstdlib>
#include <string_view>

#include "core/cpu/cpu_backend.h"
#include "core/error.h"
#ifdef FTENGINE_HAVE_CUDA
#include "cuda/cuda_backend.h"
#endif

namespace ft {

std::string DeviceSpec::str() const {
  return kind == Kind::Cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

bool cuda_compiled() {
#ifdef FTENGINE_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

int cuda_device_count() {
#ifdef FTENGINE_HAVE_CUDA
  return cuda::device_count();
#else
  return 0;
#endif
}

DeviceSpec parse_device(const std::string& text) {
  DeviceSpec spec;
  if (text == "cpu") return spec;
  if (text == "auto") {
    if (cuda_device_count() > 0) spec.kind = DeviceSpec::Kind::Cuda;
    return spec;
  }
  const std::string_view t(text);
  if (t == "cuda" || t.starts_with("cuda:")) {
    spec.kind = DeviceSpec::Kind::Cuda;
    if (t.size() > 5) {
      char* end = nullptr;
      const long idx = std::strtol(text.c_str() + 5, &end, 10);
      FT_CHECK(end && *end == '\0' && idx >= 0, "device '", text, "': expected cuda:N with N a GPU index");
      spec.index = static_cast<int>(idx);
    }
    FT_CHECK(cuda_compiled(), "device '", text, "': this ftengine was built without CUDA");
    const int n = cuda_device_count();
    FT_CHECK(spec.index < n, "device '", text, "': ", n, " usable GPU(s) on this machine");
    return spec;
  }
  FT_THROW("device '", text, "': expected cpu, cuda, cuda:N or auto");
}

template <class Real>
std::unique_ptr<Backend<Real>> make_backend(const DeviceSpec& device) {
  if (device.kind == DeviceSpec::Kind::Cpu) {
    if constexpr (std::is_same_v<Real, float> || std::is_same_v<Real, double>) {
      return std::make_unique<cpu::CpuBackend<Real>>();
    } else {
      FT_THROW("precision ", dtype_name(dtype_of<Real>()), " is not available on the CPU backend (use fp32)");
    }
  }
#ifdef FTENGINE_HAVE_CUDA
  if constexpr (std::is_same_v<Real, float> || std::is_same_v<Real, bf16>) {
    return cuda::make_cuda_backend<Real>(device.index);
  } else {
    FT_THROW("precision ", dtype_name(dtype_of<Real>()), " is not available on the CUDA backend (use fp32 or bf16)");
  }
#else
  FT_THROW("device ", device.str(), ": this ftengine was built without CUDA");
#endif
}

template std::unique_ptr<Backend<float>> make_backend<float>(const DeviceSpec&);
template std::unique_ptr<Backend<double>> make_backend<double>(const DeviceSpec&);
template std::unique_ptr<Backend<bf16>> make_backend<bf16>(const DeviceSpec&);

}  // namespace ft
