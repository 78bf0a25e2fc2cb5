// A plain bf16 implementation, emulated on the CPU: the fp32 CPU backend with every bf16-stored
// result of every op rounded to bf16 (activations, activation gradients, parameter gradients after
// each accumulation, the residual sum before it is normalised). Statistics, predictions, the loss,
// AdamW's master weights and moments stay fp32, as in the bf16 CUDA backend.
//
// This is the baseline of the bf16 whole-model tests: "within twice the error of a plain bf16
// implementation against an fp64 reference" (tests/support/parity.h). Its ops compute in fp32 and
// round once, like the CUDA kernels, so it measures how this model amplifies bf16 storage error.
// The model's parameters are fp32 here, so a test loads them rounded to bf16 (the working copy).
#pragma once

#include <memory>

#include "core/backend.h"
#include "core/backend_registry.h"
#include "core/dtype.h"

namespace ft::test {

class Bf16RoundingBackend final : public Backend<float> {
 public:
  Bf16RoundingBackend() : in_(make_backend<float>(DeviceSpec{})) {}

  static void round(float* p, int64_t n) {
    if (!p) return;
    for (int64_t i = 0; i < n; ++i) p[i] = bf16::from_float(p[i]).to_float();
  }

  std::string name() const override { return "cpu (bf16-rounding)"; }
  bool on_device() const override { return false; }
  void* allocate(size_t bytes) override { return in_->allocate(bytes); }
  void deallocate(void* p) noexcept override { in_->deallocate(p); }
  void upload(void* d, const void* s, size_t n) override { in_->upload(d, s, n); }
  void download(void* d, const void* s, size_t n) override { in_->download(d, s, n); }
  void copy(void* d, const void* s, size_t n) override { in_->copy(d, s, n); }
  void fill_zero(void* p, size_t n) override { in_->fill_zero(p, n); }
  void synchronize() override { in_->synchronize(); }
  size_t peak_allocated() const override { return in_->peak_allocated(); }

  void embedding_forward(const EmbeddingForwardArgs<float>& a) override {
    in_->embedding_forward(a);
    round(a.out, int64_t{a.B} * a.T * a.C);
  }
  void embedding_backward(const EmbeddingBackwardArgs<float>& a) override {
    in_->embedding_backward(a);
    round(a.dword, int64_t{a.vocab} * a.C);
    round(a.dpos, int64_t{a.max_positions} * a.C);
    round(a.dtype, int64_t{a.type_vocab} * a.C);
    round(a.dgamma, a.C);
    round(a.dbeta, a.C);
  }
  void linear_forward(const LinearForwardArgs<float>& a) override {
    in_->linear_forward(a);
    round(a.y, int64_t{a.N} * a.out);
  }
  void linear_backward(const LinearBackwardArgs<float>& a) override {
    in_->linear_backward(a);
    round(a.dx, int64_t{a.N} * a.in);
    round(a.dw, int64_t{a.out} * a.in);
    round(a.db, a.out);
  }
  void layernorm_forward(const LayerNormForwardArgs<float>& a) override {
    if (!a.residual) {
      in_->layernorm_forward(a);
    } else {  // the sum is a bf16 tensor, and that is what gets normalised
      const int64_t n = int64_t{a.N} * a.C;
      for (int64_t i = 0; i < n; ++i) a.sum[i] = a.x[i] + a.residual[i];
      round(a.sum, n);
      LayerNormForwardArgs<float> b = a;
      b.x = a.sum;
      b.residual = nullptr;
      b.sum = nullptr;
      in_->layernorm_forward(b);
    }
    round(a.out, int64_t{a.N} * a.C);
  }
  void layernorm_backward(const LayerNormBackwardArgs<float>& a) override {
    in_->layernorm_backward(a);
    round(a.din, int64_t{a.N} * a.C);
    round(a.dgamma, a.C);
    round(a.dbeta, a.C);
  }
  void gelu_forward(const GeluForwardArgs<float>& a) override {
    in_->gelu_forward(a);
    round(a.y, a.n);
  }
  void gelu_backward(const GeluBackwardArgs<float>& a) override {
    in_->gelu_backward(a);
    round(a.dx, a.n);
  }
  void dropout_forward(const DropoutArgs<float>& a) override {
    in_->dropout_forward(a);
    round(a.x, a.n);
  }
  void dropout_backward(const DropoutArgs<float>& a) override {
    in_->dropout_backward(a);
    round(a.x, a.n);
  }
  void attention_forward(const AttentionForwardArgs<float>& a) override {
    in_->attention_forward(a);
    round(a.out, int64_t{a.B} * a.T * a.H * a.D);
  }
  void attention_backward(const AttentionBackwardArgs<float>& a) override {
    in_->attention_backward(a);
    round(a.dqkv, int64_t{a.B} * a.T * 3 * a.H * a.D);
  }
  void pooler_forward(const PoolerForwardArgs<float>& a) override {
    in_->pooler_forward(a);
    round(a.pooled, int64_t{a.B} * a.C);
  }
  void pooler_backward(const PoolerBackwardArgs<float>& a) override {
    in_->pooler_backward(a);
    round(a.dhidden, int64_t{a.B} * a.T * a.C);
    round(a.dw, int64_t{a.C} * a.C);
    round(a.db, a.C);
  }
  void regression_head_forward(const RegressionHeadForwardArgs<float>& a) override {
    in_->regression_head_forward(a);  // pred and loss are fp32
  }
  void regression_head_backward(const RegressionHeadBackwardArgs<float>& a) override {
    in_->regression_head_backward(a);
    round(a.dpooled, int64_t{a.B} * a.C);
    round(a.dw, a.C);
    round(a.db, 1);
  }
  double grad_norm_squared(const float* g, int64_t n) override { return in_->grad_norm_squared(g, n); }
  void adamw_step(const AdamWArgs<float>& a) override { in_->adamw_step(a); }  // master and moments: fp32
  void master_to_working(const float* m, float* w, int64_t n) override { in_->master_to_working(m, w, n); }

 private:
  std::unique_ptr<Backend<float>> in_;
};

}  // namespace ft::test
