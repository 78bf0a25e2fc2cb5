// Dynamic shared memory above the default 48 KiB per block: each kernel must opt in once per device
// (cudaFuncSetAttribute). Done here once per (kernel, device) and remembered, against the device's
// limit queried once when the backend starts (Context::smem_optin), so that a launch in a training
// step makes no attribute query or driver call beyond the launch itself. Header-only, so that the
// host-side emulation tests (tests/support/cuda_emulator.h) compile it with their stand-ins.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <utility>

#include "core/error.h"
#include "cuda/context.h"
#include "cuda/cuda_check.h"

namespace ft::cuda {

// Makes `kernel` launchable with `smem` bytes of dynamic shared memory on ctx.device; an ft::Error
// naming `what` when the device allows less. Thread-safe; a no-op for sizes within the default.
inline void allow_dynamic_shared_memory(const void* kernel, size_t smem, const Context& ctx, const char* what) {
  constexpr size_t kDefault = 48 * 1024;
  if (smem <= kDefault) return;
  FT_CHECK(smem <= static_cast<size_t>(ctx.smem_optin), what, " needs ", smem,
           " bytes of shared memory per block; this GPU allows ", ctx.smem_optin);
  static std::mutex mutex;
  static std::map<std::pair<const void*, int>, size_t> allowed;  // (kernel, device) -> bytes allowed
  const std::lock_guard<std::mutex> lock(mutex);
  size_t& done = allowed[{kernel, ctx.device}];
  if (smem <= done) return;
  FT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  done = smem;
}

}  // namespace ft::cuda
