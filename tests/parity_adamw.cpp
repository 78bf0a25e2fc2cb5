// AdamW (and master_to_working): the CUDA backend against the CPU backend (tests/support/parity.h).
// Three steps over several segments (different weight decays, gradient offsets that skip a frozen
// range, odd lengths), with a clipping scale. The update is element-wise with the same explicitly
// rounded fp32 operations on both backends, so fp32 agrees to about an ulp (far inside the fp32
// bound); bf16 working copies are the fp32 master rounded once. Cases: tests/cases/adamw.h.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/cases/adamw.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using cases::AdamWCase;
using cases::BackendBuffers;
using cases::MasterToWorkingCase;
using test::Outputs;

template <class DevReal>
void check_adamw(const AdamWCase& c, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
    for (const AdamWArgs<R>& a : cases::adamw_args<R>(c, b)) be.adamw_step(a);
    return Outputs{test::fp32_output(b, "master"), test::fp32_output(b, "m"), test::fp32_output(b, "v"),
                   {"params (segments)", cases::adamw_working(c, b), test::Stored::Real}};
  };
  test::expect_parity<DevReal>(c.name(), run);
}

template <class DevReal>
void check_master_to_working(const MasterToWorkingCase& c, uint64_t seed) {
  auto run = [&]<class R>(Backend<R>& be) {
    BackendBuffers<R> b(be, seed, cases::rounding_of<DevReal>());
    const cases::MasterToWorkingArgs<R> a = cases::master_to_working_args<R>(c, b);
    be.master_to_working(a.master, a.working, a.n);
    return Outputs{test::real_output(b, "working")};
  };
  test::expect_parity<DevReal>(c.name(), run);
}

TEST(ParityAdamW, Fp32) {
  FT_REQUIRE_DEVICE(float);
  check_adamw<float>(cases::adamw_parity_case(false), 8000);
  check_adamw<float>(cases::adamw_parity_case(true), 8100);
  for (const MasterToWorkingCase& c : cases::master_to_working_parity_shapes()) check_master_to_working<float>(c, 8200);
}
TEST(ParityAdamW, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  check_adamw<bf16>(cases::adamw_parity_case(true), 8300);
  for (const MasterToWorkingCase& c : cases::master_to_working_parity_shapes()) check_master_to_working<bf16>(c, 8400);
}

}  // namespace
}  // namespace ft
