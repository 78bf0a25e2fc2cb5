// Runs the CUDA backend's own kernel source on the CPU, for the emulated tests (tests/emulated_*.cpp).
//
// With FT_CUDA_EMULATE defined, cuda/common.cuh includes this header instead of the CUDA runtime's
// device side, and the cuda/*.cu files compile as plain C++: FT_LAUNCH runs a grid here, block
// after block, and every thread of a block is a cooperative fibre (tests/support/fibers.h) that
// switches only at the synchronisation points the kernels use:
//   __syncthreads()        all threads of the block (a thread that exits first is a deadlock: the
//                          kernels never rely on exited threads counting as arrived)
//   __syncwarp(), __shfl_xor_sync()   all 32 lanes of the warp, full mask only
// __shared__ variables are function statics (shared by the block's fibres, blocks run one at a time);
// dynamic shared memory (FT_DYNAMIC_SHARED) is fresh per block and filled with NaN bytes. Threads run
// in forward or reverse order (set_order): a result that depends on it reveals a missing barrier.
// Host calls the launchers make (cudaMemsetAsync, cudaMemcpyAsync, ...) act on host memory at once.
//
// What this cannot check: the hardware (memory ordering between blocks, timing, occupancy), the
// GPU's own rounding of erff/expf/tanhf, and cuBLASLt and CUB, which the test replaces by plain
// reference code (the GEMM argument mapping and the scatter logic around them are checked).
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/fibers.h"

// ---- the device-code keywords, as plain C++
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

namespace ft::cuda::emu {

using Order = ::ft::test::fibers::Order;
using Barrier = ::ft::test::fibers::Barrier;

// The state of the block being run, beside its fibres (tests/support/fibers.h).
struct BlockRun {
  dim3 grid, block, block_idx;
  int threads = 0;
  Barrier block_barrier;
  std::vector<Barrier> warp_barriers;
  std::vector<uint64_t> exchange;  // one shuffle slot per thread
  std::vector<unsigned char> dynamic_smem;
};

inline BlockRun*& current_run() {
  static BlockRun* run = nullptr;
  return run;
}
inline Order& order() {
  static Order o = Order::Forward;
  return o;
}
inline void set_order(Order o) { order() = o; }

[[noreturn]] inline void fail(const char* what) { ::ft::test::fibers::fail(what); }

inline BlockRun& run() {
  BlockRun* r = current_run();
  if (!r) fail("device code called outside a kernel launch");
  return *r;
}

inline int current_thread() { return ::ft::test::fibers::Block::current().thread(); }

inline dim3 thread_idx() {
  const BlockRun& r = run();
  const int t = current_thread();
  return dim3(static_cast<unsigned>(t % static_cast<int>(r.block.x)),
              static_cast<unsigned>((t / static_cast<int>(r.block.x)) % static_cast<int>(r.block.y)),
              static_cast<unsigned>(t / static_cast<int>(r.block.x * r.block.y)));
}

inline void barrier(Barrier& b, int group) { ::ft::test::fibers::Block::current().wait(b, group); }

inline void warp_barrier() {
  BlockRun& r = run();
  const int warp = current_thread() / 32;
  const int group = std::min(32, r.threads - warp * 32);
  if (group != 32) fail("a warp operation in a partial warp");
  barrier(r.warp_barriers[warp], group);
}

// Runs body once per thread of every block of the grid, block after block.
inline void run_grid(dim3 grid, dim3 block, size_t smem, const std::function<void()>& body) {
  const int threads = static_cast<int>(block.x * block.y * block.z);
  if (threads <= 0 || threads > 1024) fail("block size outside 1..1024");
  if (grid.y > 65535 || grid.z > 65535) fail("grid y or z above 65535");
  BlockRun r;
  r.grid = grid;
  r.block = block;
  r.threads = threads;
  BlockRun* saved = current_run();
  current_run() = &r;
  const std::function<void(int)> fibre = [&](int) { body(); };
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        r.block_idx = dim3(bx, by, bz);
        r.block_barrier = Barrier{};
        r.warp_barriers.assign((threads + 31) / 32, Barrier{});
        r.exchange.assign(threads, 0);
        r.dynamic_smem.assign(smem, 0xff);  // every float and double in it reads as NaN
        ::ft::test::fibers::fail_context() =
            "block " + std::to_string(bx) + "," + std::to_string(by) + "," + std::to_string(bz);
        ::ft::test::fibers::Block::run(threads, order(), 1, fibre);
      }
  current_run() = saved;
}

