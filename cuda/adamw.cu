// AdamW over the contiguous parameter buffer, exactly torch.optim.AdamW (single-tensor path), as
// the CPU backend does it (core/cpu/adamw.cpp), operation by operation:
//   g = grad * grad_scale (the clipping coefficient); param *= 1 - lr * wd;
//   m = fma(1 - beta1, g - m, m); v = fma((1 - beta2) * g, g, v * beta2);
//   param += ((-lr / (1 - beta1^t)) * m) / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// with the step scalars formed on the host in double and rounded once to fp32. Every device
// operation is an explicitly rounded intrinsic (__fmul_rn, __fadd_rn, __fdiv_rn, __fsqrt_rn, fmaf)
// so that nvcc cannot contract a multiply-add the CPU code does not: fp32 results match the CPU
// backend bit for bit.
//
// One launch per 32 segments: the segment table goes by value in the kernel parameters, each segment
// gets its own run of blocks (a block finds its segment by a scan of at most 32 entries). Master
// weights and moments are fp32; the bf16 working copy is written from the updated master.
//
// Also master_to_working (working = Real(master)).
#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.h"
#include "cuda/common.cuh"
#include "cuda/ops.h"

namespace ft::cuda {

namespace {

constexpr int kAdamThreads = 256;
constexpr int kAdamItems = 4;                         // elements per thread
constexpr int kAdamBlockElems = kAdamThreads * kAdamItems;    // elements per block
constexpr int kMaxSegments = 32;                  // per launch

struct SegmentTable {
  int count = 0;
  int64_t block_start[kMaxSegments + 1] = {};  // first block of each segment; [count] = total blocks
  int64_t param_offset[kMaxSegments] = {};
  int64_t grad_offset[kMaxSegments] = {};
  int64_t n[kMaxSegments] = {};
  float decay[kMaxSegments] = {};  // 1 - lr * wd, rounded to fp32
  int apply_decay[kMaxSegments] = {};
};

struct StepScalars {
  float neg_step_size, bias_c2_sqrt, w1, b2, w2, eps, grad_scale;
  int scale_grads, write_working;
};

template <class T>
__global__ void __launch_bounds__(kAdamThreads)
    adamw_kernel(const SegmentTable table, const StepScalars s, float* master, T* params, const T* grads, float* m,
                 float* v) {
  const int64_t blk = blockIdx.x;
  int seg = 0;
  while (seg + 1 < table.count && blk >= table.block_start[seg + 1]) ++seg;
  const int64_t base = (blk - table.block_start[seg]) * kAdamBlockElems;
  float* p = master + table.param_offset[seg];
  T* work = params + table.param_offset[seg];
  const T* grad = grads + table.grad_offset[seg];
  float* mm = m + table.grad_offset[seg];
  float* vv = v + table.grad_offset[seg];
  const int64_t n = table.n[seg];
FT_UNROLL
  for (int k = 0; k < kAdamItems; ++k) {
    const int64_t i = base + k * kAdamThreads + threadIdx.x;
    if (i >= n) break;
    float g = to_float(grad[i]);
    if (s.scale_grads) g = __fmul_rn(g, s.grad_scale);
    float param = p[i];
    if (table.apply_decay[seg]) param = __fmul_rn(param, table.decay[seg]);
    const float mo = mm[i];
    const float mi = fmaf(s.w1, __fsub_rn(g, mo), mo);
    const float vi = fmaf(__fmul_rn(s.w2, g), g, __fmul_rn(vv[i], s.b2));
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), s.bias_c2_sqrt), s.eps);
    param = __fadd_rn(param, __fdiv_rn(__fmul_rn(s.neg_step_size, mi), denom));
    mm[i] = mi;
    vv[i] = vi;
    p[i] = param;
    if (s.write_working) work[i] = from_float<T>(param);
  }
}

template <class T>
__global__ void to_working_kernel(const float* master, T* working, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    working[i] = from_float<T>(master[i]);
}

