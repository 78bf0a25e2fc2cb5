// The CUDA backend's entry points, callable from host C++ compiled without nvcc.
#pragma once

#include <memory>

#include "core/backend.h"

namespace ft::cuda {

// Number of usable CUDA devices; 0 when there is no driver or no GPU (never throws).
int device_count();

// Real is float or bf16. Throws ft::Error when the device cannot be used.
template <class Real>
std::unique_ptr<Backend<Real>> make_cuda_backend(int device);

}  // namespace ft::cuda
