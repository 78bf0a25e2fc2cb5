// What every CUDA launcher gets besides its op arguments: the stream it runs on, the cuBLASLt
// handle, and a scratch allocator for temporary device memory (e.g. partial sums of a
// deterministic two-stage reduction). Owned by the CUDA backend; one per backend instance.
#pragma once

#include <cstddef>

#include <cublasLt.h>
#include <cuda_runtime.h>

namespace ft::cuda {

class Scratch {
 public:
  virtual ~Scratch() = default;
  // A device buffer of at least `bytes`, valid until the next call of get() on this Scratch.
  virtual void* get(size_t bytes) = 0;
};

struct Context {
  cudaStream_t stream = nullptr;
  cublasLtHandle_t cublaslt = nullptr;
  int device = 0;
  int sm_count = 0;
  int cc_major = 0, cc_minor = 0;  // compute capability
  bool allow_tf32 = false;          // TF32 GEMMs only when the user asks
  Scratch* scratch = nullptr;
};

}  // namespace ft::cuda
