// Which backends exist on this machine, and how a device string ("cpu", "cuda", "cuda:1", "auto")
// becomes a Backend<Real>.
#pragma once

#include <memory>
#include <string>

#include "core/backend.h"

namespace ft {

struct DeviceSpec {
  enum class Kind { Cpu, Cuda } kind = Kind::Cpu;
  int index = 0;
  std::string str() const;
};

// "cpu", "cuda", "cuda:N" or "auto" (the first GPU when one is usable, else the CPU).
DeviceSpec parse_device(const std::string& text);

bool cuda_compiled();      // this binary contains the CUDA backend
int cuda_device_count();   // usable GPUs; 0 without CUDA, driver or device

// float and double on the CPU; float and bf16 on CUDA. Other pairs are a clear error.
template <class Real>
std::unique_ptr<Backend<Real>> make_backend(const DeviceSpec& device);

}  // namespace ft
