// CudaBackend<Real>: Backend<Real> on one GPU. It owns the stream every op runs on, the cuBLASLt
// handle and its workspace, the scratch buffer of the launchers, and the device-side status word
// through which kernels report bad input. Memory comes from cudaMalloc with a running and a peak
// byte count; an allocation that fails becomes one message with the size, what it was for and the
// device's state.
//
// Everything is enqueued on one non-blocking stream and nothing waits except download(),
// synchronize() and grad_norm_squared() (which must read a value back). TF32 GEMMs are off unless
// the environment variable FTENGINE_ALLOW_TF32=1 asks for them.
#include "cuda/cuda_backend.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "cuda/context.h"
#include "cuda/cuda_check.h"
#include "cuda/ops.h"

namespace ft::cuda {

namespace {

constexpr size_t kCublasLtWorkspace = 32u << 20;  // what cuBLASLt's Hopper kernels like

std::string human_bytes(size_t bytes) {
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
  else std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  return buf;
}

template <class Real>
class CudaBackend final : public Backend<Real> {
 public:
  using typename Backend<Real>::Master;

  explicit CudaBackend(int device);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override { return "cuda:" + std::to_string(device_); }
  bool on_device() const override { return true; }

  void* allocate(size_t bytes) override;
  void deallocate(void* p) noexcept override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void fill_zero(void* p, size_t bytes) override;
  void synchronize() override;
  size_t peak_allocated() const override { return peak_; }
  void set_memory_context(const std::string& what) override { memory_context_ = what; }

  void embedding_forward(const EmbeddingForwardArgs<Real>& a) override {
    enter();
    cuda::embedding_forward(a, ctx_);
    status_pending_ = true;
  }
  void embedding_backward(const EmbeddingBackwardArgs<Real>& a) override {
    enter();
    cuda::embedding_backward(a, ctx_);
    status_pending_ = true;
  }
  void linear_forward(const LinearForwardArgs<Real>& a) override {
    enter();
    cuda::linear_forward(a, ctx_);
  }
  void linear_backward(const LinearBackwardArgs<Real>& a) override {
    enter();
    cuda::linear_backward(a, ctx_);
  }
  void layernorm_forward(const LayerNormForwardArgs<Real>& a) override {
    enter();
    cuda::layernorm_forward(a, ctx_);
  }
  void layernorm_backward(const LayerNormBackwardArgs<Real>& a) override {
    enter();
    cuda::layernorm_backward(a, ctx_);
  }
  void gelu_forward(const GeluForwardArgs<Real>& a) override {
    enter();
    cuda::gelu_forward(a, ctx_);
  }
  void gelu_backward(const GeluBackwardArgs<Real>& a) override {
    enter();
    cuda::gelu_backward(a, ctx_);
  }
  void dropout_forward(const DropoutArgs<Real>& a) override {
    enter();
    cuda::dropout_forward(a, ctx_);
  }
  void dropout_backward(const DropoutArgs<Real>& a) override {
    enter();
    cuda::dropout_backward(a, ctx_);
  }
  void attention_forward(const AttentionForwardArgs<Real>& a) override {
    enter();
    cuda::attention_forward(a, ctx_);
  }
  void attention_backward(const AttentionBackwardArgs<Real>& a) override {
    enter();
    cuda::attention_backward(a, ctx_);
  }
  void pooler_forward(const PoolerForwardArgs<Real>& a) override {
    enter();
    cuda::pooler_forward(a, ctx_);
  }
  void pooler_backward(const PoolerBackwardArgs<Real>& a) override {
    enter();
    cuda::pooler_backward(a, ctx_);
  }
  void regression_head_forward(const RegressionHeadForwardArgs<Real>& a) override {
    enter();
    cuda::regression_head_forward(a, ctx_);
  }
  void regression_head_backward(const RegressionHeadBackwardArgs<Real>& a) override {
    enter();
    cuda::regression_head_backward(a, ctx_);
  }
  double grad_norm_squared(const Real* grads, int64_t n) override {
    enter();
    const double r = cuda::grad_norm_squared(grads, n, ctx_);
    check_status();
    return r;
  }
  void adamw_step(const AdamWArgs<Real>& a) override {
    enter();
    cuda::adamw_step(a, ctx_);
  }
  void master_to_working(const Master* master, Real* working, int64_t n) override {
    enter();
    cuda::master_to_working(master, working, n, ctx_);
  }

