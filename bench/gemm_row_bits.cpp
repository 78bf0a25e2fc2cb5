// Does a GEMM row's result depend on how many rows the call has? For y = x W^T through the
// OpenBLAS that the CPU backend uses (core/cpu/blas.h), computes row 0 inside calls of 1..M rows and
// prints, per row count, which distinct bit pattern row 0 got (0, 1, 2, ...: a new digit is a new
// rounding). This is why ftengine's bitwise claims are limited to identical call shapes
// (docs/performance.md, "Determinism"). Run under different OPENBLAS_CORETYPE and
// OPENBLAS_NUM_THREADS to see each kernel set:
//   OPENBLAS_CORETYPE=Haswell build/bench/bench_gemm_row_bits [in out max_rows]
#include <cblas.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/cpu/blas.h"

int main(int argc, char** argv) {
  const int in = argc > 1 ? std::atoi(argv[1]) : 384;
  const int out = argc > 2 ? std::atoi(argv[2]) : 384;
  const int max_rows = argc > 3 ? std::atoi(argv[3]) : 128;
  if (in < 1 || out < 1 || max_rows < 1) {
    std::fprintf(stderr, "usage: bench_gemm_row_bits [in out max_rows], all >= 1\n");
    return 1;
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> x(static_cast<size_t>(max_rows) * in), w(static_cast<size_t>(out) * in),
      y(static_cast<size_t>(max_rows) * out);
  for (float& v : x) v = u(rng);
  for (float& v : w) v = u(rng);
  std::vector<std::vector<float>> patterns;
  std::printf("OpenBLAS %s kernels, %d threads; y (M x %d) = x (M x %d) W^T\nrow 0's bits by M = 1..%d:\n",
              openblas_get_corename(), openblas_get_num_threads(), out, in, max_rows);
  for (int m = 1; m <= max_rows; ++m) {
    ft::cpu::gemm(ft::cpu::Trans::No, ft::cpu::Trans::Yes, m, out, in, 1.0f, x.data(), in, w.data(), in, 0.0f,
                  y.data(), out);
    size_t k = 0;
    while (k < patterns.size() && std::memcmp(patterns[k].data(), y.data(), out * sizeof(float)) != 0) ++k;
    if (k == patterns.size()) patterns.emplace_back(y.begin(), y.begin() + out);
    std::printf("%c", k < 10 ? static_cast<char>('0' + k) : '+');
    if (m % 64 == 0) std::printf("\n");
  }
  std::printf("\n%zu distinct results for the same row\n", patterns.size());
  return 0;
}
