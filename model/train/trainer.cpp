#include "model/train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/backend_registry.h"
#include "core/error.h"
#include "core/float_decimal.h"
#include "core/interrupt.h"
#include "core/safetensors.h"
#include "core/shell_quote.h"
#include "model/data/batching.h"
#include "model/train/cached_head.h"
#include "model/train/inference.h"
#include "model/train/loss_curves_svg.h"
#include "model/train/output_dir.h"
#include "model/train/progress.h"
#include "model/train/schedule.h"
#include "model/train/train_state.h"

namespace fs = std::filesystem;

namespace ft {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

// FNV-1a over a set's token ids, segment ids, boundaries and targets: resuming on other data is an error.
std::string fingerprint(const EncodedSet& set) {
  uint64_t h = 1469598103934665603ull;
  const auto mix = [&](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  mix(set.ids.data(), set.ids.size() * sizeof(int32_t));
  mix(set.type_ids.data(), set.type_ids.size() * sizeof(int32_t));
  mix(set.offsets.data(), set.offsets.size() * sizeof(int64_t));
  mix(set.targets.data(), set.targets.size() * sizeof(float));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// The sets a Learner holds, in this order: train, valid, test.
size_t set_index(Split split) {
  FT_CHECK(split == Split::Train || split == Split::Valid || split == Split::Test, "no set for this split");
  return split == Split::Train ? 0 : split == Split::Valid ? 1 : 2;
}

// The parts of a run that the training loop drives: the full model, or the cached pooler/head.
template <class Real>
class Learner {
 public:
  virtual ~Learner() = default;
  virtual double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) = 0;
  virtual void zero_grad() = 0;
  virtual double grad_norm() = 0;
  virtual void step(const AdamWSettings& settings, float lr, float grad_scale) = 0;
  virtual std::vector<double> predict(Split split) = 0;  // Valid or Test: predictions for that set
  virtual StateDict params() = 0;
  virtual OptimizerState optimizer_state() = 0;
  virtual void load(const StateDict& params, const OptimizerState* optimizer) = 0;
};

template <class Real>
class FullLearner final : public Learner<Real> {
 public:
  FullLearner(BertRegressor<Real>& model, const std::vector<const EncodedSet*>& sets, int32_t pad_id,
              DropoutRates rates, uint64_t seed, int eval_batch_size)
      : model_(model), sets_(sets), pad_(pad_id), rates_(rates), seed_(seed), eval_batch_(eval_batch_size) {}
  double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) override {
    const ModelBatch batch = make_batch(*sets_[0], indices, pad_);
    const auto out = model_.forward(batch, /*training=*/true, rates_, seed_, micro_step);
    model_.backward(loss_scale);
    return out.loss;
  }
  void zero_grad() override { model_.zero_grad(); }
  double grad_norm() override { return model_.grad_norm(); }
  void step(const AdamWSettings& s, float lr, float grad_scale) override { model_.optimizer_step(s, lr, grad_scale); }
  std::vector<double> predict(Split split) override {
    return predict_set(model_, *sets_[set_index(split)], eval_batch_, pad_);
  }
  StateDict params() override { return model_.params_to_host(); }
  OptimizerState optimizer_state() override { return model_.optimizer_state(); }
  void load(const StateDict& params, const OptimizerState* optimizer) override {
    model_.load_params(params);
    if (optimizer) model_.set_optimizer_state(*optimizer);
  }

 private:
  BertRegressor<Real>& model_;
  std::vector<const EncodedSet*> sets_;
  int32_t pad_;
  DropoutRates rates_;
  uint64_t seed_;
  int eval_batch_;
};

template <class Real>
class CachedLearner final : public Learner<Real> {
 public:
  CachedLearner(Backend<Real>& backend, BertRegressor<Real>& model, const std::vector<const EncodedSet*>& sets,
                int32_t pad_id, float classifier_p, uint64_t seed, int eval_batch_size)
      : head_(backend, model, sets, eval_batch_size, pad_id), p_(classifier_p), seed_(seed), eval_batch_(eval_batch_size) {}
  double train_micro(const std::vector<int64_t>& indices, uint32_t micro_step, float loss_scale) override {
    return head_.train_micro(0, indices, p_, seed_, micro_step, loss_scale);
  }
  void zero_grad() override { head_.zero_grad(); }
  double grad_norm() override { return head_.grad_norm(); }
  void step(const AdamWSettings& s, float lr, float grad_scale) override { head_.optimizer_step(s, lr, grad_scale); }
  std::vector<double> predict(Split split) override {
    return head_.predict(static_cast<int>(set_index(split)), eval_batch_);
  }
  StateDict params() override { return head_.params_to_host(); }
  OptimizerState optimizer_state() override { return head_.optimizer_state(); }
  void load(const StateDict& params, const OptimizerState* optimizer) override {
    head_.load_params(params);
    if (optimizer) head_.set_optimizer_state(*optimizer);
  }

