#include "cuda/gemm.cuh"

#include <array>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/error.h"
#include "core/logging.h"
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
  bool fallback = false;       // cuBLASLt has no algorithm: simple_gemm_kernel runs instead
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
  FT_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof(epilogue)));
  if (with_bias)  // the heuristic reads the pointer's alignment
    FT_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias, sizeof(g.bias)));

  cublasLtMatmulPreference_t pref = nullptr;
  FT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  struct PrefGuard {
    cublasLtMatmulPreference_t p;
    ~PrefGuard() { cublasLtMatmulPreferenceDestroy(p); }
  } guard{pref};
  auto set_pref = [&](cublasLtMatmulPreferenceAttributes_t attr, const auto& value) {
    FT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attr, &value, sizeof(value)));
  };
  set_pref(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, static_cast<uint64_t>(ctx.cublaslt_workspace_bytes));
  const uint32_t align_d = static_cast<uint32_t>(alignment_of(g.d));
  set_pref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, static_cast<uint32_t>(alignment_of(g.a)));
  set_pref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, static_cast<uint32_t>(alignment_of(g.b)));
  set_pref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, align_d);
  set_pref(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, align_d);
  // Split-K only with partial sums in the compute type (fp32, in the workspace, reduced in a fixed
  // order): the INPLACE and OUTPUT_TYPE schemes would add bf16 partial sums, losing precision on
  // the weight gradients' long N-reductions (docs/kernels.md, "linear").
  set_pref(CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK, static_cast<uint32_t>(CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE));

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
  // Unusual alignments (a bf16 pointer off its 16-byte boundary) can leave cuBLASLt without an
  // algorithm; the model's buffers never are, so this is for odd callers: slow but correct.
  FT_LOG_WARN("cuBLASLt has no algorithm for a ", type_name(g.ab_type), " -> ", type_name(g.d_type), " GEMM of m=",
              g.m, " n=", g.n, " k=", g.k, " (alignments ", alignment_of(g.a), "/", alignment_of(g.b), "/",
              alignment_of(g.d), " bytes); using the simple fallback kernel");
  plan->fallback = true;
  return plan;
}

// D = alpha op(A) op(B) + beta D (+ bias), one thread per output, fp32 accumulation in k order.
template <class TA, class TD>
__global__ void simple_gemm_kernel(bool ta, bool tb, int m, int n, int k, const TA* a, int lda, const TA* b, int ldb,
                                   TD* d, int ldd, float alpha, float beta, const TD* bias) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  const int j = blockIdx.y * blockDim.y + threadIdx.y;
  if (i >= m || j >= n) return;
  float acc = 0.0f;
  for (int p = 0; p < k; ++p) {
    const float x = to_float(ta ? a[static_cast<int64_t>(i) * lda + p] : a[static_cast<int64_t>(p) * lda + i]);
    const float y = to_float(tb ? b[static_cast<int64_t>(p) * ldb + j] : b[static_cast<int64_t>(j) * ldb + p]);
    acc += x * y;
  }
  TD* out = d + static_cast<int64_t>(j) * ldd + i;
  float v = alpha * acc;
  if (beta != 0.0f) v += beta * to_float(*out);
  if (bias) v += to_float(bias[i]);
  *out = from_float<TD>(v);
}

template <class TA, class TD>
void launch_simple_gemm(const GemmCall& g, const Context& ctx) {
  const dim3 block(16, 16);
  const dim3 grid(static_cast<unsigned>(ceil_div(g.m, 16)), static_cast<unsigned>(ceil_div(g.n, 16)));
  FT_LAUNCH(grid, block, 0, ctx.stream, simple_gemm_kernel<TA, TD>)(
      g.ta == CUBLAS_OP_T, g.tb == CUBLAS_OP_T, g.m, g.n, g.k, static_cast<const TA*>(g.a), g.lda,
      static_cast<const TA*>(g.b), g.ldb, static_cast<TD*>(g.d), g.ldd, g.alpha, g.beta,
      static_cast<const TD*>(g.bias));
  FT_CUDA_CHECK_LAUNCH();
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
  if (plan.fallback) {
    FT_CHECK(g.n <= 65535 * 16, "gemm: n = ", g.n, " is too large for the fallback kernel");
    if (g.ab_type == CUDA_R_32F) launch_simple_gemm<float, float>(g, ctx);
    else if (g.d_type == CUDA_R_32F) launch_simple_gemm<__nv_bfloat16, float>(g, ctx);
    else launch_simple_gemm<__nv_bfloat16, __nv_bfloat16>(g, ctx);
    return;
  }
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
      FT_LAUNCH(blocks, 256, 0, ctx.stream, bias_add_kernel<float>)(
          static_cast<float*>(g.d), static_cast<const float*>(g.bias), g.m, g.n, g.ldd);
    else
      FT_LAUNCH(blocks, 256, 0, ctx.stream, bias_add_kernel<__nv_bfloat16>)(
          static_cast<__nv_bfloat16*>(g.d), static_cast<const __nv_bfloat16*>(g.bias), g.m, g.n, g.ldd);
    FT_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace ft::cuda
