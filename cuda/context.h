// What every CUDA launcher gets besides its op arguments: the stream it runs on, the cuBLASLt
// handle, and a scratch allocator for temporary device memory (e.g. partial sums of a
// deterministic two-stage reduction). Owned by the CUDA backend; one per backend instance.
#pragma once

#include <cstddef>

#include <cublasLt.h>
#include <cuda_runtime.h>

namespace ft::cuda {

// Bad input that a kernel found (an out-of-range token id): written on the device by the first
// kernel that sees it, read by the backend at its next synchronisation, which turns it into one
// ft::Error naming the op, the row and the value. code 0 means no fault.
struct DeviceStatus {
  int code = 0;      // a DeviceFault
  int batch = 0;     // where the fault was seen: sequence b ...
  int position = 0;  // ... token t
  int value = 0;     // the offending value
  int limit = 0;     // the bound it broke (rows of the table)
};
enum DeviceFault : int { kFaultNone = 0, kFaultTokenId = 1, kFaultTokenTypeId = 2 };

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
  int smem_optin = 48 * 1024;      // dynamic shared memory a block may opt in to (cuda/shared_memory.h)
  bool allow_tf32 = false;          // TF32 GEMMs only when the user asks
  Scratch* scratch = nullptr;
  // cuBLASLt workspace, owned by the backend (ops that call cuBLASLt pass it to cublasLtMatmul).
  void* cublaslt_workspace = nullptr;
  size_t cublaslt_workspace_bytes = 0;
  DeviceStatus* status = nullptr;  // device memory; null: kernels do not report bad input
};

}  // namespace ft::cuda
