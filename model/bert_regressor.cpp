// BertRegressor<Real>: buffers, parameters in and out, the optimizer step. The passes themselves
// are in bert_forward.cpp and bert_backward.cpp.
#include "model/bert_regressor.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/error.h"
#include "model/adamw_step.h"
#include "model/bert_regressor_impl.h"

namespace ft {

namespace {

template <class T>
T real_from_float(float f) {
  if constexpr (std::is_same_v<T, bf16>) {
    return bf16::from_float(f);
  } else {
    return static_cast<T>(f);
  }
}

template <class T>
float real_to_float(T x) {
  if constexpr (std::is_same_v<T, bf16>) {
    return x.to_float();
  } else {
    return static_cast<float>(x);
  }
}

int group_index(const BertParamLayout& layout, const std::string& name) {
  for (size_t i = 0; i < layout.groups.size(); ++i)
    if (layout.groups[i].name == name) return static_cast<int>(i);
  FT_THROW("parameter layout: no group named \"", name, "\"");
}

// Typed views of every tensor of `base` (a buffer laid out like `layout`, or the gradient buffer
// with `offset_of` mapping specs to offsets; a negative offset leaves the view null).
template <class T, class OffsetOf>
detail::ModelTensors<T> make_views(const BertParamLayout& layout, const BertConfig& c, T* base, OffsetOf offset_of) {
  const auto at = [&](const std::string& name) -> T* {
    const ParamSpec* s = layout.find(name);
    FT_CHECK(s, "parameter layout: no tensor named \"", name, "\"");
    const int64_t off = offset_of(*s);
    return off < 0 ? nullptr : base + off;
  };
  detail::ModelTensors<T> v;
  v.word = at("bert.embeddings.word_embeddings.weight");
  v.pos = at("bert.embeddings.position_embeddings.weight");
  v.type = at("bert.embeddings.token_type_embeddings.weight");
  v.emb_g = at("bert.embeddings.LayerNorm.weight");
  v.emb_b = at("bert.embeddings.LayerNorm.bias");
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "bert.encoder.layer." + std::to_string(l) + ".";
    detail::LayerTensors<T> t;
    t.wqkv = at(p + "attention.self.query.weight");  // key and value follow directly (bert_params.h)
    t.bqkv = at(p + "attention.self.query.bias");
    t.wo = at(p + "attention.output.dense.weight");
    t.bo = at(p + "attention.output.dense.bias");
    t.ln1_g = at(p + "attention.output.LayerNorm.weight");
    t.ln1_b = at(p + "attention.output.LayerNorm.bias");
    t.wi = at(p + "intermediate.dense.weight");
    t.bi = at(p + "intermediate.dense.bias");
    t.wo2 = at(p + "output.dense.weight");
    t.bo2 = at(p + "output.dense.bias");
    t.ln2_g = at(p + "output.LayerNorm.weight");
    t.ln2_b = at(p + "output.LayerNorm.bias");
    v.layers.push_back(t);
  }
  v.pool_w = at("bert.pooler.dense.weight");
  v.pool_b = at("bert.pooler.dense.bias");
  v.head_w = at("classifier.weight");
  v.head_b = at("classifier.bias");
  return v;
}

void validate_batch(const ModelBatch& batch, const BertConfig& c) {
  const int B = batch.B, T = batch.T;
  FT_CHECK(B > 0 && T > 0, "batch: empty (B = ", B, ", T = ", T, ")");
  const size_t N = static_cast<size_t>(B) * static_cast<size_t>(T);
  FT_CHECK(T <= c.max_position_embeddings, "batch: sequence length ", T, " exceeds the model's ",
           c.max_position_embeddings, " positions (max_position_embeddings)");
  FT_CHECK(batch.input_ids.size() == N, "batch: input_ids has ", batch.input_ids.size(), " entries, expected B*T = ", N);
  FT_CHECK(batch.token_type_ids.size() == N, "batch: token_type_ids has ", batch.token_type_ids.size(),
           " entries, expected B*T = ", N);
  FT_CHECK(batch.lengths.size() == static_cast<size_t>(B), "batch: lengths has ", batch.lengths.size(),
           " entries, expected B = ", B);
  FT_CHECK(batch.targets.empty() || batch.targets.size() == static_cast<size_t>(B), "batch: targets has ",
           batch.targets.size(), " entries, expected B = ", B, " (or none)");
  for (int b = 0; b < B; ++b) {
    const int n = batch.lengths[b];
    FT_CHECK(n >= 1 && n <= T, "batch: sequence ", b, " has length ", n, ", outside [1, T = ", T, "]");
    for (int t = 0; t < T; ++t) {
      const int32_t id = batch.input_ids[static_cast<size_t>(b) * T + t];
      const int32_t type = batch.token_type_ids[static_cast<size_t>(b) * T + t];
      FT_CHECK(id >= 0 && id < c.vocab_size, "batch: sequence ", b, " token ", t, ": id ", id,
               " is outside the vocabulary (size ", c.vocab_size, ")");
      FT_CHECK(type >= 0 && type < c.type_vocab_size, "batch: sequence ", b, " token ", t, ": token type ", type,
               " is outside [0, ", c.type_vocab_size, ")");
    }
  }
  for (size_t b = 0; b < batch.targets.size(); ++b)
    FT_CHECK(std::isfinite(batch.targets[b]), "batch: target ", b, " is not a finite number");
}

}  // namespace

