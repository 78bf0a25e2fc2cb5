// AdamW (and master_to_working): the CUDA backend against the CPU backend (tests/support/parity.h).
// Three steps over several segments (different weight decays, gradient offsets that skip a frozen
// range, odd lengths), with a clipping scale. The update is element-wise with the same explicitly
// rounded fp32 operations on both backends, so fp32 agrees to about an ulp (far inside the fp32
// bound); bf16 working copies are the fp32 master rounded once.
#include <string>
#include <vector>

#include "core/ops.h"
#include "tests/support/parity.h"

namespace ft {
namespace {

using test::Dev;
using test::Outputs;

template <class DevReal>
void check_adamw(bool separate_working, uint64_t seed) {
  // Parameter buffer of 9000 elements; gradients only for three segments of it.
  const std::vector<AdamWSegment> segments = {
      {0, 0, 1537, 0.01f}, {1600, 1537, 3, 0.0f}, {2000, 1540, 4099, 0.1f}, {8500, 5639, 500, 0.0f}};
  const int64_t np = 9000, ng = 6139;
  using test::round_to;
  const auto master0 = round_to<float>(test::random_values(np, seed, -0.5, 0.5));
  const auto m0 = round_to<float>(test::random_values(ng, seed + 1, -1e-3, 1e-3));
  const auto v0 = round_to<float>(test::random_values(ng, seed + 2, 0.0, 1e-4));
  std::vector<std::vector<double>> grads;
  for (int s = 0; s < 3; ++s) grads.push_back(round_to<DevReal>(test::random_values(ng, seed + 3 + s, -0.05, 0.05)));
  auto run = [&]<class R>(Backend<R>& be) {
    using M = master_t<R>;
    Dev<R> d(be);
    M* master = d.template upload<M>(master0);
    R* params = nullptr;
    if constexpr (std::is_same_v<R, M>) {
      params = separate_working ? d.template nan<R>(np) : master;
    } else {
      params = d.template nan<R>(np);
    }
    M* m = d.template upload<M>(m0);
    M* v = d.template upload<M>(v0);
    for (int s = 0; s < 3; ++s) {
      AdamWArgs<R> a;
      a.master = master;
      a.params = params;
      a.grads = d.template upload<R>(grads[s]);
      a.m = m;
      a.v = v;
      a.segments = segments.data();
      a.num_segments = static_cast<int>(segments.size());
      a.lr = 2e-5f * static_cast<float>(s + 1);
      a.beta1 = 0.9f;
      a.beta2 = 0.999f;
      a.eps = 1e-8f;
      a.step = s + 1;
      a.grad_scale = s == 1 ? 0.37f : 1.0f;
      be.adamw_step(a);
    }
    Outputs o{d.fp32("master", master, np), d.fp32("m", m, ng), d.fp32("v", v, ng)};
    // Elements outside every segment are never written: only the segments' working copies count.
    std::vector<double> work;
    const auto all = d.get(params, np);
    for (const auto& seg : segments) work.insert(work.end(), all.begin() + seg.param_offset,
                                                 all.begin() + seg.param_offset + seg.count);
    o.push_back({"params (segments)", work, test::Stored::Real});
    return o;
  };
  test::expect_parity<DevReal>(std::string("adamw 3 steps") + (separate_working ? " separate working copy" : ""), run);
}

template <class DevReal>
void check_master_to_working(int64_t n, uint64_t seed) {
  const auto master = test::round_to<float>(test::random_values(static_cast<size_t>(n), seed));
  auto run = [&]<class R>(Backend<R>& be) {
    Dev<R> d(be);
    const master_t<R>* mp = d.template upload<master_t<R>>(master);
    R* w = d.template nan<R>(static_cast<size_t>(n));
    be.master_to_working(mp, w, n);
    return Outputs{d.real("working", w, static_cast<size_t>(n))};
  };
  test::expect_parity<DevReal>("master_to_working n=" + std::to_string(n), run);
}

TEST(ParityAdamW, Fp32) {
  FT_REQUIRE_DEVICE(float);
  check_adamw<float>(false, 8000);
  check_adamw<float>(true, 8100);
  check_master_to_working<float>(1000003, 8200);
}
TEST(ParityAdamW, Bf16) {
  FT_REQUIRE_DEVICE(bf16);
  check_adamw<bf16>(true, 8300);
  check_master_to_working<bf16>(1000003, 8400);
}

}  // namespace
}  // namespace ft
