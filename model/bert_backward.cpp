// BertRegressor's backward pass: the forward (bert_forward.cpp) in reverse, layer by layer.
//
// The residual stream's gradient lives in bwd.dres. Per layer, from the gradient of its output:
//   dsum2 = LayerNorm2'(dres)                      (dres is free from here on)
//   dg    = dropout'(dsum2) Wo2;  dh = GELU'(dg)   (in place)
//   dx1   = dsum2 + dh Wi                          (linear backward accumulates into dsum)
//   dsum1 = LayerNorm1'(dx1)  -> dres
//   dctx  = dropout'(dsum1) Wo -> dsum
//   dqkv  = attention'(dctx)
//   dx    = dsum1 + dqkv Wqkv                      (accumulates into dres: the layer input's gradient)
// Frozen groups: their parameter gradient pointers are null, so the ops skip that work; and the
// pass stops below the lowest trainable group: the lowest trainable layer computes no input
// gradient, and nothing under it runs.
#include <cmath>

#include "core/error.h"
#include "model/bert_regressor_impl.h"

namespace ft {

namespace {

// The gradient a dropout's input receives: a masked copy of `grad` in `scratch` (the unmasked
// gradient still flows on through the residual), or `grad` itself when the dropout is inactive.
template <class Real>
const Real* dropout_input_grad(Backend<Real>& backend, Real* scratch, const Real* grad, int64_t n,
                               const DropoutSpec& spec) {
  if (!spec.active()) return grad;
  backend.copy(scratch, grad, static_cast<size_t>(n) * sizeof(Real));
  DropoutArgs<Real> drop;
  drop.n = n;
  drop.dropout = spec;
  drop.x = scratch;
  backend.dropout_backward(drop);
  return scratch;
}

}  // namespace

template <class Real>
void BertRegressor<Real>::Impl::run_backward(float loss_scale) {
  const BertConfig& c = config;
  const int B = last.B, T = last.T, N = B * T;
  const int C = c.hidden_size, F = c.intermediate_size, H = c.num_attention_heads, D = c.head_size();
  const int L = c.num_hidden_layers;
  const DropoutRates& rates = last.rates;
  const int lowest = lowest_trainable;

  // ---- regression head (MSE): gradient of the pooled output only when something below trains
  RegressionHeadBackwardArgs<Real> head;
  head.B = B; head.C = C;
  head.pooled = fwd.pooled; head.w = p.head_w;
  head.dropout = dropout(rates.classifier, 0, DropoutSite::Classifier);
  head.targets = fwd.targets; head.pred = fwd.pred;
  head.loss_scale = loss_scale;
  head.dpooled = lowest < head_group() ? bwd.dpooled : nullptr;
  head.dw = g.head_w; head.db = g.head_b;
  backend.regression_head_backward(head);
  if (lowest >= head_group()) return;

  // ---- pooler: writes the last layer's output gradient (row t = 0 of each sequence, zeros elsewhere)
  PoolerBackwardArgs<Real> pool;
  pool.B = B; pool.T = T; pool.C = C;
  pool.hidden = L > 0 ? fwd.layers[L - 1].out : fwd.emb;
  pool.w = p.pool_w; pool.pooled = fwd.pooled; pool.dpooled = bwd.dpooled;
  pool.dhidden = lowest < pooler_group() ? bwd.dres : nullptr;
  pool.dw = g.pool_w; pool.db = g.pool_b;
  backend.pooler_backward(pool);
  if (lowest >= pooler_group()) return;

  for (int l = L - 1; l >= 0 && group_of_layer(l) >= lowest; --l) {
    const detail::LayerTensors<Real>& w = p.layers[l];
    const detail::LayerTensors<Real>& dw = g.layers[l];
    const detail::LayerActivations<Real>& a = fwd.layers[l];
    const Real* x = l > 0 ? fwd.layers[l - 1].out : fwd.emb;  // (B, T, C) the layer's input
    const bool need_dx = lowest < group_of_layer(l);
    const uint32_t layer = static_cast<uint32_t>(l);

    LayerNormBackwardArgs<Real> ln2;
    ln2.N = N; ln2.C = C;
    ln2.in = a.sum2; ln2.gamma = w.ln2_g; ln2.mean = a.mean2; ln2.rstd = a.rstd2;
    ln2.dout = bwd.dres;
    ln2.din = bwd.dsum;
    ln2.dgamma = dw.ln2_g; ln2.dbeta = dw.ln2_b;
    backend.layernorm_backward(ln2);

    // The output projection saw dropout(o): its gradient is the masked copy of dsum2, while dsum2
    // itself flows on unmasked through the residual.
    const Real* dproj = dropout_input_grad(backend, bwd.dtmp, bwd.dsum, static_cast<int64_t>(N) * C,
                                           dropout(rates.hidden, layer, DropoutSite::FfnOutput));

    LinearBackwardArgs<Real> out;
    out.N = N; out.in = F; out.out = C;
    out.x = a.g; out.w = w.wo2; out.dy = dproj;
    out.dx = bwd.dffn;
    out.dw = dw.wo2; out.db = dw.bo2;
    backend.linear_backward(out);

    GeluBackwardArgs<Real> gelu;
    gelu.n = static_cast<int64_t>(N) * F;
    gelu.x = a.h; gelu.dy = bwd.dffn; gelu.dx = bwd.dffn;
    backend.gelu_backward(gelu);

    LinearBackwardArgs<Real> inter;
    inter.N = N; inter.in = C; inter.out = F;
    inter.x = a.x1; inter.w = w.wi; inter.dy = bwd.dffn;
    inter.dx = bwd.dsum;  // += onto the residual's share: dsum becomes dx1
    inter.dx_accumulate = true;
    inter.dw = dw.wi; inter.db = dw.bi;
    backend.linear_backward(inter);

    LayerNormBackwardArgs<Real> ln1;
    ln1.N = N; ln1.C = C;
    ln1.in = a.sum1; ln1.gamma = w.ln1_g; ln1.mean = a.mean1; ln1.rstd = a.rstd1;
    ln1.dout = bwd.dsum;
    ln1.din = bwd.dres;
    ln1.dgamma = dw.ln1_g; ln1.dbeta = dw.ln1_b;
    backend.layernorm_backward(ln1);

    const Real* ddense = dropout_input_grad(backend, bwd.dtmp, bwd.dres, static_cast<int64_t>(N) * C,
                                            dropout(rates.hidden, layer, DropoutSite::AttentionOutput));

    LinearBackwardArgs<Real> dense;
    dense.N = N; dense.in = C; dense.out = C;
    dense.x = a.ctx; dense.w = w.wo; dense.dy = ddense;
    dense.dx = bwd.dsum;
    dense.dw = dw.wo; dense.db = dw.bo;
    backend.linear_backward(dense);

    AttentionBackwardArgs<Real> att;
    att.B = B; att.T = T; att.H = H; att.D = D;
    att.qkv = a.qkv;
    att.lengths = fwd.lengths;
    att.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
    att.dropout = dropout(rates.attention, layer, DropoutSite::AttentionProbs);
    att.out = a.ctx; att.lse = a.lse;
    att.dout = bwd.dsum;
    att.dqkv = bwd.dqkv;
    backend.attention_backward(att);

    LinearBackwardArgs<Real> qkv;
    qkv.N = N; qkv.in = C; qkv.out = 3 * C;
    qkv.x = x; qkv.w = w.wqkv; qkv.dy = bwd.dqkv;
    qkv.dx = need_dx ? bwd.dres : nullptr;  // += onto the residual's share: dres becomes dx
    qkv.dx_accumulate = true;
    qkv.dw = dw.wqkv; qkv.db = dw.bqkv;
    backend.linear_backward(qkv);
  }
  if (lowest > 0) return;

  EmbeddingBackwardArgs<Real> emb;
  emb.B = B; emb.T = T; emb.C = C;
  emb.vocab = c.vocab_size; emb.max_positions = c.max_position_embeddings; emb.type_vocab = c.type_vocab_size;
  emb.input_ids = fwd.input_ids;
  emb.token_type_ids = fwd.token_type_ids;
  emb.word = p.word; emb.pos = p.pos; emb.type = p.type;
  emb.gamma = p.emb_g; emb.beta = p.emb_b;
  emb.dropout = dropout(rates.hidden, static_cast<uint32_t>(L), DropoutSite::Embedding);
  emb.mean = fwd.emb_mean; emb.rstd = fwd.emb_rstd;
  emb.dout = bwd.dres;
  emb.dword = g.word; emb.dpos = g.pos; emb.dtype = g.type;
  emb.dgamma = g.emb_g; emb.dbeta = g.emb_b;
  backend.embedding_backward(emb);
}

template void BertRegressor<float>::Impl::run_backward(float);
template void BertRegressor<double>::Impl::run_backward(float);
template void BertRegressor<bf16>::Impl::run_backward(float);

}  // namespace ft