template <class Real>
BertRegressor<Real>::Impl::Impl(Backend<Real>& b, const BertConfig& c, TrainableGroups t)
    : backend(b), config(c), layout(bert_param_layout(c)), trainable(std::move(t)) {
  config.validate("model config");
  FT_CHECK(trainable.size() == layout.groups.size(), "trainable groups: ", trainable.size(), " flags for ",
           layout.groups.size(), " parameter groups");

  params = BackendBuffer<Real, Real>(backend, layout.total);
  if constexpr (kSeparateMaster) master = BackendBuffer<Master, Real>(backend, layout.total);

  // Gradients and moments: the trainable groups packed in layout order, each group laid out like
  // its slice of the parameter buffer (padding included, where the gradient stays zero).
  grad_group_offset.assign(layout.groups.size(), -1);
  for (size_t i = 0; i < layout.groups.size(); ++i) {
    if (!trainable[i]) continue;
    if (lowest_trainable < 0) lowest_trainable = static_cast<int>(i);
    grad_group_offset[i] = grad_total;
    // Two AdamW segments per group: the decayed tensors, then the others (bert_params.h orders them
    // so). A segment may span alignment padding: zero parameter, gradient and moments stay zero.
    const ParamGroup& group = layout.groups[i];
    const size_t group_first_segment = segments.size();
    for (int s : group.specs) {
      const ParamSpec& spec = layout.specs[s];
      const int64_t goff = grad_total + (spec.offset - group.offset);
      const float wd = spec.decay ? 1.0f : 0.0f;  // the rate is filled in per step
      if (segments.size() > group_first_segment && segments.back().weight_decay == wd) {
        segments.back().count = goff - segments.back().grad_offset + spec.numel();
      } else {
        segments.push_back({spec.offset, goff, spec.numel(), wd});
      }
    }
    grad_total += group.size;
  }
  if (grad_total > 0) {
    grads = BackendBuffer<Real, Real>(backend, grad_total);
    adam_m = BackendBuffer<Master, Real>(backend, grad_total);
    adam_v = BackendBuffer<Master, Real>(backend, grad_total);
  }

  p = make_views(layout, config, params.get(), [](const ParamSpec& s) { return s.offset; });
  g = make_views(layout, config, grads.get(), [this](const ParamSpec& s) { return grad_offset_of(s); });
}

template <class Real>
int64_t BertRegressor<Real>::Impl::grad_offset_of(const ParamSpec& spec) const {
  const int gi = group_index(layout, spec.group);
  if (grad_group_offset[gi] < 0) return -1;
  return grad_group_offset[gi] + (spec.offset - layout.groups[gi].offset);
}

template <class Real>
Real* BertRegressor<Real>::Impl::grad_of(const ParamSpec& spec) const {
  const int64_t off = grad_offset_of(spec);
  return off < 0 ? nullptr : grads.get() + off;
}