 private:
  // The launchers' scratch: one device buffer, grown (never shrunk) on demand.
  class DeviceScratch final : public Scratch {
   public:
    explicit DeviceScratch(CudaBackend& owner) : owner_(owner) {}
    void* get(size_t bytes) override {
      if (bytes <= capacity_ && buffer_) return buffer_;
      // Kernels already enqueued may still read the old buffer: let them finish before freeing it.
      FT_CUDA_CHECK(cudaStreamSynchronize(owner_.ctx_.stream));
      release();
      const size_t grown = std::max<size_t>(bytes + bytes / 4, 1u << 20);  // headroom against regrowth
      buffer_ = owner_.allocate(grown);
      capacity_ = grown;
      return buffer_;
    }
    void release() noexcept {
      if (buffer_) owner_.deallocate(buffer_);
      buffer_ = nullptr;
      capacity_ = 0;
    }

   private:
    CudaBackend& owner_;
    void* buffer_ = nullptr;
    size_t capacity_ = 0;
  };

  void enter() { FT_CUDA_CHECK(cudaSetDevice(device_)); }
  void check_status();

  int device_ = 0;
  std::string device_name_;
  Context ctx_;
  DeviceScratch scratch_{*this};
  void* workspace_ = nullptr;
  DeviceStatus* status_ = nullptr;
  bool status_pending_ = false;  // an op that reports through status_ ran since the last check

  std::mutex mutex_;  // guards the allocation table and counters
  std::unordered_map<void*, size_t> sizes_;
  size_t allocated_ = 0, peak_ = 0;
  std::string memory_context_;
};

template <class Real>
CudaBackend<Real>::CudaBackend(int device) : device_(device) {
  const int n = device_count();
  FT_CHECK(device >= 0 && device < n, "device cuda:", device, ": ", n, " usable GPU(s) on this machine");
  FT_CUDA_CHECK(cudaSetDevice(device));
  cudaDeviceProp prop{};
  FT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  device_name_ = prop.name;
  FT_CHECK(prop.major >= 8, "device cuda:", device, " (", device_name_, ") has compute capability ", prop.major, ".",
           prop.minor, "; the CUDA backend needs 8.0 or newer (bf16 and the kernels it is built for)");
  ctx_.device = device;
  ctx_.sm_count = prop.multiProcessorCount;
  ctx_.cc_major = prop.major;
  ctx_.cc_minor = prop.minor;
  ctx_.smem_optin = static_cast<int>(prop.sharedMemPerBlockOptin);
  const char* tf32 = std::getenv("FTENGINE_ALLOW_TF32");
  ctx_.allow_tf32 = tf32 && std::strcmp(tf32, "1") == 0;
  FT_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx_.stream, cudaStreamNonBlocking));
  try {
    FT_CUBLAS_CHECK(cublasLtCreate(&ctx_.cublaslt));
    memory_context_ = "the cuBLASLt workspace";
    workspace_ = allocate(kCublasLtWorkspace);
    status_ = static_cast<DeviceStatus*>(allocate(sizeof(DeviceStatus)));
    memory_context_.clear();
  } catch (...) {
    if (ctx_.cublaslt) cublasLtDestroy(ctx_.cublaslt);
    if (workspace_) deallocate(workspace_);
    cudaStreamDestroy(ctx_.stream);
    throw;
  }
  ctx_.cublaslt_workspace = workspace_;
  ctx_.cublaslt_workspace_bytes = kCublasLtWorkspace;
  ctx_.status = status_;
  ctx_.scratch = &scratch_;
}

template <class Real>
CudaBackend<Real>::~CudaBackend() {
  cudaSetDevice(device_);
  cudaStreamSynchronize(ctx_.stream);
  scratch_.release();
  deallocate(status_);
  deallocate(workspace_);
  cublasLtDestroy(ctx_.cublaslt);
  cudaStreamDestroy(ctx_.stream);
}

