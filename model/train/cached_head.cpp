#include "model/train/cached_head.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/error.h"
#include "core/philox.h"
#include "model/adamw_step.h"

namespace ft {

namespace {

template <class T>
T from_float(float f) {
  if constexpr (std::is_same_v<T, bf16>) return bf16::from_float(f);
  else return static_cast<T>(f);
}

template <class T>
float to_float(T x) {
  if constexpr (std::is_same_v<T, bf16>) return x.to_float();
  else return static_cast<float>(x);
}

}  // namespace

template <class Real>
struct CachedHead<Real>::Impl {
  using Stat = stat_t<Real>;
  using Master = master_t<Real>;
  static constexpr bool kSeparateMaster = !std::is_same_v<Real, Master>;

  Backend<Real>& backend;
  BertConfig config;
  BertParamLayout layout;
  int C = 0;
  int pooler_group = 0, head_group = 0;
  bool pooler_trains = false;
  StateDict base;  // every parameter as loaded in the encoder (host, F32)

  // Trainable groups packed in layout order, each laid out like its slice of the parameter buffer:
  // the parameters here use the same offsets as the gradients (BertRegressor's gradient layout).
  std::vector<int64_t> local_offset;  // per layout group: offset here, -1 when not here
  int64_t total = 0;
  BackendBuffer<Real, Real> params, grads;    // (total)
  BackendBuffer<Master, Real> master, m, v;   // (total); master only under bf16
  std::vector<AdamWSegment> segments;
  int64_t steps = 0;
  BackendBuffer<Real, Real> frozen_pooler;    // (C*C + C) pooler weight and bias when frozen

  Real *pool_w = nullptr, *pool_b = nullptr, *head_w = nullptr, *head_b = nullptr;
  Real *g_pool_w = nullptr, *g_pool_b = nullptr, *g_head_w = nullptr, *g_head_b = nullptr;

  // Per set: the head's input (pooled, or [CLS] rows when the pooler trains), host, (n, C).
  std::vector<std::vector<Real>> features;

  // Batch buffers, grown on demand.
  int64_t capacity = 0;
  BackendBuffer<Real, Real> x, pooled, dpooled;  // (B, C)
  BackendBuffer<Stat, Real> targets_buf, pred, loss;  // (B), (B), (1)
  std::vector<std::vector<float>> targets;  // per set, (n)

  Impl(Backend<Real>& b, const BertConfig& c) : backend(b), config(c), layout(bert_param_layout(c)) {}

  int64_t offset_here(const ParamSpec& spec) const {
    for (size_t g = 0; g < layout.groups.size(); ++g)
      if (layout.groups[g].name == spec.group)
        return local_offset[g] < 0 ? -1 : local_offset[g] + (spec.offset - layout.groups[g].offset);
    return -1;
  }

  void ensure_capacity(int64_t B) {
    if (B <= capacity) return;
    x = BackendBuffer<Real, Real>(backend, B * C);
    pooled = BackendBuffer<Real, Real>(backend, B * C);
    dpooled = BackendBuffer<Real, Real>(backend, B * C);
    targets_buf = BackendBuffer<Stat, Real>(backend, B);
    pred = BackendBuffer<Stat, Real>(backend, B);
    loss = BackendBuffer<Stat, Real>(backend, 1);
    capacity = B;
  }

  // Uploads rows `indices` of set `s` into x; returns B.
  int gather(int s, const std::vector<int64_t>& indices) {
    const auto& f = features[static_cast<size_t>(s)];
    const int B = static_cast<int>(indices.size());
    ensure_capacity(B);
    std::vector<Real> host(static_cast<size_t>(B) * C);  // (B, C)
    for (int r = 0; r < B; ++r) {
      const size_t i = static_cast<size_t>(indices[static_cast<size_t>(r)]);
      FT_CHECK(i < f.size() / static_cast<size_t>(C), "cached features: index ", i, " outside the set");
      std::copy_n(f.begin() + static_cast<std::ptrdiff_t>(i * C), C, host.begin() + static_cast<std::ptrdiff_t>(r) * C);
    }
    backend.upload(x.get(), host.data(), host.size() * sizeof(Real));
    return B;
  }

