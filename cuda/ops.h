// The CUDA backend's launchers: one cuda/<op>.cu per op, the same names and argument structs as the
// CPU backend (core/cpu/ops.h, core/ops.h), instantiated for float and bf16. Each launcher enqueues
// its kernels on ctx.stream, checks the launch, and never synchronises.
#pragma once

#include "core/ops.h"
#include "cuda/context.h"

namespace ft::cuda {

template <class Real> void embedding_forward(const EmbeddingForwardArgs<Real>& a, const Context& ctx);
template <class Real> void embedding_backward(const EmbeddingBackwardArgs<Real>& a, const Context& ctx);
template <class Real> void linear_forward(const LinearForwardArgs<Real>& a, const Context& ctx);
template <class Real> void linear_backward(const LinearBackwardArgs<Real>& a, const Context& ctx);
template <class Real> void layernorm_forward(const LayerNormForwardArgs<Real>& a, const Context& ctx);
template <class Real> void layernorm_backward(const LayerNormBackwardArgs<Real>& a, const Context& ctx);
template <class Real> void gelu_forward(const GeluForwardArgs<Real>& a, const Context& ctx);
template <class Real> void gelu_backward(const GeluBackwardArgs<Real>& a, const Context& ctx);
template <class Real> void dropout_forward(const DropoutArgs<Real>& a, const Context& ctx);
template <class Real> void dropout_backward(const DropoutArgs<Real>& a, const Context& ctx);
template <class Real> void attention_forward(const AttentionForwardArgs<Real>& a, const Context& ctx);
template <class Real> void attention_backward(const AttentionBackwardArgs<Real>& a, const Context& ctx);
template <class Real> void pooler_forward(const PoolerForwardArgs<Real>& a, const Context& ctx);
template <class Real> void pooler_backward(const PoolerBackwardArgs<Real>& a, const Context& ctx);
template <class Real> void regression_head_forward(const RegressionHeadForwardArgs<Real>& a, const Context& ctx);
template <class Real> void regression_head_backward(const RegressionHeadBackwardArgs<Real>& a, const Context& ctx);
// Returns the sum of squares (synchronises to read the scalar back).
template <class Real> double grad_norm_squared(const Real* grads, int64_t n, const Context& ctx);
template <class Real> void adamw_step(const AdamWArgs<Real>& a, const Context& ctx);
template <class Real> void master_to_working(const master_t<Real>* master, Real* working, int64_t n, const Context& ctx);

}  // namespace ft::cuda
