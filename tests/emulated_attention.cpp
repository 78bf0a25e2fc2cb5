// The CUDA attention kernels, run on the CPU.
//
// cuda/attention_kernels.cuh is compiled here as plain C++ (FT_ATTN_EMULATE) and every block of
// every launch is executed by an emulator: the block's 128 threads are cooperative fibres
// (tests/support/fibers.h, the runtime of every emulated test), __syncthreads is a barrier between them, and the warp operations the kernels use
// (shuffles, mma.sync m16n8k16 bf16, ldmatrix .x4 .trans) are computed from the fragment layouts of
// the PTX ISA. So the kernels' indexing, tiling, masking, online softmax, dropout streams and
// fragment bookkeeping are checked against the CPU backend on every machine, GPU or not, with the
// same references and tolerances as tests/parity_attention.cpp (tests/support/attention_reference.h;
// cases: tests/cases/attention.h).
//
// What this cannot check: the hardware itself (that the PTX layouts are as specified, memory
// ordering, timing), and accuracy differences of the GPU's own exp2/mma arithmetic; that is the job of
// tests/parity_attention.cpp on a GPU. Missing barriers are probed by running the threads in
// several different orders, with cp.async copies landing as early or as late as the hardware may
// let them, and requiring bitwise equal results; shared memory starts as NaN.
#define FT_ATTN_EMULATE 1
#include "cuda/attention_kernels.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "tests/support/attention_reference.h"
#include "tests/support/fibers.h"
#include "tests/support/random.h"

namespace ft::cuda::attn::emu {
namespace {

using test::fibers::Barrier;
using test::fibers::Order;

[[noreturn]] void fail(const char* what) { test::fibers::fail(what); }

enum class WarpOp : int { None, ShflXor, ShflIdx, Mma, Ldmatrix };

// What the 32 lanes of a warp put on the table for one warp-wide operation.
struct WarpExchange {
  Barrier barrier;
  WarpOp op[32] = {};
  float f[32] = {};
  uint32_t a[32][4] = {};
  uint32_t b[32][2] = {};
  const uint16_t* row[32] = {};
};

// A cp.async copy not yet performed (deferred mode).
struct PendingCopy {
  void* dst;
  const void* src;
  bool valid;
};

// The state of the block being run, beside its fibres.
struct Runtime {
  Barrier block_barrier;
  WarpExchange warps[kWarps];
  const unsigned char* smem_begin = nullptr;
  const unsigned char* smem_end = nullptr;
  std::vector<std::vector<PendingCopy>> pending = std::vector<std::vector<PendingCopy>>(kThreads);
};

Runtime* g_rt = nullptr;  // the block being run (blocks run one after another)
Order g_order = Order::Forward;
// cp.async copies happen at the issuing thread's next wait (deferred: the latest the hardware may
// complete them, which exposes reads before the wait) or at issue (the earliest, which exposes
// copies into buffers other threads still read).
bool g_async_deferred = true;
uint64_t g_shuffle_seed = 1;

int current_thread() { return test::fibers::Block::current().thread(); }

void wait(Barrier& b, int group) { test::fibers::Block::current().wait(b, group); }

// Runs one block of kThreads threads to completion; `body(tid)` is the kernel body.
void run_block(const std::function<void(int)>& body, const unsigned char* smem, size_t smem_bytes) {
  Runtime rt;
  rt.smem_begin = smem;
  rt.smem_end = smem + smem_bytes;
  g_rt = &rt;
  test::fibers::Block::run(kThreads, g_order, g_shuffle_seed++, body);
  for (const auto& p : rt.pending)
    if (!p.empty()) fail("a thread finished with cp.async copies it never waited for");
  g_rt = nullptr;
}

WarpExchange& my_warp(int* lane) {
  const int t = current_thread();
  *lane = t & 31;
  return g_rt->warps[t >> 5];
}

// First barrier of a warp operation: every lane has published its operands; all must be in the same op.
void enter(WarpExchange& w, int lane, WarpOp op) {
  w.op[lane] = op;
  wait(w.barrier, 32);
  for (int l = 0; l < 32; ++l)
    if (w.op[l] != op) fail("the lanes of a warp are in different warp operations");
}
// Second barrier: every lane has read its result; the table may be reused.
void leave(WarpExchange& w) { wait(w.barrier, 32); }

}  // namespace

void block_sync() { wait(g_rt->block_barrier, kThreads); }

float shfl_xor(float v, int lane_mask) {
  int lane;
  WarpExchange& w = my_warp(&lane);
  w.f[lane] = v;
  enter(w, lane, WarpOp::ShflXor);
  const float r = w.f[(lane ^ lane_mask) & 31];
  leave(w);
  return r;
}

float shfl_idx(float v, int src_lane) {
  int lane;
  WarpExchange& w = my_warp(&lane);
  w.f[lane] = v;
  enter(w, lane, WarpOp::ShflIdx);
  const float r = w.f[src_lane & 31];
  leave(w);
  return r;
}

uint16_t float_to_bf16(float f) { return bf16::from_float(f).bits; }

// PTX ISA, mma.m16n8k16 with .bf16 inputs: lane l = 4g + t holds
//   A: a[0] = (g, 2t..2t+1), a[1] = (g+8, 2t..), a[2] = (g, 2t+8..), a[3] = (g+8, 2t+8..)
//   B: b0 = (k 2t..2t+1, n g), b1 = (k 2t+8.., n g); C/D: (g, 2t..2t+1), (g+8, 2t..2t+1)
// with the lower k in the low 16 bits of each register.
void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  int lane;
  WarpExchange& w = my_warp(&lane);
  for (int r = 0; r < 4; ++r) w.a[lane][r] = a[r];
  w.b[lane][0] = b0;
  w.b[lane][1] = b1;
  enter(w, lane, WarpOp::Mma);
  const auto A = [&](int row, int k) {
    const uint32_t reg = w.a[(row & 7) * 4 + ((k & 7) >> 1)][(row >> 3) + 2 * (k >> 3)];
    return bf16_to_float(static_cast<uint16_t>(reg >> (16 * (k & 1))));
  };
  const auto B = [&](int k, int col) {
    const uint32_t reg = w.b[col * 4 + ((k & 7) >> 1)][k >> 3];
    return bf16_to_float(static_cast<uint16_t>(reg >> (16 * (k & 1))));
  };
  const int g = lane >> 2, t = lane & 3;
  float out[4];
  for (int e = 0; e < 4; ++e) {
    const int row = g + 8 * (e >> 1), col = 2 * t + (e & 1);
    float acc = d[e];
    for (int k = 0; k < 16; ++k) acc += A(row, k) * B(k, col);  // bf16 products are exact in fp32
    out[e] = acc;
  }
  leave(w);
  for (int e = 0; e < 4; ++e) d[e] = out[e];
}