template <class Real>
void* CudaBackend<Real>::allocate(size_t bytes) {
  enter();
  const size_t size = std::max<size_t>(bytes, 256);  // never a null pointer for an empty buffer
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, size);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // clear it: the device is still usable
    size_t free_b = 0, total_b = 0;
    (void)cudaMemGetInfo(&free_b, &total_b);
    size_t held, peak;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      held = allocated_;
      peak = peak_;
    }
    FT_THROW("out of GPU memory allocating ", bytes, " bytes (", human_bytes(bytes), ") on cuda:", device_, " (",
             device_name_, ")", memory_context_.empty() ? "" : " for ", memory_context_, ": ftengine holds ",
             human_bytes(held), " (peak ", human_bytes(peak), "), the device has ", human_bytes(free_b), " free of ",
             human_bytes(total_b), "; a smaller batch size or maximum sequence length needs less");
  }
  FT_CUDA_CHECK(err);
  FT_CUDA_CHECK(cudaMemsetAsync(p, 0, size, ctx_.stream));
  std::lock_guard<std::mutex> lock(mutex_);
  sizes_[p] = size;
  allocated_ += size;
  peak_ = std::max(peak_, allocated_);
  return p;
}

template <class Real>
void CudaBackend<Real>::deallocate(void* p) noexcept {
  if (!p) return;
  cudaSetDevice(device_);
  cudaFree(p);  // synchronises the device; an error here (a sticky fault) was reported already
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sizes_.find(p);
  if (it != sizes_.end()) {
    allocated_ -= it->second;
    sizes_.erase(it);
  }
}

template <class Real>
void CudaBackend<Real>::upload(void* dst, const void* host_src, size_t bytes) {
  if (!bytes) return;
  enter();
  // From pageable memory this returns once the data is staged, so the caller may reuse host_src.
  FT_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, ctx_.stream));
}

template <class Real>
void CudaBackend<Real>::download(void* host_dst, const void* src, size_t bytes) {
  enter();
  if (bytes) FT_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, ctx_.stream));
  FT_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
  check_status();
}

template <class Real>
void CudaBackend<Real>::copy(void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  enter();
  FT_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx_.stream));
}

template <class Real>
void CudaBackend<Real>::fill_zero(void* p, size_t bytes) {
  if (!bytes) return;
  enter();
  FT_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, ctx_.stream));
}

template <class Real>
void CudaBackend<Real>::synchronize() {
  enter();
  FT_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
  check_status();
}

// Turns a fault that a kernel recorded into an error (after the stream has drained).
template <class Real>
void CudaBackend<Real>::check_status() {
  if (!status_pending_) return;
  status_pending_ = false;
  DeviceStatus s;
  FT_CUDA_CHECK(cudaMemcpyAsync(&s, status_, sizeof s, cudaMemcpyDeviceToHost, ctx_.stream));
  FT_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
  if (s.code == kFaultNone) return;
  FT_CUDA_CHECK(cudaMemsetAsync(status_, 0, sizeof s, ctx_.stream));
  FT_CUDA_CHECK(cudaStreamSynchronize(ctx_.stream));
  if (s.code == kFaultTokenId)
    FT_THROW("embedding: input id ", s.value, " at (batch ", s.batch, ", position ", s.position,
             ") is outside the vocabulary of ", s.limit, " tokens");
  FT_THROW("embedding: token type id ", s.value, " at (batch ", s.batch, ", position ", s.position,
           ") is outside the ", s.limit, " token types");
}

}  // namespace

int device_count() {
  int n = 0;
  // No driver, no GPU, or a driver too old for this runtime: all mean "no usable device".
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

template <class Real>
std::unique_ptr<Backend<Real>> make_cuda_backend(int device) {
  return std::make_unique<CudaBackend<Real>>(device);
}

template std::unique_ptr<Backend<float>> make_cuda_backend<float>(int);
template std::unique_ptr<Backend<bf16>> make_cuda_backend<bf16>(int);

}  // namespace ft::cuda
