// dropout (in place): x *= keep(idx) / (1 - p), idx = element index in x. The backward applies the
// same mask to the gradient, so both directions are one function.
#include <algorithm>

#include "core/cpu/dropout_mask.h"
#include "core/cpu/ops.h"
#include "core/cpu/parallel.h"

namespace ft::cpu {

namespace {

// Elements per task: a multiple of 4 so that no Philox block is split between two tasks.
constexpr int64_t kDropoutBlock = 4096;

template <class Real>
void dropout_in_place(const DropoutArgs<Real>& a) {
  if (!a.dropout.active() || a.n == 0) return;
  const int64_t blocks = ceil_div(a.n, kDropoutBlock);
#pragma omp parallel for schedule(static) if (a.n > 8 * kDropoutBlock)
  for (int64_t k = 0; k < blocks; ++k) {
    const int64_t i0 = k * kDropoutBlock;
    apply_dropout(a.dropout, static_cast<uint64_t>(i0), std::min(kDropoutBlock, a.n - i0), a.x + i0);
  }
}

}  // namespace

template <class Real>
void dropout_forward(const DropoutArgs<Real>& a) {
  dropout_in_place(a);
}

template <class Real>
void dropout_backward(const DropoutArgs<Real>& a) {
  dropout_in_place(a);
}

template void dropout_forward<float>(const DropoutArgs<float>&);
template void dropout_forward<double>(const DropoutArgs<double>&);
template void dropout_backward<float>(const DropoutArgs<float>&);
template void dropout_backward<double>(const DropoutArgs<double>&);

}  // namespace ft::cpu