// PTX ISA, ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16: lane 8m + r addresses row r of matrix m;
// with .trans, lane l = 4g + t receives elements (row 2t, col g) and (row 2t+1, col g) of matrix m in r[m].
void ldmatrix_x4_trans(uint32_t (&r)[4], const uint16_t* row) {
  int lane;
  WarpExchange& w = my_warp(&lane);
  const auto* bytes = reinterpret_cast<const unsigned char*>(row);
  if (reinterpret_cast<uintptr_t>(row) % 16 != 0) fail("ldmatrix row address is not 16-byte aligned");
  if (bytes < g_rt->smem_begin || bytes + 16 > g_rt->smem_end) fail("ldmatrix row address outside shared memory");
  w.row[lane] = row;
  enter(w, lane, WarpOp::Ldmatrix);
  const int g = lane >> 2, t = lane & 3;
  for (int m = 0; m < 4; ++m)
    r[m] = static_cast<uint32_t>(w.row[8 * m + 2 * t][g]) | (static_cast<uint32_t>(w.row[8 * m + 2 * t + 1][g]) << 16);
  leave(w);
}

namespace {

void perform(const PendingCopy& c) {
  if (c.valid) {
    std::memcpy(c.dst, c.src, 16);
  } else {
    std::memset(c.dst, 0, 16);
  }
}

}  // namespace

