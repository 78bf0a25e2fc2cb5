// One full training step through BertRegressor: zero_grad, forward (dropout 0.1 as in training),
// backward, gradient norm and clipping coefficient, AdamW. Reports tokens/s (B * T per step).
//
// CPU (float): a MiniLM-sized config (6 x 384, 12 heads, FFN 1536) and BERT-base (12 x 768, 12
// heads, FFN 3072), both with the 30,522-word vocabulary, at T = 128, B = 8. Compare with
// bench/hf_train_step.py (PyTorch, same shapes, same threads); docs/performance.md has the table.
//
// CUDA (registered only when a GPU is usable): the same two configs at T = 128, 256, 512, B = 32,
// fp32 and bf16, with tokens/s, model FLOPs utilisation and the backend's peak memory.
//   FLOPs per token = 6 * N_matmul + 12 * L * T * C
// N_matmul counts the parameters that multiply activations (per layer 4 C^2 + 2 C F, plus the
// pooler's C^2 and the head's C; the embedding tables are gathers, not matmuls); 6 = 2 (multiply
// and add) x 3 (forward, input gradient, weight gradient). 12 L T C is attention's two batched
// matmuls (Q K^T and P V, 2 T C FLOPs each per token) forward and twice in the backward. The peak
// is the GPU's dense bf16 tensor peak for bf16 and its FP32 (non-tensor) peak for fp32, from the
// table below by device name, or FTENGINE_PEAK_TFLOPS; without one, MFU is not reported.
//
// FTENGINE_PROFILE=1 wraps the backend in a timer per op and direction (synchronising after each
// call) and prints where a step's time goes, after each benchmark.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/backend_registry.h"
#include "core/cpu/blas_core_type.h"
#include "model/bert_regressor.h"
#include "model/train/schedule.h"

#ifdef FTENGINE_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace ft {
namespace {

struct ModelShape {
  const char* name;
  int layers, hidden, heads, intermediate;
};
constexpr ModelShape kMiniLM{"minilm", 6, 384, 12, 1536};
constexpr ModelShape kBertBase{"bert-base", 12, 768, 12, 3072};

BertConfig config_for(const ModelShape& s) {
  BertConfig c;
  c.vocab_size = 30522;
  c.hidden_size = s.hidden;
  c.num_hidden_layers = s.layers;
  c.num_attention_heads = s.heads;
  c.intermediate_size = s.intermediate;
  c.max_position_embeddings = 512;
  return c;
}

// HF-like initial values (weights ~ uniform with std 0.02, biases 0, LayerNorm weights 1), drawn
// with a cheap generator: a step's cost does not depend on the values, only on their being finite.
StateDict init_params(const BertParamLayout& layout) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  StateDict out;
  for (const ParamSpec& spec : layout.specs) {
    Tensor t = Tensor::zeros(DType::F32, spec.shape);
    float* d = t.data<float>();
    const bool layernorm_weight = spec.name.find("LayerNorm.weight") != std::string::npos;
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (layernorm_weight) {
        d[i] = 1.0f;
      } else if (spec.decay) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        d[i] = (static_cast<float>(state >> 40) / 16777216.0f - 0.5f) * 0.0693f;  // std 0.02
      }
    }
    out.tensors.emplace_back(spec.name, std::move(t));
  }
  return out;
}

ModelBatch full_batch(int B, int T, int vocab) {
  ModelBatch b;
  b.B = B;
  b.T = T;
  b.input_ids.resize(static_cast<size_t>(B) * T);
  b.token_type_ids.assign(static_cast<size_t>(B) * T, 0);
  b.lengths.assign(static_cast<size_t>(B), T);
  uint32_t x = 12345;
  for (auto& id : b.input_ids) {
    x = x * 1664525u + 1013904223u;
    id = 1000 + static_cast<int32_t>((x >> 8) % static_cast<uint32_t>(vocab - 1000));
  }
  for (int s = 0; s < B; ++s) b.targets.push_back(0.5f * static_cast<float>(s % 5));
  return b;
}

// Parameters that multiply activations: per layer 4 C^2 + 2 C F, pooler C^2, head C.
double matmul_params(const BertConfig& c) {
  const double C = c.hidden_size, F = c.intermediate_size;
  return c.num_hidden_layers * (4 * C * C + 2 * C * F) + C * C + C;
}

// Forwards every call to `inner`, timing each op (after synchronising) by name.
template <class Real>
class ProfilingBackend final : public Backend<Real> {
 public:
  using typename Backend<Real>::Master;
  explicit ProfilingBackend(std::unique_ptr<Backend<Real>> inner) : inner_(std::move(inner)) {}

