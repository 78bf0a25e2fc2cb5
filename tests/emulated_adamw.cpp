// The CUDA AdamW and master_to_working kernels (cuda/adamw.cu) run on the CPU by the emulator,
// against the CPU backend's on the same state and gradients (tests/support/emulated.h for the
// method; cases: tests/cases/adamw.h). Both backends use the same explicitly rounded fp32
// operations, so every result must agree bit for bit (tolerance 0), and a bf16 working copy must be
// the updated fp32 master rounded once.
#define FT_CUDA_EMULATE 1
#include "cuda/adamw.cu"

#include <gtest/gtest.h>

#include <string>
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
  const bool working = !std::is_same_v<T, float> || c.separate_working;
  // The working copy is checked against the device's own master below.
  const HostBuffers got = expect_emulated_matches_cpu<T>(
      {.what = c.name(),
       .outputs = {"master", "m", "v"},
       .tolerances = {{"master", 0.0}, {"m", 0.0}, {"v", 0.0}},
       .order_only = working ? std::vector<std::string>{"params"} : std::vector<std::string>{}},
      [&](HostBuffers& b, const cuda::Context& ctx) {
        for (const AdamWArgs<T>& a : cases::adamw_args<T>(c, b)) cuda::adamw_step(a, ctx);
      },
      [&](HostBuffers& b) {
        for (const AdamWArgs<float>& a : cases::adamw_args<float>(c, b)) cpu::adamw_step(a);
      });
  if (working)
    expect_close(c.name() + " " + type_name<T>() + " working copy", cases::adamw_working(c, got),
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