// The shortest decimal that rounds to f, read back as a double: HF passes Python doubles (0.9, not
// 0.9f), and this recovers them (the CPU backend's rule, core/cpu/adamw.cpp).
double decimal_value(float f) {
  char buf[64];
  const auto written = std::to_chars(buf, buf + sizeof(buf), f);
  double d = static_cast<double>(f);
  std::from_chars(buf, written.ptr, d);
  return d;
}

}  // namespace

template <class Real>
void adamw_step(const AdamWArgs<Real>& a, const Context& ctx) {
  using T = device_t<Real>;
  FT_CHECK(a.step >= 1, "adamw_step: step ", a.step, " must be >= 1 (1-based count after this update)");
  FT_CHECK(a.num_segments == 0 || a.segments, "adamw_step: ", a.num_segments, " segments but no segment table");
  const double lr = decimal_value(a.lr), beta1 = decimal_value(a.beta1), beta2 = decimal_value(a.beta2);
  const double step = static_cast<double>(a.step);
  const double bias_c1 = 1.0 - std::pow(beta1, step);
  const double bias_c2 = 1.0 - std::pow(beta2, step);
  StepScalars s;
  s.neg_step_size = static_cast<float>(-(lr / bias_c1));
  s.bias_c2_sqrt = static_cast<float>(std::pow(bias_c2, 0.5));
  s.w1 = static_cast<float>(1.0 - beta1);
  s.b2 = static_cast<float>(beta2);
  s.w2 = static_cast<float>(1.0 - beta2);
  s.eps = static_cast<float>(decimal_value(a.eps));
  s.grad_scale = a.grad_scale;
  s.scale_grads = a.grad_scale != 1.0f;
  s.write_working = static_cast<const void*>(a.params) != static_cast<const void*>(a.master);

  for (int first = 0; first < a.num_segments; first += kMaxSegments) {
    SegmentTable table;
    int64_t blocks = 0;
    for (int j = first; j < a.num_segments && table.count < kMaxSegments; ++j) {
      const AdamWSegment& seg = a.segments[j];
      FT_CHECK(seg.count >= 0, "adamw_step: segment ", j, " has a negative count ", seg.count);
      if (seg.count == 0) continue;
      const int t = table.count++;
      table.block_start[t] = blocks;
      table.param_offset[t] = seg.param_offset;
      table.grad_offset[t] = seg.grad_offset;
      table.n[t] = seg.count;
      const double wd = decimal_value(seg.weight_decay);
      table.decay[t] = static_cast<float>(1.0 - lr * wd);
      table.apply_decay[t] = wd != 0.0;
      blocks += ceil_div(seg.count, kAdamBlockElems);
    }
    if (table.count == 0) continue;
    table.block_start[table.count] = blocks;
    FT_CHECK(blocks <= 0x7fffffff, "adamw_step: too many parameters for one launch");
    FT_LAUNCH(static_cast<unsigned>(blocks), kAdamThreads, 0, ctx.stream, adamw_kernel<T>)(
        table, s, a.master, dev(a.params), dev(a.grads), a.m, a.v);
    FT_CUDA_CHECK_LAUNCH();
  }
}

template <class Real>
void master_to_working(const master_t<Real>* master, Real* working, int64_t n, const Context& ctx) {
  using T = device_t<Real>;
  if (n == 0 || static_cast<const void*>(master) == static_cast<const void*>(working)) return;
  if constexpr (std::is_same_v<Real, float>) {
    FT_CUDA_CHECK(cudaMemcpyAsync(working, master, static_cast<size_t>(n) * sizeof(float), cudaMemcpyDeviceToDevice,
                                  ctx.stream));
  } else {
    FT_LAUNCH(grid_for(n, 256, ctx.sm_count), 256, 0, ctx.stream, to_working_kernel<T>)(master, dev(working), n);
    FT_CUDA_CHECK_LAUNCH();
  }
}

template void adamw_step<float>(const AdamWArgs<float>&, const Context&);
template void adamw_step<bf16>(const AdamWArgs<bf16>&, const Context&);
template void master_to_working<float>(const float*, float*, int64_t, const Context&);
template void master_to_working<bf16>(const float*, bf16*, int64_t, const Context&);

}  // namespace ft::cuda
