// The CUDA AdamW and master_to_working kernels (cuda/adamw.cu) run on the CPU by the emulator,
// against the CPU backend's on the same state and gradients (tests/support/emulated.h for the
// method; cases: tests/cases/adamw.h). Both backends use the same explicitly rounded fp32
// operations, so every result must agree bit for bit (tolerance 0), and a bf16 working copy must be
// the updated fp32 master rounded once.
#if __has_include(<cuda_runtime.h>)
#define FT_CUDA_EMULATE 1
#include "cuda/adamw.cu"
#define FT_HAVE_EMULATOR 1
#endif

#include <gtest/gtest.h>

#ifdef FT_HAVE_EMULATOR
#include <string>
#include <type_traits>
#include <vector>

#include "core/cpu/ops.h"
#include "tests/cases/adamw.h"
#include "tests/support/emulated.h"

namespace ft::test {
namespace {

using cases::AdamWCase;
using cases::HostBuffers;
using cases::MasterToWorkingCase;

template <class T>
void adamw_case(const AdamWCase& c) {
  const std::string what = c.name() + " " + type_name<T>();
  const auto rounding = cases::rounding_of<T>();
  const bool working = !std::is_same_v<T, float> || c.separate_working;
  std::vector<std::string> outputs = {"master", "m", "v"};
  if (working) outputs.push_back("params");
  HostBuffers got = run_both_orders(what, outputs, [&] {
    Emu e;
    HostBuffers b(1, rounding);
    for (const AdamWArgs<T>& a : cases::adamw_args<T>(c, b)) cuda::adamw_step(a, e.ctx);
    return b;
  });
  HostBuffers want(1, rounding);
  for (const AdamWArgs<float>& a : cases::adamw_args<float>(c, want)) cpu::adamw_step(a);
  for (const char* name : {"master", "m", "v"}) expect_close(what + " " + name, got.read(name), want.read(name), 0.0);
  if (working)
    expect_close(what + " working copy", cases::adamw_working(c, got),
                 round_to<T>(cases::adamw_segment_values(c, got.read("master"))), 0.0);
}

TEST(EmulatedAdamW, Step) {
  adamw_case<float>(cases::adamw_emulated_case(false));
  adamw_case<bf16>(cases::adamw_emulated_case(true));
}

TEST(EmulatedAdamW, MasterToWorking) {
  for (const MasterToWorkingCase& c : cases::master_to_working_emulated_shapes()) {
    Emu e;
    HostBuffers b(1, cases::Rounding::Bf16);
    const cases::MasterToWorkingArgs<bf16> a = cases::master_to_working_args<bf16>(c, b);
    cuda::master_to_working(a.master, a.working, a.n, e.ctx);
    for (int64_t i = 0; i < c.n; ++i) ASSERT_EQ(a.working[i].bits, bf16::from_float(a.master[i]).bits) << i;
  }
}

}  // namespace
}  // namespace ft::test

#else
TEST(EmulatedAdamW, NeedsTheCudaHeaders) { GTEST_SKIP() << "the CUDA headers are not available in this build"; }
#endif
