// Backend<Real>: the one interface through which model/ runs every op, on the CPU or on a GPU.
//
// model/ holds a Backend<Real>& and never knows which backend it is. Each op has one virtual
// entry per direction taking its argument struct from core/ops.h. Memory is allocated through the
// backend too (host memory for CPU, device memory for CUDA), so the model's buffers live where its
// ops run. Backends are created by the registry (core/backend_registry.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/ops.h"

namespace ft {

template <class Real>
class Backend {
 public:
  using Stat = stat_t<Real>;
  using Master = master_t<Real>;

  virtual ~Backend() = default;

  virtual std::string name() const = 0;  // "cpu", "cuda:0"
  virtual bool on_device() const = 0;    // memory is not host-addressable

  // ---- memory (bytes; zero-initialised)
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p) noexcept = 0;
  virtual void upload(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void download(void* host_dst, const void* src, size_t bytes) = 0;
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;
  virtual void fill_zero(void* p, size_t bytes) = 0;
  virtual void synchronize() = 0;
  // Peak bytes allocated through this backend (for reports).
  virtual size_t peak_allocated() const = 0;
  // What the caller is allocating for (e.g. "activations for batch 32 x sequence length 512"); an
  // out-of-memory error names it. Optional: the default ignores it.
  virtual void set_memory_context(const std::string& what) { (void)what; }

  // ---- ops (core/ops.h), forward and backward
  virtual void embedding_forward(const EmbeddingForwardArgs<Real>& a) = 0;
  virtual void embedding_backward(const EmbeddingBackwardArgs<Real>& a) = 0;
  virtual void linear_forward(const LinearForwardArgs<Real>& a) = 0;
  virtual void linear_backward(const LinearBackwardArgs<Real>& a) = 0;
  virtual void layernorm_forward(const LayerNormForwardArgs<Real>& a) = 0;
  virtual void layernorm_backward(const LayerNormBackwardArgs<Real>& a) = 0;
  virtual void gelu_forward(const GeluForwardArgs<Real>& a) = 0;
  virtual void gelu_backward(const GeluBackwardArgs<Real>& a) = 0;
  virtual void dropout_forward(const DropoutArgs<Real>& a) = 0;
  virtual void dropout_backward(const DropoutArgs<Real>& a) = 0;
  virtual void attention_forward(const AttentionForwardArgs<Real>& a) = 0;
  virtual void attention_backward(const AttentionBackwardArgs<Real>& a) = 0;
  virtual void pooler_forward(const PoolerForwardArgs<Real>& a) = 0;
  virtual void pooler_backward(const PoolerBackwardArgs<Real>& a) = 0;
  virtual void regression_head_forward(const RegressionHeadForwardArgs<Real>& a) = 0;
  virtual void regression_head_backward(const RegressionHeadBackwardArgs<Real>& a) = 0;

  // ---- optimizer
  // Sum of squares of n gradient values, accumulated in double in a fixed order (deterministic).
  virtual double grad_norm_squared(const Real* grads, int64_t n) = 0;
  virtual void adamw_step(const AdamWArgs<Real>& a) = 0;
  // working[i] = Real(master[i]) for i < n (bf16 working copies; a copy when the types match).
  virtual void master_to_working(const Master* master, Real* working, int64_t n) = 0;
};

// Typed owning buffer of n elements in a backend's memory.
template <class T, class Real>
class BackendBuffer {
 public:
  BackendBuffer() = default;
  BackendBuffer(Backend<Real>& backend, int64_t n)
      : backend_(&backend), n_(n), p_(static_cast<T*>(backend.allocate(static_cast<size_t>(n) * sizeof(T)))) {}
  ~BackendBuffer() { reset(); }
  BackendBuffer(const BackendBuffer&) = delete;
  BackendBuffer& operator=(const BackendBuffer&) = delete;
  BackendBuffer(BackendBuffer&& o) noexcept : backend_(o.backend_), n_(o.n_), p_(o.p_) { o.p_ = nullptr; o.n_ = 0; }
  BackendBuffer& operator=(BackendBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      backend_ = o.backend_; n_ = o.n_; p_ = o.p_;
      o.p_ = nullptr; o.n_ = 0;
    }
    return *this;
  }
  void reset() noexcept {
    if (p_) backend_->deallocate(p_);
    p_ = nullptr;
    n_ = 0;
  }
  T* get() const { return p_; }
  int64_t size() const { return n_; }
  size_t bytes() const { return static_cast<size_t>(n_) * sizeof(T); }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  Backend<Real>* backend_ = nullptr;
  int64_t n_ = 0;
  T* p_ = nullptr;
};

}  // namespace ft
