// regression head and MSE loss: pred = dropout(pooled) w + b, loss = mean_b (pred - y)^2 (HF's
// classifier Linear(C, 1) with MSELoss). B x C is a few thousand multiply-adds, so each direction
// is one small kernel; sums are in fp64 and in a fixed order, like the CPU backend's.
//
// Forward: one block; warp w takes rows b = w, w + 8, ...; each dot product is a warp reduction;
//   then one thread adds the squared errors in row order.
// Backward: one thread per column c walks the B rows in order: dpooled[b, c] = dropout(dpred_b w_c),
//   dw[c] += sum_b dpred_b dropout(pooled[b, c]); thread 0 also does db += sum_b dpred_b, with
//   dpred_b = (2 / B) (pred_b - y_b) loss_scale (torch's mse_loss_backward order).
#include "core/error.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace ft::cuda {

namespace {

constexpr int kHeadWarps = 8;

template <class T>
__global__ void __launch_bounds__(kHeadWarps * 32)
    head_forward_kernel(const T* pooled, const T* w, const T* bias, int B, int C, const DropoutSpec d, float scale,
                        const float* targets, float* pred, float* loss) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const bool drop = d.p > 0.0f;
  for (int b = warp; b < B; b += kHeadWarps) {
    double acc = 0.0;
    for (int c = lane; c < C; c += 32) {
      const int64_t idx = static_cast<int64_t>(b) * C + c;
      float x = to_float(pooled[idx]);
      if (drop) {
        bool keep[1];
        dropout_bits<1>(d, static_cast<uint64_t>(idx), keep);
        x = keep[0] ? x * scale : 0.0f;
      }
      acc += static_cast<double>(x) * static_cast<double>(to_float(w[c]));
    }
    acc = warp_sum(acc);
    if (lane == 0) pred[b] = static_cast<float>(acc) + to_float(bias[0]);
  }
  if (!targets || !loss) return;  // uniform over the block
  __syncthreads();                // every pred[b] written (global writes are visible within the block)
  if (threadIdx.x != 0) return;
  double sq = 0.0;
  for (int b = 0; b < B; ++b) {
    const double diff = static_cast<double>(pred[b]) - static_cast<double>(targets[b]);
    sq += diff * diff;
  }
  *loss = static_cast<float>(sq / B);
}

template <class T>
__global__ void head_backward_kernel(const T* pooled, const T* w, int B, int C, const DropoutSpec d, float scale,
                                     const float* targets, const float* pred, float norm, float loss_scale, T* dpooled,
                                     T* dw, T* db) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (db && c == 0) {
    double s = 0.0;
    for (int b = 0; b < B; ++b) s += static_cast<double>(norm * (pred[b] - targets[b]) * loss_scale);
    db[0] = from_float<T>(to_float(db[0]) + static_cast<float>(s));
  }
  if (c >= C) return;
  const bool drop = d.p > 0.0f;
  const float wc = to_float(w[c]);
  double acc = 0.0;
  for (int b = 0; b < B; ++b) {
    const float g = norm * (pred[b] - targets[b]) * loss_scale;  // dL/dpred_b
    const int64_t idx = static_cast<int64_t>(b) * C + c;
    bool keep[1] = {true};
    if (drop) dropout_bits<1>(d, static_cast<uint64_t>(idx), keep);
    if (dw) {
      const float x = keep[0] ? (drop ? to_float(pooled[idx]) * scale : to_float(pooled[idx])) : 0.0f;
      acc += static_cast<double>(g) * static_cast<double>(x);
    }
    if (dpooled) {
      const float gw = g * wc;
      dpooled[idx] = from_float<T>(keep[0] ? (drop ? gw * scale : gw) : 0.0f);
    }
  }
  if (dw) dw[c] = from_float<T>(to_float(dw[c]) + static_cast<float>(acc));
}

}  // namespace

template <class Real>
void regression_head_forward(const RegressionHeadForwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.B == 0) return;
  DropoutSpec d = a.dropout;
  if (!d.active()) d.p = 0.0f;
  FT_LAUNCH(1, kHeadWarps * 32, 0, ctx.stream, head_forward_kernel<T>)(
      dev(a.pooled), dev(a.w), dev(a.b), a.B, a.C, d, dropout_scale(d), a.targets, a.pred, a.loss);
  FT_CUDA_CHECK_LAUNCH();
}

template <class Real>
void regression_head_backward(const RegressionHeadBackwardArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  if (a.B == 0 || (!a.dpooled && !a.dw && !a.db)) return;
  FT_CHECK(a.targets && a.pred, "regression_head_backward: needs the targets and the forward's predictions");
  DropoutSpec d = a.dropout;
  if (!d.active()) d.p = 0.0f;
  const float norm = static_cast<float>(2.0 / a.B);
  const unsigned blocks = static_cast<unsigned>(ceil_div(a.C > 0 ? a.C : 1, 256));
  FT_LAUNCH(blocks, 256, 0, ctx.stream, head_backward_kernel<T>)(
      dev(a.pooled), dev(a.w), a.B, a.C, d, dropout_scale(d), a.targets, a.pred, norm, a.loss_scale, dev(a.dpooled),
      dev(a.dw), dev(a.db));
  FT_CUDA_CHECK_LAUNCH();
}

template void regression_head_forward<float>(const RegressionHeadForwardArgs<float>&, const Context&);
template void regression_head_forward<bf16>(const RegressionHeadForwardArgs<bf16>&, const Context&);
template void regression_head_backward<float>(const RegressionHeadBackwardArgs<float>&, const Context&);
template void regression_head_backward<bf16>(const RegressionHeadBackwardArgs<bf16>&, const Context&);

}  // namespace ft::cuda