template <class Kernel>
struct Launch {
  dim3 grid, block;
  size_t smem;
  Kernel kernel;
  template <class... Args>
  void operator()(Args&&... args) const {
    const std::function<void()> body = [&] { kernel(args...); };
    run_grid(grid, block, smem, body);
  }
};

template <class Kernel>
Launch<Kernel> launcher(dim3 grid, dim3 block, size_t smem, cudaStream_t, Kernel kernel) {
  return {grid, block, smem, kernel};
}

template <class T>
T* dynamic_shared() {
  return reinterpret_cast<T*>(run().dynamic_smem.data());
}

// ---- the host calls of the launchers, on host memory
inline cudaError_t memset_async(void* p, int v, size_t n, cudaStream_t = nullptr) {
  std::memset(p, v, n);
  return cudaSuccess;
}
inline cudaError_t memcpy_async(void* d, const void* s, size_t n, cudaMemcpyKind, cudaStream_t = nullptr) {
  std::memmove(d, s, n);
  return cudaSuccess;
}
inline cudaError_t stream_synchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t get_last_error() { return cudaSuccess; }
inline const char* get_error_string(cudaError_t) { return "(emulated)"; }
template <class T>
cudaError_t func_set_attribute(T*, cudaFuncAttribute, int) {
  return cudaSuccess;
}
inline cudaError_t device_get_attribute(int* value, cudaDeviceAttr attr, int) {
  *value = attr == cudaDevAttrMaxSharedMemoryPerBlockOptin ? 227 * 1024 : 0;
  return cudaSuccess;
}

}  // namespace ft::cuda::emu

#define threadIdx (::ft::cuda::emu::thread_idx())
#define blockIdx (::ft::cuda::emu::run().block_idx)
#define blockDim (::ft::cuda::emu::run().block)
#define gridDim (::ft::cuda::emu::run().grid)

#define cudaMemsetAsync ::ft::cuda::emu::memset_async
#define cudaMemcpyAsync ::ft::cuda::emu::memcpy_async
#define cudaStreamSynchronize ::ft::cuda::emu::stream_synchronize
#define cudaGetLastError ::ft::cuda::emu::get_last_error
#define cudaGetErrorString ::ft::cuda::emu::get_error_string
#define cudaFuncSetAttribute ::ft::cuda::emu::func_set_attribute
#define cudaDeviceGetAttribute ::ft::cuda::emu::device_get_attribute

// ---- device intrinsics
inline void __syncthreads() {
  ::ft::cuda::emu::BlockRun& r = ::ft::cuda::emu::run();
  ::ft::cuda::emu::barrier(r.block_barrier, r.threads);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  if (mask != 0xffffffffu) ::ft::cuda::emu::fail("__syncwarp with a partial mask");
  ::ft::cuda::emu::warp_barrier();
}
template <class V>
V __shfl_xor_sync(unsigned mask, V v, int lane_mask, int width = 32) {
  static_assert(sizeof(V) <= 8);
  if (mask != 0xffffffffu || width != 32) ::ft::cuda::emu::fail("__shfl_xor_sync with a partial mask or width");
  ::ft::cuda::emu::BlockRun& r = ::ft::cuda::emu::run();
  const int t = ::ft::cuda::emu::current_thread();
  std::memcpy(&r.exchange[t], &v, sizeof(V));
  ::ft::cuda::emu::warp_barrier();
  V out;
  std::memcpy(&out, &r.exchange[(t & ~31) | ((t & 31) ^ (lane_mask & 31))], sizeof(V));
  ::ft::cuda::emu::warp_barrier();  // nobody overwrites a slot before every lane has read
  return out;
}
inline int atomicCAS(int* address, int compare, int value) {  // fibres never interleave inside it
  const int old = *address;
  if (old == compare) *address = value;
  return old;
}
inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }

namespace ft::cuda {
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
}  // namespace ft::cuda