template <class Real>
void BertRegressor<Real>::Impl::ensure_forward_capacity(int B, int T) {
  const int64_t N = static_cast<int64_t>(B) * T;
  if (N <= fwd.rows && B <= fwd.batch) return;
  const int64_t rows = std::max(N, fwd.rows), batch = std::max<int64_t>(B, fwd.batch);
  forward_memory.reset();
  detail::ArenaCarver count(nullptr);
  fwd.carve(count, config, rows, batch);
  backend.set_memory_context(detail::concat("the forward activations for ", rows, " tokens (batch ", B, " x length ", T,
                                            "); a smaller --batch-size or --max-length needs less"));
  forward_memory = BackendBuffer<char, Real>(backend, static_cast<int64_t>(count.bytes()));
  backend.set_memory_context("");
  detail::ArenaCarver carver(forward_memory.get());
  fwd.carve(carver, config, rows, batch);
  fwd.rows = rows;
  fwd.batch = batch;
  last.valid = false;  // the saved activations are gone
}

template <class Real>
void BertRegressor<Real>::Impl::ensure_backward_capacity(int B, int T) {
  const int64_t N = static_cast<int64_t>(B) * T;
  if (N <= bwd.rows && B <= bwd.batch) return;
  const int64_t rows = std::max(N, bwd.rows), batch = std::max<int64_t>(B, bwd.batch);
  backward_memory.reset();
  detail::ArenaCarver count(nullptr);
  const bool through_encoder = lowest_trainable < pooler_group();
  bwd.carve(count, config, rows, batch, through_encoder);
  backend.set_memory_context(detail::concat("the backward activations for ", rows, " tokens (batch ", B, " x length ",
                                            T, "); a smaller --batch-size or --max-length needs less"));
  backward_memory = BackendBuffer<char, Real>(backend, static_cast<int64_t>(count.bytes()));
  backend.set_memory_context("");
  detail::ArenaCarver carver(backward_memory.get());
  bwd.carve(carver, config, rows, batch, through_encoder);
  bwd.rows = rows;
  bwd.batch = batch;
}

// ---- BertRegressor

template <class Real>
BertRegressor<Real>::BertRegressor(Backend<Real>& backend, const BertConfig& config, TrainableGroups trainable)
    : impl_(std::make_unique<Impl>(backend, config, std::move(trainable))) {}

template <class Real>
BertRegressor<Real>::~BertRegressor() = default;

template <class Real>
const BertConfig& BertRegressor<Real>::config() const { return impl_->config; }
template <class Real>
const BertParamLayout& BertRegressor<Real>::layout() const { return impl_->layout; }
template <class Real>
const TrainableGroups& BertRegressor<Real>::trainable() const { return impl_->trainable; }

template <class Real>
int64_t BertRegressor<Real>::trainable_count() const {
  int64_t n = 0;
  for (size_t i = 0; i < impl_->layout.groups.size(); ++i)
    if (impl_->trainable[i]) n += impl_->layout.groups[i].count;
  return n;
}

template <class Real>
void BertRegressor<Real>::load_params(const StateDict& params) {
  Impl& m = *impl_;
  for (const auto& [name, tensor] : params.tensors)
    FT_CHECK(m.layout.find(name), "parameters: unexpected tensor \"", name, "\" (not a parameter of this model)");
  using Host = std::conditional_t<Impl::kSeparateMaster, typename Impl::Master, Real>;
  std::vector<Host> host;
  for (const ParamSpec& spec : m.layout.specs) {
    const Tensor* t = params.find(spec.name);
    FT_CHECK(t, "parameters: missing tensor \"", spec.name, "\"");
    FT_CHECK(t->shape() == spec.shape, "parameters: tensor \"", spec.name, "\" has shape ", shape_str(t->shape()),
             ", expected ", shape_str(spec.shape));
    FT_CHECK(t->dtype() == DType::F32, "parameters: tensor \"", spec.name, "\" is ", dtype_name(t->dtype()),
             ", expected F32");
    FT_CHECK(t->device() == Device::Host, "parameters: tensor \"", spec.name, "\" is not in host memory");
    const float* src = t->data<float>();
    const int64_t n = spec.numel();  // a shape product: not per element
    host.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      FT_CHECK(std::isfinite(src[i]), "parameters: tensor \"", spec.name, "\" element ", i, " is not finite");
      host[static_cast<size_t>(i)] = real_from_float<Host>(src[i]);
    }
    Host* dst = nullptr;
    if constexpr (Impl::kSeparateMaster) {
      dst = m.master.get() + spec.offset;
    } else {
      dst = m.params.get() + spec.offset;
    }
    m.backend.upload(dst, host.data(), host.size() * sizeof(Host));
  }
  if constexpr (Impl::kSeparateMaster) m.backend.master_to_working(m.master.get(), m.params.get(), m.layout.total);
  m.backend.synchronize();
}

