#include "model/train/cached_head.h"

#include <algorithm>
#include <type_traits>

#include "core/error.h"

namespace ft {

namespace {

template <class T>
T from_float(float f) {
  if constexpr (std::is_same_v<T, bf16>) return bf16::from_float(f);
  else return static_cast<T>(f);
}

}  // namespace

template <class Real>
struct CachedHead<Real>::Impl {
  Backend<Real>& backend;
  BertRegressor<Real>& model;
  int C = 0;
  // Per set: the head's input (pooled vectors, or [CLS] rows when the pooler trains), host, (n, C).
  std::vector<std::vector<Real>> features;
  std::vector<std::vector<float>> targets;  // per set, (n)
  int64_t capacity = 0;
  BackendBuffer<Real, Real> x, pooled;  // (B, C) the gathered batch; the pooled vectors while caching

  Impl(Backend<Real>& b, BertRegressor<Real>& m) : backend(b), model(m), C(m.config().hidden_size) {}

  void ensure_capacity(int64_t B) {
    if (B <= capacity) return;
    x = BackendBuffer<Real, Real>(backend, B * C);
    pooled = BackendBuffer<Real, Real>(backend, B * C);
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
CachedHead<Real>::CachedHead(Backend<Real>& backend, BertRegressor<Real>& model,
                             const std::vector<const EncodedSet*>& sets, int eval_batch_size, int32_t pad_id)
    : impl_(std::make_unique<Impl>(backend, model)) {
  Impl& d = *impl_;
  FT_CHECK(supports(model.layout(), model.trainable()), "cached head: only the pooler and the head may train");
  const bool pooler_trains = model.trainable()[model.layout().groups.size() - 2];
  const DropoutRates none{0.0f, 0.0f, 0.0f};
  const int C = d.C;
  for (const EncodedSet* set : sets) {
    // [CLS] rows of the final encoder layer, in evaluation batches.
    std::vector<Real> feats(static_cast<size_t>(set->size()) * C);  // (n, C)
    for (const auto& indices : evaluation_batches(*set, eval_batch_size)) {
      ModelBatch batch = make_batch(*set, indices, pad_id);
      batch.targets.clear();
      model.forward(batch, /*training=*/false, none, 0, 0);
      const std::vector<float> hidden = model.last_hidden_state();  // (B, T, C)
      for (size_t r = 0; r < indices.size(); ++r) {
        const float* cls = hidden.data() + r * static_cast<size_t>(batch.T) * C;  // row t = 0
        Real* dst = feats.data() + static_cast<size_t>(indices[r]) * C;
        for (int c = 0; c < C; ++c) dst[c] = from_float<Real>(cls[c]);  // exact: the values are Real's
      }
    }
    if (!pooler_trains) {
      // The pooler is frozen: cache pooled = tanh(cls Wp^T + bp), in batches of eval_batch_size rows.
      std::vector<Real> pooled_host(feats.size());
      for (int64_t b0 = 0; b0 < set->size(); b0 += eval_batch_size) {
        const int B = static_cast<int>(std::min<int64_t>(eval_batch_size, set->size() - b0));
        d.ensure_capacity(B);
        backend.upload(d.x.get(), feats.data() + b0 * C, static_cast<size_t>(B) * C * sizeof(Real));
        model.pool(d.x.get(), B, d.pooled.get());
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
  const int B = d.gather(set_index, indices);
  const auto& all = d.targets[static_cast<size_t>(set_index)];
  std::vector<float> targets(static_cast<size_t>(B));
  for (int r = 0; r < B; ++r) targets[static_cast<size_t>(r)] = all[static_cast<size_t>(indices[static_cast<size_t>(r)])];
  const auto out = d.model.head_forward(d.x.get(), B, targets, /*training=*/true, classifier_p, seed, step);
  d.model.head_backward(loss_scale);
  return out.loss;
}

template <class Real>
std::vector<double> CachedHead<Real>::predict(int set_index, int batch_size) {
  Impl& d = *impl_;
  const int64_t n = static_cast<int64_t>(d.features[static_cast<size_t>(set_index)].size()) / d.C;
  std::vector<double> out(static_cast<size_t>(n));
  std::vector<int64_t> indices;
  for (int64_t b0 = 0; b0 < n; b0 += batch_size) {
    indices.clear();
    for (int64_t i = b0; i < std::min<int64_t>(n, b0 + batch_size); ++i) indices.push_back(i);
    const int B = d.gather(set_index, indices);
    const auto pred = d.model.head_forward(d.x.get(), B, {}, /*training=*/false, 0.0f, 0, 0).pred;
    for (int r = 0; r < B; ++r) out[static_cast<size_t>(b0 + r)] = static_cast<double>(pred[static_cast<size_t>(r)]);
  }
  return out;
}

template class CachedHead<float>;
template class CachedHead<double>;
template class CachedHead<bf16>;

}  // namespace ft