void cp_async16(void* dst, const void* src, bool valid) {
  const auto* d = static_cast<const unsigned char*>(dst);
  if (reinterpret_cast<uintptr_t>(dst) % 16 != 0 || reinterpret_cast<uintptr_t>(src) % 16 != 0)
    fail("cp.async address is not 16-byte aligned");
  if (d < g_rt->smem_begin || d + 16 > g_rt->smem_end) fail("cp.async destination outside shared memory");
  const PendingCopy c{dst, src, valid};
  if (g_async_deferred) {
    g_rt->pending[current_thread()].push_back(c);
  } else {
    perform(c);
  }
}

void cp_async_commit() {}

void cp_async_wait_all() {
  auto& mine = g_rt->pending[current_thread()];
  for (const PendingCopy& c : mine) perform(c);
  mine.clear();
}

namespace {

// Shared memory of one block: NaN-filled (0xff bytes are NaN in fp32 and bf16), 16-byte aligned.
struct SharedMemory {
  std::vector<unsigned char> storage;
  unsigned char* data = nullptr;
  explicit SharedMemory(size_t bytes) : storage(bytes + 16, 0xff) {
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage.data());
    data = storage.data() + ((16 - p % 16) % 16);
  }
};

// Emulated launches: every block of the grid, one after another.
template <class F>
void launch(int tiles, int H, int B, size_t smem_bytes, F&& body) {
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      for (int tile = 0; tile < tiles; ++tile) {
        SharedMemory smem(smem_bytes);
        const std::function<void(int)> f = [&](int tid) { body(smem.data, tid, tile, h, b); };
        run_block(f, smem.data, smem_bytes);
      }
}

template <bool kBf16, int D>
void forward_d(const Params& p) {
  launch((p.T + kTile - 1) / kTile, p.H, p.B, forward_smem_bytes<kBf16, D>(),
         [&](unsigned char* smem, int tid, int tile, int h, int b) {
           forward_body<kBf16, D>(p, smem, tid, tile, h, b);
         });
}

template <bool kBf16, int D>
void backward_d(const Params& p) {
  const int64_t rows = static_cast<int64_t>(p.B) * p.T * p.H;
  for (int64_t block = 0; block < (rows + kWarps - 1) / kWarps; ++block) {
    const std::function<void(int)> f = [&](int tid) { delta_body<kBf16, D>(p, tid, block); };
    run_block(f, nullptr, 0);
  }
  const int tiles = (p.T + kTile - 1) / kTile;
  launch(tiles, p.H, p.B, dq_smem_bytes<kBf16, D>(),
         [&](unsigned char* smem, int tid, int tile, int h, int b) { dq_body<kBf16, D>(p, smem, tid, tile, h, b); });
  launch(tiles, p.H, p.B, dkdv_smem_bytes<kBf16, D>(),
         [&](unsigned char* smem, int tid, int tile, int h, int b) { dkdv_body<kBf16, D>(p, smem, tid, tile, h, b); });
}

// Host buffers in the kernels' element type.
template <bool kBf16>
std::vector<Elem<kBf16>> to_elems(const std::vector<float>& v) {
  std::vector<Elem<kBf16>> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = from_float<kBf16>(v[i]);
  return r;
}
template <bool kBf16>
std::vector<float> to_floats(const std::vector<Elem<kBf16>>& v) {
  std::vector<float> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = to_float<kBf16>(v[i]);
  return r;
}
template <bool kBf16>
std::vector<Elem<kBf16>> poisoned(size_t n) {
  return std::vector<Elem<kBf16>>(n, from_float<kBf16>(quiet_nan()));
}

template <bool kBf16>
Params params_of(const test::attention::Case& c, const void* qkv) {
  const DropoutSpec d = c.dropout();
  return make_params(c.B, c.T, c.H, c.D, qkv, c.lengths.data(), c.scale(), d.p, d.seed, d.stream, d.step);
}

// f.operator()<D>() for the head sizes the kernels are built for.
template <class F>
void for_head_size(int D, F&& f) {
  switch (D) {
    case 32: f.template operator()<32>(); break;
    case 64: f.template operator()<64>(); break;
    case 128: f.template operator()<128>(); break;
    default: FAIL() << "unsupported D " << D;
  }
}