namespace {
// Tensor `spec` (at src on the backend) as an F32 host tensor appended to `out`; `host` is scratch.
template <class Real, class Host>
void append_downloaded(Backend<Real>& backend, const ParamSpec& spec, const Host* src, std::vector<Host>& host,
                       StateDict& out) {
  const int64_t n = spec.numel();  // a shape product: not per element
  host.resize(static_cast<size_t>(n));
  backend.download(host.data(), src, host.size() * sizeof(Host));
  Tensor t = Tensor::zeros(DType::F32, spec.shape);
  float* dst = t.data<float>();
  for (int64_t i = 0; i < n; ++i) dst[i] = real_to_float(host[static_cast<size_t>(i)]);
  out.tensors.emplace_back(spec.name, std::move(t));
}
}  // namespace

template <class Real>
StateDict BertRegressor<Real>::params_to_host() const {
  const Impl& m = *impl_;
  using Host = std::conditional_t<Impl::kSeparateMaster, typename Impl::Master, Real>;
  StateDict out;
  std::vector<Host> host;
  for (const ParamSpec& spec : m.layout.specs) {
    const Host* src = nullptr;
    if constexpr (Impl::kSeparateMaster) {
      src = m.master.get() + spec.offset;
    } else {
      src = m.params.get() + spec.offset;
    }
    append_downloaded(m.backend, spec, src, host, out);
  }
  return out;
}

template <class Real>
StateDict BertRegressor<Real>::grads_to_host() const {
  const Impl& m = *impl_;
  StateDict out;
  std::vector<Real> host;
  for (const ParamSpec& spec : m.layout.specs) {
    const Real* src = m.grad_of(spec);
    if (!src) continue;
    append_downloaded(m.backend, spec, src, host, out);
  }
  return out;
}

template <class Real>
typename BertRegressor<Real>::Output BertRegressor<Real>::forward(const ModelBatch& batch, bool training,
                                                                   const DropoutRates& rates, uint64_t seed,
                                                                   uint32_t step) {
  Impl& m = *impl_;
  validate_batch(batch, m.config);
  const int B = batch.B, T = batch.T;
  m.ensure_forward_capacity(B, T);

  const size_t N = static_cast<size_t>(B) * static_cast<size_t>(T);
  m.backend.upload(m.fwd.input_ids, batch.input_ids.data(), N * sizeof(int32_t));
  m.backend.upload(m.fwd.token_type_ids, batch.token_type_ids.data(), N * sizeof(int32_t));
  m.backend.upload(m.fwd.lengths, batch.lengths.data(), static_cast<size_t>(B) * sizeof(int32_t));
  const bool has_targets = !batch.targets.empty();
  if (has_targets) m.upload_targets(batch.targets);

  m.last.valid = false;
  m.last.features = nullptr;
  m.last.B = B;
  m.last.T = T;
  m.last.has_targets = has_targets;
  m.last.training = training;
  m.last.rates = rates;
  m.last.seed = seed;
  m.last.step = step;
  m.last.lengths = batch.lengths;
  m.run_forward();

  Output out;
  m.download_output(B, has_targets, &out.pred, &out.loss);
  m.last.valid = true;
  return out;
}

template <class Real>
typename BertRegressor<Real>::Output BertRegressor<Real>::head_forward(const Real* features, int B,
                                                                        const std::vector<float>& targets, bool training,
                                                                        float classifier_p, uint64_t seed, uint32_t step) {
  Impl& m = *impl_;
  const int C = m.config.hidden_size;
  FT_CHECK(B >= 1 && features, "head_forward: no features");
  FT_CHECK(targets.empty() || targets.size() == static_cast<size_t>(B), "head_forward: ", targets.size(),
           " targets for ", B, " examples");
  m.ensure_forward_capacity(B, 1);
  const bool has_targets = !targets.empty();
  for (const float v : targets) FT_CHECK(std::isfinite(v), "head_forward: a training example without a target");
  if (has_targets) m.upload_targets(targets);
  m.last = detail::LastForward{};
  m.last.B = B;
  m.last.T = 1;
  m.last.has_targets = has_targets;
  m.last.training = training;
  m.last.rates = DropoutRates{0.0f, 0.0f, classifier_p};
  m.last.seed = seed;
  m.last.step = step;
  m.last.features = features;
  const bool pooler_trains = m.trainable[static_cast<size_t>(m.pooler_group())];
  if (pooler_trains)
    m.backend.pooler_forward({.B = B, .T = 1, .C = C, .hidden = features, .w = m.p.pool_w, .b = m.p.pool_b,
                              .pooled = m.fwd.pooled});
  m.backend.regression_head_forward({.B = B, .C = C, .pooled = pooler_trains ? m.fwd.pooled : features,
                                     .w = m.p.head_w, .b = m.p.head_b,
                                     .dropout = m.dropout(classifier_p, 0, DropoutSite::Classifier),
                                     .targets = has_targets ? m.fwd.targets : nullptr, .pred = m.fwd.pred,
                                     .loss = m.fwd.loss});
  Output out;
  m.download_output(B, has_targets, &out.pred, &out.loss);
  m.last.valid = true;
  return out;
}

