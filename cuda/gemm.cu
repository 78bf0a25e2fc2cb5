#include "cuda/gemm.cuh"

#include <array>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/error.h"
#include "cuda/common.cuh"

namespace ft::cuda {

namespace {

// Largest power of two (up to 256) that divides the address: what the heuristic may assume.
int alignment_of(const void* p) {
  const uintptr_t u = reinterpret_cast<uintptr_t>(p);
  int a = 1;
  while (a < 256 && (u & static_cast<uintptr_t>(2 * a - 1)) == 0) a *= 2;
  return a;
}

using PlanKey = std::array<int, 18>;

struct PlanKeyHash {
  size_t operator()(const PlanKey& k) const noexcept {
    size_t h = 1469598103934665603ull;
    for (int v : k) h = (h ^ static_cast<size_t>(static_cast<unsigned>(v))) * 1099511628211ull;
    return h;
  }
};

// The descriptors and the chosen algorithm of one GEMM shape.
struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool bias_epilogue = false;  // false with a bias: the bias is added by bias_add_kernel
  ~Plan() {
    if (desc) cublasLtMatmulDescDestroy(desc);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (d) cublasLtMatrixLayoutDestroy(d);
  }
};

std::mutex g_mutex;  // guards g_plans and the bias pointer stored in a plan's descriptor
std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash>& plans() {
  static auto* p = new std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash>();  // never destroyed:
  return *p;  // descriptors may outlive static destruction order
}

const char* type_name(cudaDataType_t t) { return t == CUDA_R_32F ? "fp32" : t == CUDA_R_16BF ? "bf16" : "?"; }

// Tries the heuristic for one epilogue; false when no algorithm fits.
bool find_algo(const GemmCall& g, const Context& ctx, bool with_bias, Plan& plan) {
  const cublasComputeType_t compute = (g.ab_type == CUDA_R_32F && g.d_type == CUDA_R_32F && ctx.allow_tf32)
                                          ? CUBLAS_COMPUTE_32F_FAST_TF32
                                          : CUBLAS_COMPUTE_32F;
  if (plan.desc) cublasLtMatmulDescDestroy(plan.desc);
  plan.desc = nullptr;
  FT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan.desc, compute, CUDA_R_32F));
  FT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &g.ta, sizeof(g.ta)));
  FT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &g.tb, sizeof(g.tb)));
  const cublasLtEpilogue_t epilogue = with_bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
  FT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
  if (with_bias)  // the heuristic reads the pointer's alignment
    FT_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias, sizeof(g.bias)));

  cublasLtMatmulPreference_t pref = nullptr;
  FT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  struct PrefGuard {
    cublasLtMatmulPreference_t p;
    ~PrefGuard() { cublasLtMatmulPreferenceDestroy(p); }
  } guard{pref};
  const uint64_t ws = ctx.cublaslt_workspace_bytes;
  FT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
  const uint32_t align_a = static_cast<uint32_t>(alignment_of(g.a)), align_b = static_cast<uint32_t>(alignment_of(g.b)),
                 align_d = static_cast<uint32_t>(alignment_of(g.d));
  FT_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a, sizeof(align_a)));
  FT_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b, sizeof(align_b)));
  FT_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_d, sizeof(align_d)));
  FT_CUBLAS_CHECK(
      cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_d, sizeof(align_d)));

  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(ctx.cublaslt, plan.desc, plan.a, plan.b, plan.d, plan.d, pref, 1, &result, &found);
  if (st == CUBLAS_STATUS_NOT_SUPPORTED || found == 0) return false;
  FT_CUBLAS_CHECK(st);
  if (result.state != CUBLAS_STATUS_SUCCESS) return false;
  plan.algo = result.algo;
  plan.bias_epilogue = with_bias;
  return true;
}

std::unique_ptr<Plan> make_plan(const GemmCall& g, const Context& ctx) {
  auto plan = std::make_unique<Plan>();
  const bool a_n = g.ta == CUBLAS_OP_N, b_n = g.tb == CUBLAS_OP_N;
  FT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->a, g.ab_type, a_n ? g.m : g.k, a_n ? g.k : g.m, g.lda));
  FT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->b, g.ab_type, b_n ? g.k : g.n, b_n ? g.n : g.k, g.ldb));
  FT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->d, g.d_type, g.m, g.n, g.ldd));
  if (g.bias && find_algo(g, ctx, true, *plan)) return plan;
  if (find_algo(g, ctx, false, *plan)) return plan;
  FT_THROW("cuBLASLt has no algorithm for a ", type_name(g.ab_type), " -> ", type_name(g.d_type), " GEMM of m=", g.m,
           " n=", g.n, " k=", g.k, " (lda=", g.lda, " ldb=", g.ldb, " ldd=", g.ldd, ") on device ", ctx.device);
}

// D[i + j * ldd] += bias[i] (column-major m x n): the bias when the epilogue could not take it.
template <class T>
__global__ void bias_add_kernel(T* d, const T* bias, int m, int n, int ldd) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(m) * n) return;
  const int64_t row = i % m, col = i / m;
  T* p = d + col * ldd + row;
  *p = from_float<T>(to_float(*p) + to_float(bias[row]));
}

}  // namespace

void gemm(const GemmCall& g, const Context& ctx) {
  if (g.m == 0 || g.n == 0) return;
  FT_CHECK(g.k > 0, "gemm: inner dimension k = ", g.k, " must be positive");
  FT_CHECK(ctx.cublaslt, "gemm: no cuBLASLt handle in the CUDA context");
  const PlanKey key{ctx.device,
                    static_cast<int>(g.ta),
                    static_cast<int>(g.tb),
                    g.m,
                    g.n,
                    g.k,
                    g.lda,
                    g.ldb,
                    g.ldd,
                    static_cast<int>(g.ab_type),
                    static_cast<int>(g.d_type),
                    ctx.allow_tf32 ? 1 : 0,
                    g.bias ? 1 : 0,
                    alignment_of(g.a),
                    alignment_of(g.b),
                    alignment_of(g.d),
                    g.bias ? alignment_of(g.bias) : 0,
                    static_cast<int>(ctx.cublaslt_workspace_bytes >> 20)};
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& cache = plans();
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, make_plan(g, ctx)).first;
  Plan& plan = *it->second;
  if (plan.bias_epilogue)
    FT_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias, sizeof(g.bias)));
  FT_CUBLAS_CHECK(cublasLtMatmul(ctx.cublaslt, plan.desc, &g.alpha, g.a, plan.a, g.b, plan.b, &g.beta, g.d, plan.d,
                                 g.d, plan.d, &plan.algo, ctx.cublaslt_workspace, ctx.cublaslt_workspace_bytes,
                                 ctx.stream));
  if (g.bias && !plan.bias_epilogue) {
    const int64_t total = static_cast<int64_t>(g.m) * g.n;
    const unsigned blocks = static_cast<unsigned>(ceil_div(total, 256));
    if (g.d_type == CUDA_R_32F)
      bias_add_kernel<float><<<blocks, 256, 0, ctx.stream>>>(static_cast<float*>(g.d), static_cast<const float*>(g.bias),
                                                            g.m, g.n, g.ldd);
    else
      bias_add_kernel<__nv_bfloat16><<<blocks, 256, 0, ctx.stream>>>(static_cast<__nv_bfloat16*>(g.d),
                                                                    static_cast<const __nv_bfloat16*>(g.bias), g.m,
                                                                    g.n, g.ldd);
    FT_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace ft::cuda