template <bool kBf16>
test::attention::Impl emulated_impl() {
  test::attention::Impl impl;
  impl.forward = [](const test::attention::Case& c, const std::vector<float>& qkv_f, std::vector<float>& out_f,
                    std::vector<float>& lse) {
    const auto qkv = to_elems<kBf16>(qkv_f);
    auto out = poisoned<kBf16>(c.out_size());
    lse = test::poisoned_vector<float>(c.lse_size());
    Params p = params_of<kBf16>(c, qkv.data());
    p.out = out.data();
    p.lse = lse.data();
    for_head_size(c.D, [&]<int D>() { forward_d<kBf16, D>(p); });
    out_f = to_floats<kBf16>(out);
  };
  impl.backward = [](const test::attention::Case& c, const std::vector<float>& qkv_f, const std::vector<float>& out_f,
                     const std::vector<float>& lse, const std::vector<float>& dout_f, std::vector<float>& dqkv_f) {
    const auto qkv = to_elems<kBf16>(qkv_f);
    const auto out = to_elems<kBf16>(out_f);
    const auto dout = to_elems<kBf16>(dout_f);
    auto dqkv = poisoned<kBf16>(c.qkv_size());
    std::vector<float> delta = test::poisoned_vector<float>(c.lse_size());
    Params p = params_of<kBf16>(c, qkv.data());
    p.out_saved = out.data();
    p.lse_saved = lse.data();
    p.dout = dout.data();
    p.dqkv = dqkv.data();
    p.delta = delta.data();
    for_head_size(c.D, [&]<int D>() { backward_d<kBf16, D>(p); });
    dqkv_f = to_floats<kBf16>(dqkv);
  };
  return impl;
}

using test::attention::Case;

TEST(EmulatedAttention, Fp32MatchesCpuBackend) {
  for (const Case& c : cases::attention_emulated_cases()) test::attention::check_fp32(c, emulated_impl<false>(), false);
}

TEST(EmulatedAttention, Bf16WithinTwicePlainBf16Error) {
  for (const Case& c : cases::attention_emulated_cases()) test::attention::check_bf16(c, emulated_impl<true>(), false);
}

// Barriers: the result must not depend on the order in which threads run between them.
TEST(EmulatedAttention, ThreadOrderDoesNotChangeBits) {
  for (const bool bf16 : {false, true}) {
    const Case c = cases::attention_thread_order_case();
    const auto impl = bf16 ? emulated_impl<true>() : emulated_impl<false>();
    const auto qkv = test::attention::random_inputs(c.qkv_size(), 7, 1.5, bf16);
    const auto dout = test::attention::random_inputs(c.out_size(), 8, 1.0, bf16);
    std::vector<std::vector<float>> results;
    for (const auto& [order, deferred] :
         {std::pair{Order::Forward, true}, std::pair{Order::Reverse, true}, std::pair{Order::Shuffled, false}}) {
      g_order = order;
      g_async_deferred = deferred;
      std::vector<float> out, lse, dqkv;
      impl.forward(c, qkv, out, lse);
      impl.backward(c, qkv, out, lse, dout, dqkv);
      out.insert(out.end(), lse.begin(), lse.end());
      out.insert(out.end(), dqkv.begin(), dqkv.end());
      results.push_back(out);
    }
    g_order = Order::Forward;
    g_async_deferred = true;
    const std::string type = bf16 ? "bf16" : "fp32";
    test::attention::expect_bitwise_equal(results[0], results[1], type + ", reverse order, late copies");
    test::attention::expect_bitwise_equal(results[0], results[2], type + ", shuffled order, early copies");
  }
}

// An out-of-range length cannot throw from a kernel: the rows it touches become NaN.
TEST(EmulatedAttention, BadLengthGivesNaNRows) {
  const Case c = cases::attention_bad_length_case();
  const auto impl = emulated_impl<false>();
  const auto qkv = test::attention::random_inputs(c.qkv_size(), 9, 1.0, false);
  std::vector<float> out, lse;
  impl.forward(c, qkv, out, lse);
  for (int t = 0; t < c.T; ++t) {
    EXPECT_TRUE(std::isfinite(out[static_cast<size_t>(t) * c.C()])) << "sequence 0 is valid, row " << t;
    EXPECT_TRUE(std::isnan(out[static_cast<size_t>(c.T + t) * c.C()])) << "sequence 1 has length 10 > T, row " << t;
  }
}

}  // namespace
}  // namespace ft::cuda::attn::emu
