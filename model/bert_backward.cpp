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
  backend.dropout_backward({.n = n, .dropout = spec, .x = scratch});
  return scratch;
}

}  // namespace

template <class Real>
void BertRegressor<Real>::Impl::run_backward(float loss_scale) {
  const BertConfig& c = config;
  const int B = last.B, T = last.T, N = B * T;
  const int C = c.hidden_size, F = c.intermediate_size, H = c.num_attention_heads, D = c.head_size();
  const int L = c.num_hidden_layers;
  const int64_t NC = static_cast<int64_t>(N) * C, NF = static_cast<int64_t>(N) * F;
  const float attention_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  const DropoutRates& rates = last.rates;
  const int lowest = lowest_trainable;

  // ---- regression head (MSE): gradient of the pooled output only when something below trains
  backend.regression_head_backward({.B = B, .C = C, .pooled = fwd.pooled, .w = p.head_w,
                                    .dropout = dropout(rates.classifier, 0, DropoutSite::Classifier),
                                    .targets = fwd.targets, .pred = fwd.pred, .loss_scale = loss_scale,
                                    .dpooled = lowest < head_group() ? bwd.dpooled : nullptr, .dw = g.head_w,
                                    .db = g.head_b});
  if (lowest >= head_group()) return;

  // ---- pooler: writes the last layer's output gradient (row t = 0 of each sequence, zeros elsewhere)
  backend.pooler_backward({.B = B, .T = T, .C = C, .hidden = L > 0 ? fwd.layers[L - 1].out : fwd.emb, .w = p.pool_w,
                           .pooled = fwd.pooled, .dpooled = bwd.dpooled,
                           .dhidden = lowest < pooler_group() ? bwd.dres : nullptr, .dw = g.pool_w, .db = g.pool_b});
  if (lowest >= pooler_group()) return;

  for (int l = L - 1; l >= 0 && group_of_layer(l) >= lowest; --l) {
    const detail::LayerTensors<Real>& w = p.layers[l];
    const detail::LayerTensors<Real>& dw = g.layers[l];
    const detail::LayerActivations<Real>& a = fwd.layers[l];
    const Real* x = l > 0 ? fwd.layers[l - 1].out : fwd.emb;  // (B, T, C) the layer's input
    const bool need_dx = lowest < group_of_layer(l);
    const uint32_t layer = static_cast<uint32_t>(l);

    // feed-forward, in reverse: dsum = LayerNorm2'(dres); the output projection saw dropout(o), so
    // its gradient is the masked copy of dsum, while dsum itself flows on unmasked (the residual)
    backend.layernorm_backward({.N = N, .C = C, .in = a.sum2, .gamma = w.ln2_g, .mean = a.mean2, .rstd = a.rstd2,
                                .dout = bwd.dres, .din = bwd.dsum, .dgamma = dw.ln2_g, .dbeta = dw.ln2_b});
    const Real* dproj = dropout_input_grad(backend, bwd.dtmp, bwd.dsum, NC,
                                           dropout(rates.hidden, layer, DropoutSite::FfnOutput));
    backend.linear_backward({.N = N, .in = F, .out = C, .x = a.g, .w = w.wo2, .dy = dproj, .dx = bwd.dffn,
                             .dw = dw.wo2, .db = dw.bo2});
    backend.gelu_backward({.n = NF, .x = a.h, .dy = bwd.dffn, .dx = bwd.dffn});
    // += onto the residual's share: dsum becomes dx1
    backend.linear_backward({.N = N, .in = C, .out = F, .x = a.x1, .w = w.wi, .dy = bwd.dffn, .dx = bwd.dsum,
                             .dx_accumulate = true, .dw = dw.wi, .db = dw.bi});

    // self-attention, in reverse
    backend.layernorm_backward({.N = N, .C = C, .in = a.sum1, .gamma = w.ln1_g, .mean = a.mean1, .rstd = a.rstd1,
                                .dout = bwd.dsum, .din = bwd.dres, .dgamma = dw.ln1_g, .dbeta = dw.ln1_b});
    const Real* ddense = dropout_input_grad(backend, bwd.dtmp, bwd.dres, NC,
                                            dropout(rates.hidden, layer, DropoutSite::AttentionOutput));
    backend.linear_backward({.N = N, .in = C, .out = C, .x = a.ctx, .w = w.wo, .dy = ddense, .dx = bwd.dsum,
                             .dw = dw.wo, .db = dw.bo});
    backend.attention_backward({.B = B, .T = T, .H = H, .D = D, .qkv = a.qkv, .lengths = fwd.lengths,
                                .scale = attention_scale,
                                .dropout = dropout(rates.attention, layer, DropoutSite::AttentionProbs),
                                .out = a.ctx, .lse = a.lse, .dout = bwd.dsum, .dqkv = bwd.dqkv});
    // += onto the residual's share: dres becomes dx (none below the lowest trainable layer)
    backend.linear_backward({.N = N, .in = C, .out = 3 * C, .x = x, .w = w.wqkv, .dy = bwd.dqkv,
                             .dx = need_dx ? bwd.dres : nullptr, .dx_accumulate = true, .dw = dw.wqkv,
                             .db = dw.bqkv});
  }
  if (lowest > 0) return;

  backend.embedding_backward({.B = B, .T = T, .C = C, .vocab = c.vocab_size, .max_positions = c.max_position_embeddings,
                              .type_vocab = c.type_vocab_size, .input_ids = fwd.input_ids,
                              .token_type_ids = fwd.token_type_ids, .word = p.word, .pos = p.pos, .type = p.type,
                              .gamma = p.emb_g, .beta = p.emb_b,
                              .dropout = dropout(rates.hidden, static_cast<uint32_t>(L), DropoutSite::Embedding),
                              .mean = fwd.emb_mean, .rstd = fwd.emb_rstd, .dout = bwd.dres, .dword = g.word,
                              .dpos = g.pos, .dtype = g.type, .dgamma = g.emb_g, .dbeta = g.emb_b});
}

template void BertRegressor<float>::Impl::run_backward(float);
template void BertRegressor<double>::Impl::run_backward(float);
template void BertRegressor<bf16>::Impl::run_backward(float);

}  // namespace ft