template <class Real>
void BertRegressor<Real>::head_backward(float loss_scale) {
  Impl& m = *impl_;
  FT_CHECK(m.last.valid && m.last.features, "head_backward: no head_forward to differentiate");
  FT_CHECK(m.last.has_targets, "head_backward: the last head_forward had no targets, so there is no loss");
  FT_CHECK(m.lowest_trainable >= m.pooler_group(), "head_backward: only the pooler and the head may train");
  const int B = m.last.B, C = m.config.hidden_size;
  const Real* features = static_cast<const Real*>(m.last.features);
  const bool pooler_trains = m.lowest_trainable == m.pooler_group();
  m.ensure_backward_capacity(B, 1);
  m.backend.regression_head_backward({.B = B, .C = C, .pooled = pooler_trains ? m.fwd.pooled : features,
                                      .w = m.p.head_w,
                                      .dropout = m.dropout(m.last.rates.classifier, 0, DropoutSite::Classifier),
                                      .targets = m.fwd.targets, .pred = m.fwd.pred, .loss_scale = loss_scale,
                                      .dpooled = pooler_trains ? m.bwd.dpooled : nullptr, .dw = m.g.head_w,
                                      .db = m.g.head_b});
  if (pooler_trains)
    m.backend.pooler_backward({.B = B, .T = 1, .C = C, .hidden = features, .w = m.p.pool_w, .pooled = m.fwd.pooled,
                               .dpooled = m.bwd.dpooled, .dhidden = nullptr, .dw = m.g.pool_w, .db = m.g.pool_b});
}

template <class Real>
void BertRegressor<Real>::pool(const Real* cls, int B, Real* pooled) {
  Impl& m = *impl_;
  const int C = m.config.hidden_size;
  m.backend.pooler_forward({.B = B, .T = 1, .C = C, .hidden = cls, .w = m.p.pool_w, .b = m.p.pool_b, .pooled = pooled});
}

template <class Real>
void BertRegressor<Real>::backward(float loss_scale) {
  Impl& m = *impl_;
  FT_CHECK(m.last.valid, "backward: no forward pass to differentiate (call forward first)");
  FT_CHECK(!m.last.features, "backward: the last forward was head_forward; call head_backward");
  FT_CHECK(m.last.has_targets, "backward: the last forward had no targets, so there is no loss");
  FT_CHECK(m.lowest_trainable >= 0, "backward: no parameter group is trainable");
  m.ensure_backward_capacity(m.last.B, m.last.T);
  m.run_backward(loss_scale);
}

template <class Real>
void BertRegressor<Real>::zero_grad() {
  Impl& m = *impl_;
  if (m.grads) m.backend.fill_zero(m.grads.get(), m.grads.bytes());
}

template <class Real>
double BertRegressor<Real>::grad_norm() {
  Impl& m = *impl_;
  if (!m.grads) return 0.0;
  return std::sqrt(m.backend.grad_norm_squared(m.grads.get(), m.grad_total));
}

template <class Real>
void BertRegressor<Real>::optimizer_step(const AdamWSettings& settings, float lr, float grad_scale) {
  Impl& m = *impl_;
  FT_CHECK(m.grad_total > 0, "optimizer step: no parameter group is trainable");
  ++m.optimizer_steps;
  AdamWBuffers<Real> b;
  if constexpr (Impl::kSeparateMaster) {
    b.master = m.master.get();
  } else {
    b.master = m.params.get();
  }
  b.params = m.params.get();
  b.grads = m.grads.get();
  b.m = m.adam_m.get();
  b.v = m.adam_v.get();
  run_adamw_step(m.backend, b, m.segments, settings, lr, grad_scale, m.optimizer_steps);
  m.last.valid = false;  // the saved activations belong to the old parameters
}