  std::string name() const override { return inner_->name(); }
  bool on_device() const override { return inner_->on_device(); }
  void* allocate(size_t bytes) override { return inner_->allocate(bytes); }
  void deallocate(void* p) noexcept override { inner_->deallocate(p); }
  void upload(void* d, const void* s, size_t n) override { timed("upload", [&] { inner_->upload(d, s, n); }); }
  void download(void* d, const void* s, size_t n) override { timed("download", [&] { inner_->download(d, s, n); }); }
  void copy(void* d, const void* s, size_t n) override { timed("copy", [&] { inner_->copy(d, s, n); }); }
  void fill_zero(void* p, size_t n) override { timed("fill_zero", [&] { inner_->fill_zero(p, n); }); }
  void synchronize() override { inner_->synchronize(); }
  size_t peak_allocated() const override { return inner_->peak_allocated(); }

#define FT_PROFILED(op, Args) \
  void op(const Args<Real>& a) override { timed(#op, [&] { inner_->op(a); }); }
  FT_PROFILED(embedding_forward, EmbeddingForwardArgs)
  FT_PROFILED(embedding_backward, EmbeddingBackwardArgs)
  FT_PROFILED(linear_forward, LinearForwardArgs)
  FT_PROFILED(linear_backward, LinearBackwardArgs)
  FT_PROFILED(layernorm_forward, LayerNormForwardArgs)
  FT_PROFILED(layernorm_backward, LayerNormBackwardArgs)
  FT_PROFILED(gelu_forward, GeluForwardArgs)
  FT_PROFILED(gelu_backward, GeluBackwardArgs)
  FT_PROFILED(dropout_forward, DropoutArgs)
  FT_PROFILED(dropout_backward, DropoutArgs)
  FT_PROFILED(attention_forward, AttentionForwardArgs)
  FT_PROFILED(attention_backward, AttentionBackwardArgs)
  FT_PROFILED(pooler_forward, PoolerForwardArgs)
  FT_PROFILED(pooler_backward, PoolerBackwardArgs)
  FT_PROFILED(regression_head_forward, RegressionHeadForwardArgs)
  FT_PROFILED(regression_head_backward, RegressionHeadBackwardArgs)
  FT_PROFILED(adamw_step, AdamWArgs)
#undef FT_PROFILED
  double grad_norm_squared(const Real* g, int64_t n) override {
    double r = 0.0;
    timed("grad_norm_squared", [&] { r = inner_->grad_norm_squared(g, n); });
    return r;
  }
  void master_to_working(const Master* m, Real* w, int64_t n) override {
    timed("master_to_working", [&] { inner_->master_to_working(m, w, n); });
  }

  void reset() { seconds_.clear(); }
  void print(const std::string& title, double steps) const {
    double total = 0.0;
    for (const auto& [op, s] : seconds_) total += s;
    std::printf("profile %s: %.1f ms per step in ops\n", title.c_str(), total / steps * 1e3);
    for (const auto& [op, s] : seconds_)
      std::printf("  %-26s %9.2f ms  %5.1f%%\n", op.c_str(), s / steps * 1e3, 100.0 * s / total);
  }

 private:
  template <class F>
  void timed(const char* op, F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    inner_->synchronize();
    seconds_[op] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::unique_ptr<Backend<Real>> inner_;
  std::map<std::string, double> seconds_;
};

bool profiling() {
  const char* env = std::getenv("FTENGINE_PROFILE");
  return env && std::string(env) == "1";
}

template <class Real>
struct Trainer {
  std::unique_ptr<Backend<Real>> backend;
  ProfilingBackend<Real>* profiler = nullptr;
  std::unique_ptr<BertRegressor<Real>> model;
  ModelBatch batch;
  uint32_t step = 0;

  Trainer(const DeviceSpec& device, const BertConfig& config, int B, int T) {
    backend = make_backend<Real>(device);
    if (profiling()) {
      auto wrapped = std::make_unique<ProfilingBackend<Real>>(std::move(backend));
      profiler = wrapped.get();
      backend = std::move(wrapped);
    }
    const BertParamLayout layout = bert_param_layout(config);
    model = std::make_unique<BertRegressor<Real>>(*backend, config, TrainableGroups(layout.groups.size(), true));
    model->load_params(init_params(layout));
    batch = full_batch(B, T, config.vocab_size);
    run_step();  // allocates the activation arenas and warms the caches
    if (profiler) profiler->reset();
  }
  void report(const std::string& title, const benchmark::State& state) const {
    if (profiler) profiler->print(title, static_cast<double>(state.iterations()));
  }
  void run_step() {
    const DropoutRates rates{0.1f, 0.1f, 0.1f};
    AdamWSettings adamw;
    adamw.weight_decay = 0.01f;
    model->zero_grad();
    model->forward(batch, /*training=*/true, rates, 42, step);
    model->backward();
    const double coef = clip_coefficient(model->grad_norm(), 1.0);
    model->optimizer_step(adamw, 2e-5f, static_cast<float>(coef));
    backend->synchronize();
    ++step;
  }
};

double flops_per_token(const BertConfig& c, int T) {
  return 6.0 * matmul_params(c) + 12.0 * c.num_hidden_layers * T * c.hidden_size;
}

void BM_TrainStepCpu(benchmark::State& state, ModelShape shape, int B, int T) {
  const BertConfig config = config_for(shape);
  Trainer<float> trainer(DeviceSpec{}, config, B, T);
  for (auto _ : state) trainer.run_step();
  const double tokens = static_cast<double>(B) * T;
  state.counters["tokens_per_s"] = benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP_per_s"] = benchmark::Counter(tokens * flops_per_token(config, T) * 1e-9,
                                                     benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_GiB"] = static_cast<double>(trainer.model->peak_memory()) / (1ull << 30);
  trainer.report(std::string("cpu_fp32/") + shape.name, state);
}

#ifdef FTENGINE_HAVE_CUDA
// Dense peak TFLOP/s of the GPU: {bf16 tensor cores, fp32 non-tensor}; SXM parts.
bool peak_tflops(bool bf16, double* out) {
  if (const char* env = std::getenv("FTENGINE_PEAK_TFLOPS")) {
    *out = std::atof(env);
    return *out > 0.0;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return false;
  const std::string name = prop.name;
  struct Peak {
    const char* name;
    double bf16, fp32;
  };
  for (const Peak& p : {Peak{"H200", 989.4, 66.9}, Peak{"H100", 989.4, 66.9}, Peak{"A100", 312.0, 19.5},
                        Peak{"L40S", 362.1, 91.6}, Peak{"A10", 125.0, 31.2}}) {
    if (name.find(p.name) != std::string::npos) {
      *out = bf16 ? p.bf16 : p.fp32;
      return true;
    }
  }
  return false;
}

template <class Real>
void BM_TrainStepCuda(benchmark::State& state, ModelShape shape, int B, int T) {
  const BertConfig config = config_for(shape);
  Trainer<Real> trainer(DeviceSpec{DeviceSpec::Kind::Cuda, 0}, config, B, T);
  for (auto _ : state) trainer.run_step();
  const double tokens = static_cast<double>(B) * T;
  state.counters["tokens_per_s"] = benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
  double peak = 0.0;
  if (peak_tflops(std::is_same_v<Real, bf16>, &peak))
    state.counters["MFU"] = benchmark::Counter(tokens * flops_per_token(config, T) / (peak * 1e12),
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_GiB"] = static_cast<double>(trainer.model->peak_memory()) / (1ull << 30);
  trainer.report(std::string(std::is_same_v<Real, bf16> ? "cuda_bf16/" : "cuda_fp32/") + shape.name + "/T" +
                     std::to_string(T),
                 state);
}
#endif

void register_all() {
  for (const ModelShape& s : {kMiniLM, kBertBase}) {
    benchmark::RegisterBenchmark((std::string("train_step/cpu_fp32/") + s.name + "/T128/B8").c_str(),
                                 BM_TrainStepCpu, s, 8, 128)
        ->Unit(benchmark::kMillisecond)
        ->MeasureProcessCPUTime()  // CPU column: every thread's CPU time (OpenMP and OpenBLAS)
        ->UseRealTime();
  }
#ifdef FTENGINE_HAVE_CUDA
  if (cuda_device_count() > 0) {
    for (const ModelShape& s : {kMiniLM, kBertBase}) {
      for (int T : {128, 256, 512}) {
        const std::string suffix = std::string(s.name) + "/T" + std::to_string(T) + "/B32";
        benchmark::RegisterBenchmark(("train_step/cuda_fp32/" + suffix).c_str(), BM_TrainStepCuda<float>, s, 32, T)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
        benchmark::RegisterBenchmark(("train_step/cuda_bf16/" + suffix).c_str(), BM_TrainStepCuda<bf16>, s, 32, T)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      }
    }
  }
#endif
}

}  // namespace
}  // namespace ft

int main(int argc, char** argv) {
  // Debian's OpenBLAS falls back to SSE3 kernels on recent Xeons; this re-executes the benchmark
  // with OPENBLAS_CORETYPE set when that happened (core/cpu/blas_core_type.h).
  ft::cpu::reexec_with_native_blas_kernels(argv);
  benchmark::AddCustomContext("openblas_core", ft::cpu::blas_core_name());
  ft::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