 private:
  CachedHead<Real> head_;
  float p_;
  uint64_t seed_;
  int eval_batch_;
};

std::vector<std::string> group_names(const BertParamLayout& layout, const TrainableGroups& t, bool value) {
  std::vector<std::string> r;
  for (size_t g = 0; g < layout.groups.size(); ++g)
    if (t[g] == value) r.push_back(layout.groups[g].name);
  return r;
}

std::string join(const std::vector<std::string>& v) {
  std::string r;
  for (const auto& s : v) r += (r.empty() ? "" : ", ") + s;
  return r.empty() ? "none" : r;
}

// Model directory: Hugging Face's files plus ftengine_training.json. Built beside `dir` and swapped
// into place whole, so that best/ and last/ hold one complete model at every moment and never a
// temporary file.
void save_model_dir(const std::string& dir, const BertConfig& config, const StateDict& params,
                    const std::string& tokenizer_dir, const nlohmann::json& info) {
  const std::string staging = staging_path(dir);
  std::error_code ec;
  fs::remove_all(staging, ec);
  save_hf_model_dir(staging, config, params, tokenizer_dir);
  write_file_atomically((fs::path(staging) / kTrainingInfoFile).string(), info.dump(2) + "\n");
  replace_directory(staging, dir);
}

// The command that continues this run from `checkpoint`: the run's own command line with --resume
// appended (a repeated flag takes its last value, so an earlier --resume is overridden).
std::string resume_command(const TrainSettings& s, const std::string& checkpoint) {
  if (s.command_line.empty()) return "the same settings with --resume " + shell_quoted(checkpoint);
  return s.command_line + " --resume " + shell_quoted(checkpoint);
}

void warn(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "ftengine: warning: %s\n", message.c_str());
}

