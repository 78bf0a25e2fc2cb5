// The CUDA dropout kernel (cuda/dropout.cu) run on the CPU by the emulator, against the CPU
// backend's dropout on the same inputs and mask spec (tests/support/emulated.h for the method and
// tolerances; cases: tests/cases/dropout.h).
#define FT_CUDA_EMULATE 1
#include "cuda/dropout.cu"

#include <gtest/gtest.h>

#include "core/cpu/ops.h"
#include "tests/cases/dropout.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::DropoutCase;
using cases::HostBuffers;

// offset: elements by which the pointer is moved off its 16-byte alignment.
template <class T>
void forward_case(const DropoutCase& c, int offset) {
  expect_emulated_matches_cpu<T>(
      {.what = c.forward_name(), .outputs = {"x"}, .offset = offset},
      [&](HostBuffers& b, const cuda::Context& ctx) { cuda::dropout_forward(cases::dropout_forward_args<T>(c, b), ctx); },
      [&](HostBuffers& b) { cpu::dropout_forward(cases::dropout_forward_args<float>(c, b)); });
}

TEST(EmulatedDropout, Forward) {
  const std::vector<DropoutCase> all = cases::dropout_emulated_cases();
  for_each_case(all, all, []<class T>(const DropoutCase& c) { forward_case<T>(c, 0); });
  forward_case<float>({.n = 1001, .p = 0.3f}, 1);
  forward_case<bf16>({.n = 1001, .p = 0.3f}, 3);
}

}  // namespace
}  // namespace ft::test
