// The CPU backend: plain, readable loops (OpenMP across rows) and OpenBLAS GEMMs, float and double.
// It is the oracle for the CUDA backend and the path for double-precision gradient checks.
#pragma once

#include <atomic>

#include "core/backend.h"
#include "core/cpu/ops.h"

namespace ft::cpu {

template <class Real>
class CpuBackend final : public Backend<Real> {
 public:
  using typename Backend<Real>::Master;

  std::string name() const override { return "cpu"; }
  bool on_device() const override { return false; }

  void* allocate(size_t bytes) override;
  void deallocate(void* p) noexcept override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void fill_zero(void* p, size_t bytes) override;
  void synchronize() override {}
  size_t peak_allocated() const override { return peak_; }

  void embedding_forward(const EmbeddingForwardArgs<Real>& a) override { cpu::embedding_forward(a); }
  void embedding_backward(const EmbeddingBackwardArgs<Real>& a) override { cpu::embedding_backward(a); }
  void linear_forward(const LinearForwardArgs<Real>& a) override { cpu::linear_forward(a); }
  void linear_backward(const LinearBackwardArgs<Real>& a) override { cpu::linear_backward(a); }
  void layernorm_forward(const LayerNormForwardArgs<Real>& a) override { cpu::layernorm_forward(a); }
  void layernorm_backward(const LayerNormBackwardArgs<Real>& a) override { cpu::layernorm_backward(a); }
  void gelu_forward(const GeluForwardArgs<Real>& a) override { cpu::gelu_forward(a); }
  void gelu_backward(const GeluBackwardArgs<Real>& a) override { cpu::gelu_backward(a); }
  void dropout_forward(const DropoutArgs<Real>& a) override { cpu::dropout_forward(a); }
  void dropout_backward(const DropoutArgs<Real>& a) override { cpu::dropout_backward(a); }
  void attention_forward(const AttentionForwardArgs<Real>& a) override { cpu::attention_forward(a); }
  void attention_backward(const AttentionBackwardArgs<Real>& a) override { cpu::attention_backward(a); }
  void pooler_forward(const PoolerForwardArgs<Real>& a) override { cpu::pooler_forward(a); }
  void pooler_backward(const PoolerBackwardArgs<Real>& a) override { cpu::pooler_backward(a); }
  void regression_head_forward(const RegressionHeadForwardArgs<Real>& a) override { cpu::regression_head_forward(a); }
  void regression_head_backward(const RegressionHeadBackwardArgs<Real>& a) override { cpu::regression_head_backward(a); }
  double grad_norm_squared(const Real* grads, int64_t n) override { return cpu::grad_norm_squared(grads, n); }
  void adamw_step(const AdamWArgs<Real>& a) override { cpu::adamw_step(a); }
  void master_to_working(const Master* master, Real* working, int64_t n) override {
    cpu::master_to_working(master, working, n);
  }

 private:
  std::atomic<size_t> allocated_{0};
  size_t peak_ = 0;
};

extern template class CpuBackend<float>;
extern template class CpuBackend<double>;

}  // namespace ft::cpu