nlohmann::json nullable(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

template <class Real>
TrainResult run_training(const TrainSettings& s, const DataSplits& data, const DeviceSpec& device) {
  const fs::path out(s.output_dir);
  TrainResult result;

  // ---- output directory: one writer at a time, no run replaced by accident, no stale temporaries
  const OutputDirLock lock(s.output_dir);
  const bool resuming = !s.resume.empty();
  if (const int stale = remove_stale_temporaries(s.output_dir))
    std::printf("%s: removed %d temporary file(s) left by an interrupted run\n", s.output_dir.c_str(), stale);
  if (!resuming) {
    std::string previous = describe_finished_run(s.output_dir);
    if (const std::string ck = latest_checkpoint(s.output_dir); !ck.empty())
      previous += (previous.empty() ? "" : ", ") + fs::path(ck).filename().string() + "/";
    if (!previous.empty()) {
      FT_CHECK(s.overwrite, s.output_dir, " holds the outputs of another run (", previous,
               "); continue it with --resume ", s.output_dir, " if it was interrupted, replace it with --overwrite, "
               "or choose another --output-dir");
      remove_previous_run(s.output_dir);
      std::printf("%s: replacing the previous run (removed %s)\n", s.output_dir.c_str(), previous.c_str());
    }
  }

  // ---- model and tokenizer (the loader warns on stderr about tensors it initialises: keep the order)
  std::fflush(stdout);
  BertCheckpoint ckpt = load_bert_checkpoint(s.model, s.seed, s.model_config);
  BertConfig config = ckpt.config;
  if (s.hidden_dropout) config.hidden_dropout_prob = *s.hidden_dropout;
  if (s.attention_dropout) config.attention_probs_dropout_prob = *s.attention_dropout;
  if (s.classifier_dropout) config.classifier_dropout = *s.classifier_dropout;
  config.validate("dropout settings");
  const DropoutRates rates = DropoutRates::from_config(config);
  const std::string tok_dir = tokenizer_dir_for(s.model, s.tokenizer);
  const BertTokenizer tokenizer = BertTokenizer::from_dir(tok_dir);
  check_tokenizer_fits(tokenizer, config, tok_dir);
  FT_CHECK(s.max_length >= 3 && s.max_length <= config.max_position_embeddings, "--max-length ", s.max_length,
           ": must be in [3, ", config.max_position_embeddings, "] (the model's max_position_embeddings)");
  std::printf("model: %s (%d layers, hidden %d, %d heads, vocabulary %d)\n", ckpt.source.c_str(),
              config.num_hidden_layers, config.hidden_size, config.num_attention_heads, config.vocab_size);

  // ---- data
  FT_CHECK(!data.train.empty(), "no training examples");
  for (const auto* part : {&data.train, &data.valid, &data.test})
    for (const Example& ex : *part)
      FT_CHECK(std::isfinite(ex.target), "line ", ex.line, ": example without a target");
  std::printf("data: %s\n", data.how.c_str());
  const EncodedSet train = encode_examples(tokenizer, data.train, s.max_length, "train");
  const EncodedSet valid = encode_examples(tokenizer, data.valid, s.max_length, "valid");
  const EncodedSet test = encode_examples(tokenizer, data.test, s.max_length, "test");
  const std::vector<const EncodedSet*> sets = {&train, &valid, &test};
  std::printf("%s\n", describe_lengths(length_stats(train), "  train").c_str());
  if (valid.size()) std::printf("%s\n", describe_lengths(length_stats(valid), "  valid").c_str());
  if (test.size()) std::printf("%s\n", describe_lengths(length_stats(test), "  test").c_str());
  result.has_valid = valid.size() > 0;
  result.has_test = test.size() > 0;
  if (!result.has_valid)
    warn("the validation split is empty (" + data.how + "): no evaluation during training and no best model; "
         "last/ is the result");
  if (!result.has_test) warn("the test split is empty (" + data.how + "): no test metrics");

  // ---- what trains, and how
  const BertParamLayout layout = bert_param_layout(config);
  const TrainableGroups trainable = parse_trainable(layout, s.train_groups, s.freeze_groups);
  const bool encoder_dropout = rates.hidden > 0.0f || rates.attention > 0.0f;
  const bool head_only = CachedHead<Real>::supports(layout, trainable);
  FT_CHECK(s.frozen_dropout || head_only, "--frozen-dropout off needs the trainable groups to be the head, or the "
           "pooler and the head (then the frozen encoder's outputs are cached); trainable here: ",
           join(group_names(layout, trainable, true)));
  const bool cached = s.feature_cache && head_only && (!encoder_dropout || !s.frozen_dropout);

  BatchingOptions bopt;
  bopt.batch_size = s.batch_size;
  bopt.shuffle = s.shuffle;
  bopt.bucket_by_length = s.bucket_by_length;
  const int64_t micro_per_epoch = batches_per_epoch(train.size(), s.batch_size);
  const int64_t steps_per_epoch = std::max<int64_t>(1, micro_per_epoch / s.grad_accum);
  // HF's rule for fractional epochs: max_steps = ceil(num_train_epochs x updates per epoch).
  const int64_t total_steps = s.max_steps > 0 ? s.max_steps
                                              : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                                                         s.epochs * static_cast<double>(steps_per_epoch))));
  const int64_t warmup = s.warmup_steps > 0 ? s.warmup_steps
                                            : static_cast<int64_t>(std::ceil(s.warmup_ratio * static_cast<double>(total_steps)));
  FT_CHECK(total_steps <= int64_t{1} << 31, "total steps ", total_steps, " too many");

  nlohmann::json settings = {
      {"batch_size", s.batch_size}, {"grad_accum", s.grad_accum}, {"epochs", s.epochs},
      {"max_steps", s.max_steps}, {"total_steps", total_steps}, {"warmup_steps", warmup},
      {"lr", s.lr}, {"adam_beta1", shortest_decimal(s.adamw.beta1)}, {"adam_beta2", shortest_decimal(s.adamw.beta2)},
      {"adam_eps", shortest_decimal(s.adamw.eps)}, {"weight_decay", shortest_decimal(s.adamw.weight_decay)},
      {"max_grad_norm", s.max_grad_norm}, {"hidden_dropout", shortest_decimal(rates.hidden)},
      {"attention_dropout", shortest_decimal(rates.attention)}, {"classifier_dropout", shortest_decimal(rates.classifier)}, {"frozen_dropout", s.frozen_dropout}, {"feature_cache", cached},
      {"trainable", group_names(layout, trainable, true)}, {"seed", s.seed}, {"shuffle", s.shuffle},
      {"bucket_by_length", s.bucket_by_length}, {"max_length", s.max_length}, {"eval_every", s.eval_every},
      {"log_every", s.log_every}, {"early_stopping_patience", s.early_stopping_patience},
      {"precision", std::is_same_v<Real, bf16> ? "bf16" : "fp32"}, {"config", bert_config_to_json(config)},
      {"train_data", fingerprint(train)}, {"valid_data", fingerprint(valid)}, {"test_data", fingerprint(test)}};

  TrainCheckpoint resumed;
  if (resuming) {
    resumed = load_train_checkpoint(s.resume);
    check_resume_settings(resumed.settings, settings, s.resume);
  }
  {
    nlohmann::json run = settings;
    run["model"] = s.model;
    run["tokenizer"] = tok_dir;
    run["data"] = data.how;
    run["device"] = device.str();
    run["steps_per_epoch"] = steps_per_epoch;
    run["train_examples"] = train.size();
    run["valid_examples"] = valid.size();
    run["test_examples"] = test.size();
    write_file_atomically((out / "run_config.json").string(), run.dump(2) + "\n");
  }

  // ---- the model on its backend
  auto backend = make_backend<Real>(device);
  BertRegressor<Real> model(*backend, config, trainable);
  model.load_params(resuming ? resumed.params : ckpt.params);
  ckpt.params = StateDict{};  // the model holds them now
  std::printf("device: %s, precision %s; training %s (%lld parameters), frozen: %s\n", device.str().c_str(),
              std::is_same_v<Real, bf16> ? "bf16" : "fp32", join(group_names(layout, trainable, true)).c_str(),
              static_cast<long long>(model.trainable_count()), join(group_names(layout, trainable, false)).c_str());
  std::printf("dropout: hidden %g, attention %g, classifier %g%s\n", rates.hidden, rates.attention, rates.classifier,
              !s.frozen_dropout ? " (off in the frozen layers)" : "");
  std::unique_ptr<Learner<Real>> learner;
  if (cached) {
    const auto t0 = Clock::now();
    std::printf("caching the frozen encoder's outputs for %lld examples ...\n",
                static_cast<long long>(train.size() + valid.size() + test.size()));
    std::fflush(stdout);
    learner = std::make_unique<CachedLearner<Real>>(*backend, model, sets, tokenizer.pad_id(), rates.classifier,
                                                    s.seed, s.eval_batch_size);
    result.cache_seconds = seconds_since(t0);
    std::printf("  done in %s; every epoch now trains the head alone\n",
                ProgressReporter::format_duration(result.cache_seconds).c_str());
  } else {
    learner = std::make_unique<FullLearner<Real>>(model, sets, tokenizer.pad_id(), rates, s.seed, s.eval_batch_size);
    // The activation arenas, sized once for the longest batches: no step allocates.
    const auto longest = [](const EncodedSet& set) {
      int m = 0;
      for (int64_t i = 0; i < set.size(); ++i) m = std::max(m, static_cast<int>(set.length(i)));
      return m;
    };
    model.reserve(static_cast<int>(std::min<int64_t>(s.batch_size, train.size())), longest(train), s.eval_batch_size,
                  std::max(longest(valid), longest(test)));
  }
  TrainPosition pos;
  const std::string log_path = (out / "train_log.jsonl").string();
  const std::string best_dir = (out / "best").string(), last_dir = (out / "last").string();
  const auto write_log = [&] {
    std::string text;
    for (const auto& rec : pos.log_history) text += rec.dump() + "\n";
    write_file_atomically(log_path, text);
  };
  const auto model_info = [&](int64_t step) {
    return nlohmann::json{{"max_length", s.max_length}, {"step", step}, {"trained_by", "ftengine train"},
                          {"data", data.how}, {"base_model", s.model}};
  };
  if (resuming) {
    learner->load(resumed.params, &resumed.optimizer);
    pos = resumed.position;
    resumed.params = StateDict{};
    // The best model of the checkpoint's time: best/ may be missing (another output directory) or
    // hold a model from after the checkpoint.
    if (!resumed.best_model_file.empty()) {
      StateDict best;
      for (auto& [name, t] : read_safetensors(resumed.best_model_file).tensors) best.tensors.emplace_back(name, t.clone());
      save_model_dir(best_dir, config, best, tok_dir, model_info(pos.best_step));
    }
    std::printf("resumed from %s at step %lld (epoch %lld)\n", s.resume.c_str(),
                static_cast<long long>(pos.global_step), static_cast<long long>(pos.epoch + 1));
  }
  std::printf("schedule: %lld steps (%lld per epoch, batch %d x %d accumulated), lr %g, warmup %lld, "
              "evaluation every %lld steps and each epoch end\n",
              static_cast<long long>(total_steps), static_cast<long long>(steps_per_epoch), s.batch_size, s.grad_accum,
              s.lr, static_cast<long long>(warmup), static_cast<long long>(s.eval_every));
  std::fflush(stdout);

  write_log();

  // ---- the loop
  // A resumable checkpoint of the state after `step`; returns its directory.
  const auto save_checkpoint = [&](int64_t step) {
    TrainCheckpoint ck{pos, settings, learner->params(), learner->optimizer_state(),
                       pos.best_step >= 0 ? (fs::path(best_dir) / "model.safetensors").string() : ""};
    const std::string dir = (out / ("checkpoint-" + std::to_string(step))).string();
    save_train_checkpoint(dir, ck, std::is_same_v<Real, double> ? DType::F64 : DType::F32);
    prune_checkpoints(s.output_dir, s.keep_checkpoints);
    return dir;
  };
  // SIGINT / SIGTERM from here to the loop's end stop the run after the current step, saved.
  std::optional<InterruptScope> interrupts;
  interrupts.emplace();
  const bool bar =
      s.progress == ProgressMode::Auto ? ProgressReporter::stderr_is_terminal() : s.progress == ProgressMode::Bar;
  ProgressReporter progress(total_steps, pos.global_step, bar);
  const float loss_scale = 1.0f / static_cast<float>(s.grad_accum);
  bool stop = false;
  while (!stop && pos.global_step < total_steps) {
    const int64_t epoch = pos.epoch;
    const auto batches = epoch_batches(train, bopt, s.seed, epoch);
    const int64_t micro_in_update = micro_per_epoch < s.grad_accum ? micro_per_epoch : s.grad_accum;
    // Runs until the epoch's end moves pos to the next epoch (whose order is drawn above, anew).
    while (!stop && pos.epoch == epoch && pos.global_step < total_steps) {
      const auto t0 = Clock::now();
      learner->zero_grad();
      for (int64_t k = 0; k < micro_in_update; ++k) {
        const auto& indices = batches[static_cast<size_t>(pos.update_in_epoch * s.grad_accum + k)];
        const double loss = learner->train_micro(indices, static_cast<uint32_t>(pos.micro_step), loss_scale);
        ++pos.micro_step;
        FT_CHECK(std::isfinite(loss), "step ", pos.global_step + 1, ": the training loss is not finite (", loss,
                 "); lower the learning rate");
        pos.interval_loss_sum += loss;
        ++pos.interval_loss_count;
        for (int64_t i : indices) pos.interval_tokens += train.length(i);
      }
      const double norm = learner->grad_norm();
      const double coef = clip_coefficient(norm, s.max_grad_norm);
      FT_CHECK(std::isfinite(coef), "step ", pos.global_step + 1, ": the gradient norm is not finite (", norm,
               "); lower the learning rate");
      const double lr = linear_schedule_lr(s.lr, pos.global_step, warmup, total_steps);
      learner->step(s.adamw, static_cast<float>(lr), static_cast<float>(coef));
      ++pos.global_step;
      ++pos.update_in_epoch;
      pos.last_grad_norm = norm;
      const double dt = seconds_since(t0);
      pos.interval_seconds += dt;
      pos.train_seconds += dt;
      progress.update(pos.global_step,
                      pos.interval_loss_count ? pos.interval_loss_sum / static_cast<double>(pos.interval_loss_count) : 0,
                      pos.interval_seconds > 0 ? static_cast<double>(pos.interval_tokens) / pos.interval_seconds : 0);

      const int64_t step = pos.global_step;
      const bool epoch_end = pos.update_in_epoch == steps_per_epoch;
      const bool final = step == total_steps;
      const bool evaluate = result.has_valid && ((s.eval_every > 0 && step % s.eval_every == 0) || epoch_end || final);
      const bool log = evaluate || final || (s.log_every > 0 && step % s.log_every == 0);
      if (log) {
        nlohmann::json rec;
        rec["step"] = step;
        rec["epoch"] = static_cast<double>(step) / static_cast<double>(steps_per_epoch);
        rec["lr"] = lr;
        rec["train_loss"] = pos.interval_loss_count
                                ? nullable(pos.interval_loss_sum / static_cast<double>(pos.interval_loss_count))
                                : nlohmann::json(nullptr);
        rec["valid_loss"] = nullptr;
        rec["grad_norm"] = nullable(norm);
        rec["tokens_per_s"] =
            pos.interval_seconds > 0 ? static_cast<double>(pos.interval_tokens) / pos.interval_seconds : 0.0;
        std::string note;
        if (evaluate) {
          progress.status("evaluating ...");
          const std::vector<double> pred = learner->predict(Split::Valid);
          const RegressionMetrics m = regression_metrics(pred, std::vector<double>(valid.targets.begin(), valid.targets.end()), "validation");
          rec["valid_loss"] = nullable(m.mse);
          if (m.mse < pos.best_valid_loss) {
            pos.best_valid_loss = m.mse;
            pos.best_step = step;
            pos.evals_without_improvement = 0;
            save_model_dir(best_dir, config, learner->params(), tok_dir, model_info(step));
            note = "  (best, saved)";
          } else {
            ++pos.evals_without_improvement;
            if (s.early_stopping_patience > 0 && pos.evals_without_improvement >= s.early_stopping_patience) {
              stop = true;
              result.stopped_early = true;
              note = "  (no improvement in " + std::to_string(pos.evals_without_improvement) +
                     " evaluations: stopping early)";
            }
          }
        }
        rec["train_seconds"] = pos.train_seconds;
        pos.log_history.push_back(rec);
        write_log();
        std::ostringstream line;
        line << "step " << step << "/" << total_steps << "  epoch " << fmt("%.2f", rec["epoch"].get<double>())
             << "  lr " << fmt("%.3g", lr) << "  train loss "
             << (rec["train_loss"].is_null() ? std::string("-") : fmt("%.4f", rec["train_loss"].get<double>()));
        if (evaluate) line << "  valid loss " << fmt("%.4f", rec["valid_loss"].is_null() ? NAN : rec["valid_loss"].get<double>());
        line << "  grad norm " << fmt("%.3g", norm) << "  " << fmt("%.0f", rec["tokens_per_s"].get<double>())
             << " tok/s" << note;
        progress.line(line.str());
        pos.interval_loss_sum = 0;
        pos.interval_loss_count = 0;
        pos.interval_tokens = 0;
        pos.interval_seconds = 0;
      }
      if (epoch_end) {
        ++pos.epoch;
        pos.update_in_epoch = 0;
      }
      std::string saved;
      if (s.save_every > 0 && step % s.save_every == 0 && !final && !stop) {
        saved = save_checkpoint(step);
        progress.line("saved checkpoint " + saved);
      }
      if (const int sig = pending_interrupt(); sig != 0 && !final && !stop) {
        if (saved.empty()) saved = save_checkpoint(step);
        progress.finish();
        throw Interrupted(detail::concat("stopped by ", signal_name(sig), " after step ", step, " of ", total_steps,
                                         "; the run is saved in ", saved, "\nresume with: ", resume_command(s, saved)),
                          sig);
      }
    }
  }
  progress.finish();
  interrupts.reset();  // from here on a signal stops at once; every write is atomic
  result.steps = pos.global_step;
  result.train_seconds = pos.train_seconds;
  result.best_step = pos.best_step;

  // ---- the final model, the evaluated model, metrics and outputs
  save_model_dir(last_dir, config, learner->params(), tok_dir, model_info(pos.global_step));
  result.last_dir = last_dir;
  result.evaluated_model = "last";
  if (pos.best_step >= 0) {
    result.best_dir = best_dir;
    if (s.test_model == "best" && pos.best_step != pos.global_step) {
      learner->load(load_bert_checkpoint(best_dir, s.seed).params, nullptr);
      result.evaluated_model = "best";
    } else if (s.test_model == "best") {
      result.evaluated_model = "best";  // the last step was the best one
    }
  }
  nlohmann::json metrics = {{"evaluated_model", result.evaluated_model},
                            {"best_step", pos.best_step >= 0 ? nlohmann::json(pos.best_step) : nlohmann::json(nullptr)},
                            {"best_valid_loss", nullable(pos.best_valid_loss)},
                            {"steps", pos.global_step},
                            {"epochs", static_cast<double>(pos.global_step) / static_cast<double>(steps_per_epoch)},
                            {"stopped_early", result.stopped_early},
                            {"train_seconds", pos.train_seconds},
                            {"cache_seconds", result.cache_seconds},
                            {"train_examples", train.size()},
                            {"data", data.how},
                            {"model", s.model},
                            {"device", device.str()}};
  std::vector<double> valid_pred, test_pred;
  std::vector<const std::vector<Example>*> parts;
  std::vector<const std::vector<double>*> preds;
  if (result.has_valid) {
    valid_pred = learner->predict(Split::Valid);
    result.valid = regression_metrics(valid_pred, std::vector<double>(valid.targets.begin(), valid.targets.end()), "validation");
    metrics["valid"] = metrics_json(result.valid);
  }
  if (result.has_test) {
    test_pred = learner->predict(Split::Test);
    result.test = regression_metrics(test_pred, std::vector<double>(test.targets.begin(), test.targets.end()), "test");
    metrics["test"] = metrics_json(result.test);
  }
  // Targets and predictions in the CSV are the examples' own (double) targets; metrics use the same.
  if (result.has_valid) {
    parts.push_back(&data.valid);
    preds.push_back(&valid_pred);
  }
  if (result.has_test) {
    parts.push_back(&data.test);
    preds.push_back(&test_pred);
  }
  result.metrics_path = (out / "metrics.json").string();
  write_file_atomically(result.metrics_path, metrics.dump(2) + "\n");
  if (!parts.empty()) {
    result.predictions_path = (out / "predictions.csv").string();
    write_predictions_csv(result.predictions_path, parts, preds, /*with_split=*/true, /*with_targets=*/true);
  }
  LossCurves curves;
  curves.title = "ftengine: training and validation loss";
  curves.subtitle = (s.data_label.empty() ? data.how : s.data_label) + " | " + fs::path(s.model).filename().string() +
                    " | lr " + fmt("%g", s.lr) + ", batch " + std::to_string(s.batch_size) + ", max length " +
                    std::to_string(s.max_length);
  for (const auto& rec : pos.log_history) {
    const int64_t step = rec["step"].get<int64_t>();
    if (!rec["train_loss"].is_null()) curves.train.push_back({step, rec["train_loss"].get<double>()});
    if (!rec["valid_loss"].is_null()) curves.valid.push_back({step, rec["valid_loss"].get<double>()});
  }
  curves.best_step = pos.best_step;
  result.plot_path = (out / "loss_curves.svg").string();
  write_loss_curves_svg(curves, result.plot_path);
  result.log_path = log_path;
  return result;
}

}  // namespace

TrainResult train_regressor(const TrainSettings& s, const DataSplits& data) {
  check_train_settings(s);
  set_cpu_threads(s.threads);
  const Precision precision = parse_precision(s.precision);
  const DeviceSpec device = resolve_device(s.device, precision);
  return precision == Precision::Fp32 ? run_training<float>(s, data, device) : run_training<bf16>(s, data, device);
}

}  // namespace ft
