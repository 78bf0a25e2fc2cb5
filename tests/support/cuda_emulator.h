// Runs the CUDA backend's own kernel source on the CPU, for tests/cpu_cuda_emulated.cpp.
//
// With FT_CUDA_EMULATE defined, cuda/common.cuh includes this header instead of the CUDA runtime's
// device side, and the cuda/*.cu files compile as plain C++: FT_LAUNCH runs a grid here, block
// after block, and every thread of a block is a cooperative fibre (ucontext) that switches only at
// the synchronisation points the kernels use:
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
#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

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

enum class Order { Forward, Reverse };

struct Barrier {
  int arrived = 0;
  uint64_t generation = 0;
};

// The state of the block being run.
struct BlockRun {
  dim3 grid, block, block_idx;
  int threads = 0;
  int current = -1;
  uint64_t progress = 0;  // barrier arrivals and finished threads; a sweep without any is a deadlock
  ucontext_t scheduler;
  std::vector<ucontext_t> contexts;
  std::vector<char*> stacks;
  std::vector<char> done;
  Barrier block_barrier;
  std::vector<Barrier> warp_barriers;
  std::vector<uint64_t> exchange;  // one shuffle slot per thread
  std::vector<unsigned char> dynamic_smem;
  const std::function<void()>* body = nullptr;
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

[[noreturn]] inline void fail(const char* what) {
  const BlockRun* r = current_run();
  std::fprintf(stderr, "cuda emulator: %s (block %u,%u,%u thread %d)\n", what, r ? r->block_idx.x : 0u,
               r ? r->block_idx.y : 0u, r ? r->block_idx.z : 0u, r ? r->current : -1);
  std::abort();
}

inline BlockRun& run() {
  BlockRun* r = current_run();
  if (!r) fail("device code called outside a kernel launch");
  return *r;
}

inline dim3 thread_idx() {
  const BlockRun& r = run();
  const int t = r.current;
  return dim3(static_cast<unsigned>(t % static_cast<int>(r.block.x)),
              static_cast<unsigned>((t / static_cast<int>(r.block.x)) % static_cast<int>(r.block.y)),
              static_cast<unsigned>(t / static_cast<int>(r.block.x * r.block.y)));
}

inline void yield() {
  BlockRun& r = run();
  swapcontext(&r.contexts[r.current], &r.scheduler);
}

inline void barrier(Barrier& b, int group) {
  BlockRun& r = run();
  const uint64_t gen = b.generation;
  ++r.progress;
  if (++b.arrived == group) {
    b.arrived = 0;
    ++b.generation;
    return;
  }
  while (b.generation == gen) yield();
}

inline void warp_barrier() {
  BlockRun& r = run();
  const int warp = r.current / 32;
  const int group = std::min(32, r.threads - warp * 32);
  if (group != 32) fail("a warp operation in a partial warp");
  barrier(r.warp_barriers[warp], group);
}

inline void fiber_main() {
  BlockRun& r = run();
  (*r.body)();
  r.done[r.current] = 1;
  ++r.progress;
}

// Fresh fibres for every thread of the block (kept apart from the loops: getcontext returns twice).
[[gnu::noinline]] inline void make_fibers(BlockRun& r, size_t stack) {
  for (int t = 0; t < r.threads; ++t) {
    getcontext(&r.contexts[t]);
    r.contexts[t].uc_stack.ss_sp = r.stacks[t];
    r.contexts[t].uc_stack.ss_size = stack;
    r.contexts[t].uc_link = &r.scheduler;
    makecontext(&r.contexts[t], fiber_main, 0);
  }
}

// Resumes the block's threads in order until all have finished.
[[gnu::noinline]] inline void schedule(BlockRun& r) {
  int live = r.threads;
  while (live > 0) {
    const uint64_t before = r.progress;
    for (int i = 0; i < r.threads; ++i) {
      const int t = order() == Order::Forward ? i : r.threads - 1 - i;
      if (r.done[t]) continue;
      r.current = t;
      swapcontext(&r.scheduler, &r.contexts[t]);
      if (r.done[t]) --live;
    }
    r.current = -1;
    if (live > 0 && r.progress == before) fail("deadlock: a barrier that not every thread of the group reaches");
  }
}

// Runs body once per thread of every block of the grid.
inline void run_grid(dim3 grid, dim3 block, size_t smem, const std::function<void()>& body) {
  const int threads = static_cast<int>(block.x * block.y * block.z);
  if (threads <= 0 || threads > 1024) fail("block size outside 1..1024");
  if (grid.y > 65535 || grid.z > 65535) fail("grid y or z above 65535");
  constexpr size_t kStack = 256 * 1024;
  BlockRun r;
  r.grid = grid;
  r.block = block;
  r.threads = threads;
  r.contexts.resize(threads);
  // Stacks are allocated once per process and reused (uninitialised: nothing reads them first).
  static std::vector<std::unique_ptr<char[]>> pool;
  while (pool.size() < static_cast<size_t>(threads)) pool.emplace_back(new char[kStack]);
  for (int t = 0; t < threads; ++t) r.stacks.push_back(pool[t].get());
  r.body = &body;
  BlockRun* saved = current_run();
  current_run() = &r;
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        r.block_idx = dim3(bx, by, bz);
        r.done.assign(threads, 0);
        r.block_barrier = Barrier{};
        r.warp_barriers.assign((threads + 31) / 32, Barrier{});
        r.exchange.assign(threads, 0);
        r.dynamic_smem.assign(smem, 0xff);  // every float and double in it reads as NaN
        make_fibers(r, kStack);
        schedule(r);
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
  const int t = r.current;
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
