// GELU, exact (torch.nn.GELU(approximate='none'), HF's "gelu"): y = x * 0.5 * (1 + erf(x / sqrt(2))).
// dy/dx = Phi(x) + x * phi(x), Phi(x) = 0.5 * (1 + erf(x / sqrt(2))), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
// float runs the vectorised erf/exp of vector_math.h (as torch runs its own vectorised erf); double
// runs libm (gradient checks).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/cpu/ops.h"
#include "core/cpu/parallel.h"
#include "core/cpu/vector_math.h"

namespace ft::cpu {

namespace {

constexpr double kSqrtHalf = 0.70710678118654752440;    // 1 / sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1 / sqrt(2 pi)
constexpr int64_t kBlock = 16384;                       // elements per task

FT_CPU_VECTOR_CLONES void gelu_forward_f32(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = v * 0.5f * (1.0f + erf_f32(v * static_cast<float>(kSqrtHalf)));
  }
}

FT_CPU_VECTOR_CLONES void gelu_backward_f32(const float* x, const float* dy, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + erf_f32(v * static_cast<float>(kSqrtHalf)));
    const float pdf = static_cast<float>(kInvSqrt2Pi) * exp_f32(-0.5f * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

void gelu_forward_block(const double* x, double* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * 0.5 * (1.0 + std::erf(x[i] * kSqrtHalf));
}

void gelu_backward_block(const double* x, const double* dy, double* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    const double cdf = 0.5 * (1.0 + std::erf(v * kSqrtHalf));
    const double pdf = kInvSqrt2Pi * std::exp(-0.5 * v * v);
    dx[i] = dy[i] * (cdf + v * pdf);
  }
}

void gelu_forward_block(const float* x, float* y, int64_t n) { gelu_forward_f32(x, y, n); }
void gelu_backward_block(const float* x, const float* dy, float* dx, int64_t n) { gelu_backward_f32(x, dy, dx, n); }

}  // namespace

template <class Real>
void gelu_forward(const GeluForwardArgs<Real>& a) {
  const int64_t blocks = ceil_div(a.n, kBlock);
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t k = 0; k < blocks; ++k) {
    const int64_t i0 = k * kBlock;
    gelu_forward_block(a.x + i0, a.y + i0, std::min(kBlock, a.n - i0));
  }
}

template <class Real>
void gelu_backward(const GeluBackwardArgs<Real>& a) {
  const int64_t blocks = ceil_div(a.n, kBlock);
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t k = 0; k < blocks; ++k) {
    const int64_t i0 = k * kBlock;
    gelu_backward_block(a.x + i0, a.dy + i0, a.dx + i0, std::min(kBlock, a.n - i0));
  }
}

template void gelu_forward<float>(const GeluForwardArgs<float>&);
template void gelu_forward<double>(const GeluForwardArgs<double>&);
template void gelu_backward<float>(const GeluBackwardArgs<float>&);
template void gelu_backward<double>(const GeluBackwardArgs<double>&);

}  // namespace ft::cpu
