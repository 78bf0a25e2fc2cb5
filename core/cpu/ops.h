// The CPU backend's ops: one file per op in core/cpu/ (embedding.cpp, linear.cpp, ...), each
// templated on Real and instantiated for float and double. Arguments and conventions: core/ops.h.
#pragma once

#include "core/ops.h"

namespace ft::cpu {

template <class Real> void embedding_forward(const EmbeddingForwardArgs<Real>& a);
template <class Real> void embedding_backward(const EmbeddingBackwardArgs<Real>& a);
template <class Real> void linear_forward(const LinearForwardArgs<Real>& a);
template <class Real> void linear_backward(const LinearBackwardArgs<Real>& a);
template <class Real> void layernorm_forward(const LayerNormForwardArgs<Real>& a);
template <class Real> void layernorm_backward(const LayerNormBackwardArgs<Real>& a);
template <class Real> void gelu_forward(const GeluForwardArgs<Real>& a);
template <class Real> void gelu_backward(const GeluBackwardArgs<Real>& a);
template <class Real> void dropout_forward(const DropoutArgs<Real>& a);
template <class Real> void dropout_backward(const DropoutArgs<Real>& a);
template <class Real> void attention_forward(const AttentionForwardArgs<Real>& a);
template <class Real> void attention_backward(const AttentionBackwardArgs<Real>& a);
template <class Real> void pooler_forward(const PoolerForwardArgs<Real>& a);
template <class Real> void pooler_backward(const PoolerBackwardArgs<Real>& a);
template <class Real> void regression_head_forward(const RegressionHeadForwardArgs<Real>& a);
template <class Real> void regression_head_backward(const RegressionHeadBackwardArgs<Real>& a);
template <class Real> double grad_norm_squared(const Real* grads, int64_t n);
template <class Real> void adamw_step(const AdamWArgs<Real>& a);
template <class Real> void master_to_working(const master_t<Real>* master, Real* working, int64_t n);

}  // namespace ft::cpu
