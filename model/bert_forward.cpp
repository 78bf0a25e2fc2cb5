// BertRegressor's forward pass, layer by layer (Hugging Face's BertForSequenceClassification):
//   embeddings: x = dropout(LayerNorm(word[ids] + pos[t] + type[type_ids]))
//   each layer: qkv = x Wqkv^T + bqkv;  ctx = attention(qkv, lengths)
//               x1  = LayerNorm(dropout(ctx Wo^T + bo) + x)
//               x   = LayerNorm(dropout(GELU(x1 Wi^T + bi) Wo2^T + bo2) + x1)
//   pooler:     pooled = tanh(x[:, 0] Wp^T + bp)
//   head:       pred = dropout(pooled) w + b;  loss = mean (pred - target)^2
// Every activation the backward needs is saved in the forward arena (bert_regressor_impl.h).
#include <cmath>

#include "model/bert_regressor_impl.h"

namespace ft {

template <class Real>
void BertRegressor<Real>::Impl::run_forward() {
  const BertConfig& c = config;
  const int B = last.B, T = last.T, N = B * T;
  const int C = c.hidden_size, F = c.intermediate_size, H = c.num_attention_heads, D = c.head_size();
  const int L = c.num_hidden_layers;
  const DropoutRates& rates = last.rates;

  EmbeddingForwardArgs<Real> emb;
  emb.B = B; emb.T = T; emb.C = C;
  emb.vocab = c.vocab_size; emb.max_positions = c.max_position_embeddings; emb.type_vocab = c.type_vocab_size;
  emb.input_ids = fwd.input_ids;
  emb.token_type_ids = fwd.token_type_ids;
  emb.word = p.word; emb.pos = p.pos; emb.type = p.type;
  emb.gamma = p.emb_g; emb.beta = p.emb_b;
  emb.eps = c.layer_norm_eps;
  emb.dropout = dropout(rates.hidden, static_cast<uint32_t>(L), DropoutSite::Embedding);
  emb.out = fwd.emb;
  emb.mean = fwd.emb_mean;
  emb.rstd = fwd.emb_rstd;
  backend.embedding_forward(emb);

  const Real* x = fwd.emb;  // (B, T, C) the layer's input
  for (int l = 0; l < L; ++l) {
    const detail::LayerTensors<Real>& w = p.layers[l];
    const detail::LayerActivations<Real>& a = fwd.layers[l];
    const uint32_t layer = static_cast<uint32_t>(l);

    LinearForwardArgs<Real> qkv;
    qkv.N = N; qkv.in = C; qkv.out = 3 * C;
    qkv.x = x; qkv.w = w.wqkv; qkv.b = w.bqkv; qkv.y = a.qkv;
    backend.linear_forward(qkv);

    AttentionForwardArgs<Real> att;
    att.B = B; att.T = T; att.H = H; att.D = D;
    att.qkv = a.qkv;
    att.lengths = fwd.lengths;
    att.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
    att.dropout = dropout(rates.attention, layer, DropoutSite::AttentionProbs);
    att.out = a.ctx;
    att.lse = a.lse;
    backend.attention_forward(att);

    LinearForwardArgs<Real> dense;
    dense.N = N; dense.in = C; dense.out = C;
    dense.x = a.ctx; dense.w = w.wo; dense.b = w.bo; dense.y = fwd.proj;
    backend.linear_forward(dense);

    DropoutArgs<Real> drop1;
    drop1.n = static_cast<int64_t>(N) * C;
    drop1.dropout = dropout(rates.hidden, layer, DropoutSite::AttentionOutput);
    drop1.x = fwd.proj;
    if (drop1.dropout.active()) backend.dropout_forward(drop1);

    LayerNormForwardArgs<Real> ln1;
    ln1.N = N; ln1.C = C;
    ln1.x = fwd.proj; ln1.residual = x;
    ln1.gamma = w.ln1_g; ln1.beta = w.ln1_b; ln1.eps = c.layer_norm_eps;
    ln1.sum = a.sum1; ln1.out = a.x1; ln1.mean = a.mean1; ln1.rstd = a.rstd1;
    backend.layernorm_forward(ln1);

    LinearForwardArgs<Real> inter;
    inter.N = N; inter.in = C; inter.out = F;
    inter.x = a.x1; inter.w = w.wi; inter.b = w.bi; inter.y = a.h;
    backend.linear_forward(inter);

    GeluForwardArgs<Real> gelu;
    gelu.n = static_cast<int64_t>(N) * F;
    gelu.x = a.h; gelu.y = a.g;
    backend.gelu_forward(gelu);

    LinearForwardArgs<Real> out;
    out.N = N; out.in = F; out.out = C;
    out.x = a.g; out.w = w.wo2; out.b = w.bo2; out.y = fwd.proj;
    backend.linear_forward(out);

    DropoutArgs<Real> drop2;
    drop2.n = static_cast<int64_t>(N) * C;
    drop2.dropout = dropout(rates.hidden, layer, DropoutSite::FfnOutput);
    drop2.x = fwd.proj;
    if (drop2.dropout.active()) backend.dropout_forward(drop2);

    LayerNormForwardArgs<Real> ln2;
    ln2.N = N; ln2.C = C;
    ln2.x = fwd.proj; ln2.residual = a.x1;
    ln2.gamma = w.ln2_g; ln2.beta = w.ln2_b; ln2.eps = c.layer_norm_eps;
    ln2.sum = a.sum2; ln2.out = a.out; ln2.mean = a.mean2; ln2.rstd = a.rstd2;
    backend.layernorm_forward(ln2);

    x = a.out;
  }

  PoolerForwardArgs<Real> pool;
  pool.B = B; pool.T = T; pool.C = C;
  pool.hidden = x; pool.w = p.pool_w; pool.b = p.pool_b; pool.pooled = fwd.pooled;
  backend.pooler_forward(pool);

  RegressionHeadForwardArgs<Real> head;
  head.B = B; head.C = C;
  head.pooled = fwd.pooled; head.w = p.head_w; head.b = p.head_b;
  head.dropout = dropout(rates.classifier, 0, DropoutSite::Classifier);
  head.targets = last.has_targets ? fwd.targets : nullptr;
  head.pred = fwd.pred;
  head.loss = fwd.loss;
  backend.regression_head_forward(head);
}

template void BertRegressor<float>::Impl::run_forward();
template void BertRegressor<double>::Impl::run_forward();
template void BertRegressor<bf16>::Impl::run_forward();

}  // namespace ft