  // The head's input for the gathered batch: the pooler's output when it trains, else x itself.
  const Real* head_input(int B) {
    if (!pooler_trains) return x.get();
    PoolerForwardArgs<Real> pool;
    pool.B = B; pool.T = 1; pool.C = C;
    pool.hidden = x.get(); pool.w = pool_w; pool.b = pool_b; pool.pooled = pooled.get();
    backend.pooler_forward(pool);
    return pooled.get();
  }

  void upload_tensor(const std::string& name, Real* working, Master* master_copy, const StateDict& params) {
    const Tensor* t = params.find(name);
    FT_CHECK(t && t->dtype() == DType::F32, "cached head: parameters lack F32 tensor ", name);
    const ParamSpec* spec = layout.find(name);
    FT_CHECK(t->numel() == spec->numel(), "cached head: tensor ", name, " has ", t->numel(), " elements, expected ",
             spec->numel());
    const float* src = t->data<float>();
    std::vector<Real> w(static_cast<size_t>(t->numel()));
    for (size_t i = 0; i < w.size(); ++i) w[i] = from_float<Real>(src[i]);
    backend.upload(working, w.data(), w.size() * sizeof(Real));
    if (master_copy) {
      std::vector<Master> mm(src, src + t->numel());
      backend.upload(master_copy, mm.data(), mm.size() * sizeof(Master));
    }
  }
};

template <class Real>
bool CachedHead<Real>::supports(const BertParamLayout& layout, const TrainableGroups& trainable) {
  const size_t G = layout.groups.size();
  if (trainable.size() != G || G < 2 || !trainable[G - 1]) return false;
  for (size_t g = 0; g + 2 < G; ++g)
    if (trainable[g]) return false;
  return true;
}

template <class Real>
CachedHead<Real>::CachedHead(Backend<Real>& backend, BertRegressor<Real>& encoder,
                             const std::vector<const EncodedSet*>& sets, int eval_batch_size, int32_t pad_id)
    : impl_(std::make_unique<Impl>(backend, encoder.config())) {
  Impl& d = *impl_;
  FT_CHECK(supports(d.layout, encoder.trainable()), "cached head: only the pooler and the head may train");
  const size_t G = d.layout.groups.size();
  d.C = d.config.hidden_size;
  d.pooler_group = static_cast<int>(G) - 2;
  d.head_group = static_cast<int>(G) - 1;
  d.pooler_trains = encoder.trainable()[static_cast<size_t>(d.pooler_group)];
  d.base = encoder.params_to_host();

  // Layout, segments: exactly BertRegressor's rule (decayed tensors, then the others, per group).
  d.local_offset.assign(G, -1);
  for (size_t g = 0; g < G; ++g) {
    if (!encoder.trainable()[g]) continue;
    const ParamGroup& group = d.layout.groups[g];
    d.local_offset[g] = d.total;
    const size_t first = d.segments.size();
    for (int si : group.specs) {
      const ParamSpec& spec = d.layout.specs[static_cast<size_t>(si)];
      const int64_t off = d.total + (spec.offset - group.offset);
      const float wd = spec.decay ? 1.0f : 0.0f;
      if (d.segments.size() > first && d.segments.back().weight_decay == wd) {
        d.segments.back().count = off - d.segments.back().grad_offset + spec.numel();
      } else {
        d.segments.push_back({off, off, spec.numel(), wd});
      }
    }
    d.total += group.size;
  }
  d.params = BackendBuffer<Real, Real>(backend, d.total);
  d.grads = BackendBuffer<Real, Real>(backend, d.total);
  d.m = BackendBuffer<typename Impl::Master, Real>(backend, d.total);
  d.v = BackendBuffer<typename Impl::Master, Real>(backend, d.total);
  if constexpr (Impl::kSeparateMaster) d.master = BackendBuffer<typename Impl::Master, Real>(backend, d.total);

  const auto at = [&](const char* name, Real* base) -> Real* {
    const int64_t off = d.offset_here(*d.layout.find(name));
    return off < 0 ? nullptr : base + off;
  };
  d.head_w = at("classifier.weight", d.params.get());
  d.head_b = at("classifier.bias", d.params.get());
  d.g_head_w = at("classifier.weight", d.grads.get());
  d.g_head_b = at("classifier.bias", d.grads.get());
  if (d.pooler_trains) {
    d.pool_w = at("bert.pooler.dense.weight", d.params.get());
    d.pool_b = at("bert.pooler.dense.bias", d.params.get());
    d.g_pool_w = at("bert.pooler.dense.weight", d.grads.get());
    d.g_pool_b = at("bert.pooler.dense.bias", d.grads.get());
  } else {
    d.frozen_pooler = BackendBuffer<Real, Real>(backend, static_cast<int64_t>(d.C) * d.C + d.C);
    d.pool_w = d.frozen_pooler.get();
    d.pool_b = d.frozen_pooler.get() + static_cast<int64_t>(d.C) * d.C;
  }
  load_params(d.base);
  if (!d.pooler_trains) {
    d.upload_tensor("bert.pooler.dense.weight", d.pool_w, nullptr, d.base);
    d.upload_tensor("bert.pooler.dense.bias", d.pool_b, nullptr, d.base);
  }

  // Features: [CLS] rows of the final encoder layer, then (pooler frozen) the pooled vectors.
  const DropoutRates none{0.0f, 0.0f, 0.0f};
  const int C = d.C;
  for (const EncodedSet* set : sets) {
    std::vector<Real> feats(static_cast<size_t>(set->size()) * C);  // (n, C)
    for (const auto& indices : evaluation_batches(*set, eval_batch_size)) {
      ModelBatch batch = make_batch(*set, indices, pad_id);
      batch.targets.clear();
      encoder.forward(batch, /*training=*/false, none, 0, 0);
      const std::vector<float> hidden = encoder.last_hidden_state();  // (B, T, C)
      for (size_t r = 0; r < indices.size(); ++r) {
        const float* cls = hidden.data() + r * static_cast<size_t>(batch.T) * C;  // row t = 0
        Real* dst = feats.data() + static_cast<size_t>(indices[r]) * C;
        for (int c = 0; c < C; ++c) dst[c] = from_float<Real>(cls[c]);  // exact: the values are Real's
      }
    }
    if (!d.pooler_trains) {
      // pooled = tanh(cls Wp^T + bp), in batches of eval_batch_size rows.
      std::vector<Real> pooled_host(feats.size());
      for (int64_t b0 = 0; b0 < set->size(); b0 += eval_batch_size) {
        const int B = static_cast<int>(std::min<int64_t>(eval_batch_size, set->size() - b0));
        d.ensure_capacity(B);
        backend.upload(d.x.get(), feats.data() + b0 * C, static_cast<size_t>(B) * C * sizeof(Real));
        PoolerForwardArgs<Real> pool;
        pool.B = B; pool.T = 1; pool.C = C;
        pool.hidden = d.x.get(); pool.w = d.pool_w; pool.b = d.pool_b; pool.pooled = d.pooled.get();
        backend.pooler_forward(pool);
        backend.download(pooled_host.data() + b0 * C, d.pooled.get(), static_cast<size_t>(B) * C * sizeof(Real));
      }
      feats.swap(pooled_host);
    }
    d.features.push_back(std::move(feats));
    d.targets.push_back(set->targets);
  }
}

template <class Real>
CachedHead<Real>::~CachedHead() = default;

template <class Real>
double CachedHead<Real>::train_micro(int set_index, const std::vector<int64_t>& indices, float classifier_p,
                                     uint64_t seed, uint32_t step, float loss_scale) {
  Impl& d = *impl_;
  using Stat = typename Impl::Stat;
  const int B = d.gather(set_index, indices);
  const auto& targets = d.targets[static_cast<size_t>(set_index)];
  std::vector<Stat> t(static_cast<size_t>(B));  // (B)
  for (int r = 0; r < B; ++r) {
    t[static_cast<size_t>(r)] = static_cast<Stat>(targets[static_cast<size_t>(indices[static_cast<size_t>(r)])]);
    FT_CHECK(std::isfinite(t[static_cast<size_t>(r)]), "cached head: training example without a target");
  }
  d.backend.upload(d.targets_buf.get(), t.data(), t.size() * sizeof(Stat));
  const Real* input = d.head_input(B);

  DropoutSpec drop;
  drop.p = classifier_p;
  drop.seed = seed;
  drop.stream = dropout_stream(0, DropoutSite::Classifier);
  drop.step = step;

  RegressionHeadForwardArgs<Real> head;
  head.B = B; head.C = d.C;
  head.pooled = input; head.w = d.head_w; head.b = d.head_b;
  head.dropout = drop;
  head.targets = d.targets_buf.get();
  head.pred = d.pred.get();
  head.loss = d.loss.get();
  d.backend.regression_head_forward(head);
  Stat loss = 0;
  d.backend.download(&loss, d.loss.get(), sizeof(loss));

  RegressionHeadBackwardArgs<Real> back;
  back.B = B; back.C = d.C;
  back.pooled = input; back.w = d.head_w;
  back.dropout = drop;
  back.targets = d.targets_buf.get(); back.pred = d.pred.get();
  back.loss_scale = loss_scale;
  back.dpooled = d.pooler_trains ? d.dpooled.get() : nullptr;
  back.dw = d.g_head_w; back.db = d.g_head_b;
  d.backend.regression_head_backward(back);
  if (d.pooler_trains) {
    PoolerBackwardArgs<Real> pool;
    pool.B = B; pool.T = 1; pool.C = d.C;
    pool.hidden = d.x.get(); pool.w = d.pool_w; pool.pooled = d.pooled.get(); pool.dpooled = d.dpooled.get();
    pool.dhidden = nullptr;
    pool.dw = d.g_pool_w; pool.db = d.g_pool_b;
    d.backend.pooler_backward(pool);
  }
  return static_cast<double>(loss);
}

template <class Real>
void CachedHead<Real>::zero_grad() {
  impl_->backend.fill_zero(impl_->grads.get(), impl_->grads.bytes());
}

template <class Real>
double CachedHead<Real>::grad_norm() {
  return std::sqrt(impl_->backend.grad_norm_squared(impl_->grads.get(), impl_->total));
}

template <class Real>
void CachedHead<Real>::optimizer_step(const AdamWSettings& settings, float lr, float grad_scale) {
  Impl& d = *impl_;
  ++d.steps;
  AdamWBuffers<Real> b;
  if constexpr (Impl::kSeparateMaster) {
    b.master = d.master.get();
  } else {
    b.master = d.params.get();
  }
  b.params = d.params.get();
  b.grads = d.grads.get();
  b.m = d.m.get();
  b.v = d.v.get();
  run_adamw_step(d.backend, b, d.segments, settings, lr, grad_scale, d.steps);
}

template <class Real>
std::vector<double> CachedHead<Real>::predict(int set_index, int batch_size) {
  Impl& d = *impl_;
  using Stat = typename Impl::Stat;
  const int64_t n = static_cast<int64_t>(d.features[static_cast<size_t>(set_index)].size()) / d.C;
  std::vector<double> out(static_cast<size_t>(n));
  std::vector<int64_t> indices;
  std::vector<Stat> pred;
  for (int64_t b0 = 0; b0 < n; b0 += batch_size) {
    indices.clear();
    for (int64_t i = b0; i < std::min<int64_t>(n, b0 + batch_size); ++i) indices.push_back(i);
    const int B = d.gather(set_index, indices);
    RegressionHeadForwardArgs<Real> head;
    head.B = B; head.C = d.C;
    head.pooled = d.head_input(B); head.w = d.head_w; head.b = d.head_b;
    head.pred = d.pred.get();
    d.backend.regression_head_forward(head);
    pred.resize(static_cast<size_t>(B));
    d.backend.download(pred.data(), d.pred.get(), pred.size() * sizeof(Stat));
    for (int r = 0; r < B; ++r) out[static_cast<size_t>(b0 + r)] = static_cast<double>(pred[static_cast<size_t>(r)]);
  }
  return out;
}

template <class Real>
StateDict CachedHead<Real>::params_to_host() const {
  const Impl& d = *impl_;
  using Master = typename Impl::Master;
  StateDict out;
  for (const auto& [name, tensor] : d.base.tensors) {
    const ParamSpec* spec = d.layout.find(name);
    const int64_t off = spec ? d.offset_here(*spec) : -1;
    if (off < 0) {
      out.tensors.emplace_back(name, tensor.clone());
      continue;
    }
    Tensor t = Tensor::zeros(DType::F32, spec->shape);
    float* dst = t.data<float>();
    if constexpr (Impl::kSeparateMaster) {
      std::vector<Master> host(static_cast<size_t>(spec->numel()));
      d.backend.download(host.data(), d.master.get() + off, host.size() * sizeof(Master));
      for (size_t i = 0; i < host.size(); ++i) dst[i] = static_cast<float>(host[i]);
    } else {
      std::vector<Real> host(static_cast<size_t>(spec->numel()));
      d.backend.download(host.data(), d.params.get() + off, host.size() * sizeof(Real));
      for (size_t i = 0; i < host.size(); ++i) dst[i] = to_float(host[i]);
    }
    out.tensors.emplace_back(name, std::move(t));
  }
  return out;
}

template <class Real>
void CachedHead<Real>::load_params(const StateDict& params) {
  Impl& d = *impl_;
  for (const ParamSpec& spec : d.layout.specs) {
    const int64_t off = d.offset_here(spec);
    if (off < 0) continue;
    typename Impl::Master* master = nullptr;
    if constexpr (Impl::kSeparateMaster) master = d.master.get() + off;
    d.upload_tensor(spec.name, d.params.get() + off, master, params);
  }
  d.backend.synchronize();
}

template <class Real>
OptimizerState CachedHead<Real>::optimizer_state() const {
  const Impl& d = *impl_;
  OptimizerState s;
  s.step = d.steps;
  std::vector<typename Impl::Master> host(static_cast<size_t>(d.total));
  d.backend.download(host.data(), d.m.get(), host.size() * sizeof(host[0]));
  s.m.assign(host.begin(), host.end());
  d.backend.download(host.data(), d.v.get(), host.size() * sizeof(host[0]));
  s.v.assign(host.begin(), host.end());
  return s;
}

template <class Real>
void CachedHead<Real>::set_optimizer_state(const OptimizerState& state) {
  Impl& d = *impl_;
  const size_t n = static_cast<size_t>(d.total);
  FT_CHECK(state.m.size() == n && state.v.size() == n, "optimizer state: holds ", state.m.size(),
           " moments, the trainable pooler/head need ", n, " (was it saved with other trainable groups?)");
  std::vector<typename Impl::Master> host(state.m.begin(), state.m.end());
  d.backend.upload(d.m.get(), host.data(), n * sizeof(host[0]));
  host.assign(state.v.begin(), state.v.end());
  d.backend.upload(d.v.get(), host.data(), n * sizeof(host[0]));
  d.steps = state.step;
}

template class CachedHead<float>;
template class CachedHead<double>;
template class CachedHead<bf16>;

}  // namespace ft
