// One AdamW update over a flat parameter buffer split into segments, shared by the full model
// (BertRegressor) and the restricted-run head (CachedHead) so both apply exactly the same rule.
#pragma once

#include <cstdint>
#include <vector>

#include "core/backend.h"
#include "core/ops.h"
#include "model/bert_regressor.h"

namespace ft {

template <class Real>
struct AdamWBuffers {
  master_t<Real>* master = nullptr;  // equals params when the working copy is the master copy
  Real* params = nullptr;
  const Real* grads = nullptr;
  master_t<Real>* m = nullptr;
  master_t<Real>* v = nullptr;
};

// `segments` carry the layout's decay flags (weight_decay > 0 marks a decayed segment); the
// settings' weight decay replaces that marker. `step` is the 1-based count after this update.
template <class Real>
void run_adamw_step(Backend<Real>& backend, const AdamWBuffers<Real>& buffers,
                    std::vector<AdamWSegment> segments, const AdamWSettings& settings, float lr,
                    float grad_scale, int64_t step) {
  for (AdamWSegment& s : segments) s.weight_decay = s.weight_decay > 0.0f ? settings.weight_decay : 0.0f;
  AdamWArgs<Real> a;
  a.master = buffers.master;
  a.params = buffers.params;
  a.grads = buffers.grads;
  a.m = buffers.m;
  a.v = buffers.v;
  a.segments = segments.data();
  a.num_segments = static_cast<int>(segments.size());
  a.lr = lr;
  a.beta1 = settings.beta1;
  a.beta2 = settings.beta2;
  a.eps = settings.eps;
  a.step = step;
  a.grad_scale = grad_scale;
  backend.adamw_step(a);
}

}  // namespace ft
