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
  const int64_t NC = static_cast<int64_t>(N) * C, NF = static_cast<int64_t>(N) * F;
  const float eps = c.layer_norm_eps;
  const float attention_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  const DropoutRates& rates = last.rates;

  backend.embedding_forward({.B = B, .T = T, .C = C, .vocab = c.vocab_size, .max_positions = c.max_position_embeddings,
                             .type_vocab = c.type_vocab_size, .input_ids = fwd.input_ids,
                             .token_type_ids = fwd.token_type_ids, .word = p.word, .pos = p.pos, .type = p.type,
                             .gamma = p.emb_g, .beta = p.emb_b, .eps = eps,
                             .dropout = dropout(rates.hidden, static_cast<uint32_t>(L), DropoutSite::Embedding),
                             .out = fwd.emb, .mean = fwd.emb_mean, .rstd = fwd.emb_rstd});

  const Real* x = fwd.emb;  // (B, T, C) the layer's input
  for (int l = 0; l < L; ++l) {
    const detail::LayerTensors<Real>& w = p.layers[l];
    const detail::LayerActivations<Real>& a = fwd.layers[l];
    const uint32_t layer = static_cast<uint32_t>(l);
    const DropoutSpec attention_out_drop = dropout(rates.hidden, layer, DropoutSite::AttentionOutput);
    const DropoutSpec ffn_out_drop = dropout(rates.hidden, layer, DropoutSite::FfnOutput);

    // self-attention: x1 = LayerNorm(dropout(attention(x Wqkv^T + bqkv) Wo^T + bo) + x)
    backend.linear_forward({.N = N, .in = C, .out = 3 * C, .x = x, .w = w.wqkv, .b = w.bqkv, .y = a.qkv});
    backend.attention_forward({.B = B, .T = T, .H = H, .D = D, .qkv = a.qkv, .lengths = fwd.lengths,
                               .scale = attention_scale,
                               .dropout = dropout(rates.attention, layer, DropoutSite::AttentionProbs),
                               .out = a.ctx, .lse = a.lse});
    backend.linear_forward({.N = N, .in = C, .out = C, .x = a.ctx, .w = w.wo, .b = w.bo, .y = fwd.proj});
    if (attention_out_drop.active()) backend.dropout_forward({.n = NC, .dropout = attention_out_drop, .x = fwd.proj});
    backend.layernorm_forward({.N = N, .C = C, .x = fwd.proj, .residual = x, .gamma = w.ln1_g, .beta = w.ln1_b,
                               .eps = eps, .sum = a.sum1, .out = a.x1, .mean = a.mean1, .rstd = a.rstd1});

    // feed-forward: out = LayerNorm(dropout(GELU(x1 Wi^T + bi) Wo2^T + bo2) + x1)
    backend.linear_forward({.N = N, .in = C, .out = F, .x = a.x1, .w = w.wi, .b = w.bi, .y = a.h});
    backend.gelu_forward({.n = NF, .x = a.h, .y = a.g});
    backend.linear_forward({.N = N, .in = F, .out = C, .x = a.g, .w = w.wo2, .b = w.bo2, .y = fwd.proj});
    if (ffn_out_drop.active()) backend.dropout_forward({.n = NC, .dropout = ffn_out_drop, .x = fwd.proj});
    backend.layernorm_forward({.N = N, .C = C, .x = fwd.proj, .residual = a.x1, .gamma = w.ln2_g, .beta = w.ln2_b,
                               .eps = eps, .sum = a.sum2, .out = a.out, .mean = a.mean2, .rstd = a.rstd2});
    x = a.out;
  }

  backend.pooler_forward({.B = B, .T = T, .C = C, .hidden = x, .w = p.pool_w, .b = p.pool_b, .pooled = fwd.pooled});
  backend.regression_head_forward({.B = B, .C = C, .pooled = fwd.pooled, .w = p.head_w, .b = p.head_b,
                                   .dropout = dropout(rates.classifier, 0, DropoutSite::Classifier),
                                   .targets = last.has_targets ? fwd.targets : nullptr, .pred = fwd.pred,
                                   .loss = fwd.loss});
}

template void BertRegressor<float>::Impl::run_forward();
template void BertRegressor<double>::Impl::run_forward();
template void BertRegressor<bf16>::Impl::run_forward();

}  // namespace ft