template <class Real>
OptimizerState BertRegressor<Real>::optimizer_state() const {
  const Impl& m = *impl_;
  OptimizerState s;
  s.step = m.optimizer_steps;
  std::vector<typename Impl::Master> host(static_cast<size_t>(m.grad_total));
  s.m.resize(host.size());
  s.v.resize(host.size());
  if (m.grad_total == 0) return s;
  m.backend.download(host.data(), m.adam_m.get(), host.size() * sizeof(host[0]));
  for (size_t i = 0; i < host.size(); ++i) s.m[i] = static_cast<double>(host[i]);
  m.backend.download(host.data(), m.adam_v.get(), host.size() * sizeof(host[0]));
  for (size_t i = 0; i < host.size(); ++i) s.v[i] = static_cast<double>(host[i]);
  return s;
}

template <class Real>
void BertRegressor<Real>::set_optimizer_state(const OptimizerState& state) {
  Impl& m = *impl_;
  const size_t n = static_cast<size_t>(m.grad_total);
  FT_CHECK(state.step >= 0, "optimizer state: negative step count ", state.step);
  FT_CHECK(state.m.size() == n && state.v.size() == n, "optimizer state: holds ", state.m.size(), " and ",
           state.v.size(), " moments, the trainable parameters need ", n,
           " (was it saved with other trainable groups?)");
  std::vector<typename Impl::Master> host(n);
  if (n > 0) {
    for (size_t i = 0; i < n; ++i) host[i] = static_cast<typename Impl::Master>(state.m[i]);
    m.backend.upload(m.adam_m.get(), host.data(), n * sizeof(host[0]));
    for (size_t i = 0; i < n; ++i) {
      FT_CHECK(state.v[i] >= 0.0, "optimizer state: second moment ", i, " is negative");
      host[i] = static_cast<typename Impl::Master>(state.v[i]);
    }
    m.backend.upload(m.adam_v.get(), host.data(), n * sizeof(host[0]));
  }
  m.optimizer_steps = state.step;
}

template <class Real>
size_t BertRegressor<Real>::peak_memory() const { return impl_->backend.peak_allocated(); }

template <class Real>
void BertRegressor<Real>::reserve(int train_batch, int train_length, int eval_batch, int eval_length) {
  Impl& m = *impl_;
  m.ensure_forward_capacity(train_batch, train_length);
  if (eval_batch > 0 && eval_length > 0) m.ensure_forward_capacity(eval_batch, eval_length);
  if (m.grads.get()) m.ensure_backward_capacity(train_batch, train_length);
}

template <class Real>
std::vector<float> BertRegressor<Real>::last_hidden_state() const {
  const Impl& m = *impl_;
  FT_CHECK(m.last.valid, "last_hidden_state: no forward pass since the parameters last changed");
  const int L = m.config.num_hidden_layers;
  const Real* src = L > 0 ? m.fwd.layers[L - 1].out : m.fwd.emb;
  std::vector<Real> host(static_cast<size_t>(m.last.B) * m.last.T * m.config.hidden_size);
  m.backend.download(host.data(), src, host.size() * sizeof(Real));
  std::vector<float> out(host.size());
  for (size_t i = 0; i < host.size(); ++i) out[i] = real_to_float(host[i]);
  return out;
}

template <class Real>
Real* BertRegressor<Real>::params_data() { return impl_->params.get(); }
template <class Real>
const Real* BertRegressor<Real>::grads_data() const { return impl_->grads.get(); }
template <class Real>
int64_t BertRegressor<Real>::grad_size() const { return impl_->grad_total; }
template <class Real>
int64_t BertRegressor<Real>::grad_offset(const std::string& name) const {
  const ParamSpec* spec = impl_->layout.find(name);
  FT_CHECK(spec, "grad_offset: no parameter named \"", name, "\"");
  return impl_->grad_offset_of(*spec);
}

template class BertRegressor<float>;
template class BertRegressor<double>;
template class BertRegressor<bf16>;

}  // namespace ft
