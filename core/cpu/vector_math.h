// Vectorisable float exp and erf for the CPU ops' hot loops (softmax, GELU), and the attribute that
// compiles a loop for AVX-512, AVX2 and baseline x86-64, picked at load time.
//
// libm's expf/erff are calls the compiler cannot vectorise, which made GELU ~6x slower than
// torch's vectorised kernel. These are branch-free (selects, no calls), so a loop over them
// vectorises. Accuracy, float:
//  - exp_f32: Cephes expf (Cody-Waite reduction by ln 2, degree-6 polynomial): ~1 ulp relative,
//    flushes to 0 below exp(-87.3) (the smallest normal float) and to +inf above exp(88.7).
//  - erf_f32: two polynomial fits (coefficients in docs/ops.md's derivation, made with numpy by
//    least squares on Chebyshev nodes): x * P(x^2) below 0.921875, about 2.5 ulp relative (float
//    Horner rounding), and 1 - exp(Q(|x|)) above, about 1 ulp; so |error| <= 1.5e-7 absolute,
//    the accuracy of torch's own vectorised erf (Abramowitz-Stegun 7.1.26, 1.5e-7), which is what
//    HF's GELU computes with on the CPU. tests/cpu_vector_math checks both bounds.
// The double ops keep libm (std::exp, std::erf): they serve the gradient checks, not speed.
#pragma once

#include <bit>
#include <cstdint>

// Compiles a function three times (AVX-512, AVX2+FMA, baseline) and dispatches once at load time.
// The AVX2 and AVX-512 variants may fuse multiply-adds, so float results can differ in the last
// bit between machines with and without FMA; on one machine they are always the same.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define FT_CPU_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FT_CPU_VECTOR_CLONES
#endif

namespace ft::cpu {

inline float exp_f32(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;  // ln 2 = hi + lo, hi exact in 9 bits
  constexpr float kRound = 12582912.0f;                               // 1.5 * 2^23: adding it rounds to integer
  const float xc = x < -87.3365448f ? -87.3365448f : (x > 88.7228394f ? 88.7228394f : x);
  const float n = (xc * kLog2e + kRound) - kRound;  // nearest integer to x / ln 2
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;   // |r| <= ln2 / 2
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r2 + r + 1.0f;                                     // exp(r)
  const float scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);  // 2^n, n in [-126, 128)
  const float y = e * scale;
  return x < -87.3365448f ? 0.0f : (x > 88.7228394f ? __builtin_inff() : y);
}

inline float erf_f32(float x) {
  const float ax = x < 0.0f ? -x : x;
  // |x| < 0.921875: erf(x) = x * P(x^2), P of degree 6 fitted (least squares, relative, Chebyshev
  // nodes) to erf(x) / x.
  const float z = ax * ax;
  float s = 8.365006215e-05f;
  s = s * z + -8.141392027e-04f;
  s = s * z + 5.200905260e-03f;
  s = s * z + -2.685934119e-02f;
  s = s * z + 1.128369421e-01f;
  s = s * z + -3.761263490e-01f;
  s = s * z + 1.128379226e+00f;
  const float small = ax * s;
  // |x| >= 0.921875: erf(x) = 1 - exp(Q(x)), Q of degree 8 fitted to log(erfc(x)) on [0.921875, 4];
  // from 4 on, 1 - erfc(x) rounds to 1 in float, so x is clamped there.
  const float t = ax < 4.0f ? ax : 4.0f;
  float q = 1.613101858e-06f;
  q = q * t + -4.557118518e-05f;
  q = q * t + 5.926017184e-04f;
  q = q * t + -4.739417695e-03f;
  q = q * t + 2.636238001e-02f;
  q = q * t + -1.099740490e-01f;
  q = q * t + -6.319416165e-01f;
  q = q * t + -1.130164027e+00f;
  q = q * t + 3.025418264e-04f;
  const float large = 1.0f - exp_f32(q);
  const float r = ax < 0.921875f ? small : large;
  return x < 0.0f ? -r : r;
}

}  // namespace ft::cpu
