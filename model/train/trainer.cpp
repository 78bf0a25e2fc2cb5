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
#include "model/train/learner.h"
#include "model/train/inference.h"
#include "model/train/loss_curves_svg.h"
#include "model/train/output_dir.h"
#include "model/train/progress.h"
#include "model/train/schedule.h"
#include "model/train/train_settings_json.h"
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
                    const std::string& tokenizer_dir, const TrainingRecord& record) {
  const std::string staging = staging_path(dir);
  std::error_code ec;
  fs::remove_all(staging, ec);
  save_hf_model_dir(staging, config, params, tokenizer_dir);
  write_training_record(staging, record);
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

// The run's log: the records (part of the resumable position), their JSONL file and the line
// printed for each.
class TrainLog {
 public:
  TrainLog(std::string path, nlohmann::json& history) : path_(std::move(path)), history_(history) {}

  void write() const {
    std::string text;
    for (const auto& rec : history_) text += rec.dump() + "\n";
    write_file_atomically(path_, text);
  }

  // Appends `rec`, rewrites the file and prints the record's line: its validation loss when
  // `evaluated`, then `note`.
  void add(nlohmann::json rec, bool evaluated, int64_t total_steps, const std::string& note,
           ProgressReporter& progress) {
    history_.push_back(rec);
    write();
    std::ostringstream line;
    line << "step " << rec["step"].get<int64_t>() << "/" << total_steps << "  epoch "
         << fmt("%.2f", rec["epoch"].get<double>()) << "  lr " << fmt("%.3g", rec["lr"].get<double>())
         << "  train loss "
         << (rec["train_loss"].is_null() ? std::string("-") : fmt("%.4f", rec["train_loss"].get<double>()));
    if (evaluated)
      line << "  valid loss " << fmt("%.4f", rec["valid_loss"].is_null() ? NAN : rec["valid_loss"].get<double>());
    line << "  grad norm " << fmt("%.3g", rec["grad_norm"].is_null() ? NAN : rec["grad_norm"].get<double>()) << "  "
         << fmt("%.0f", rec["tokens_per_s"].get<double>()) << " tok/s" << note;
    progress.line(line.str());
  }

  const nlohmann::json& history() const { return history_; }

 private:
  std::string path_;
  nlohmann::json& history_;
};

// One training run, in the phases run() names.
template <class Real>
class TrainingRun {
 public:
  TrainingRun(const TrainSettings& s, const DataSplits& data, const DeviceSpec& device)
      : s_(s), data_(data), device_(device), out_(s.output_dir), lock_(s.output_dir),
        best_dir_((out_ / "best").string()), last_dir_((out_ / "last").string()),
        log_((out_ / "train_log.jsonl").string(), pos_.log_history) {}

  TrainResult run() {
    claim_output_dir();
    load_model_and_data();
    plan();
    build_learner();
    train_loop();
    write_outputs();
    return result_;
  }

 private:
  // ---- the output directory: one writer (the lock, taken on construction), no previous run
  // replaced by accident, no temporaries of a killed run left
  void claim_output_dir() {
    if (const int stale = remove_stale_temporaries(s_.output_dir))
      std::printf("%s: removed %d temporary file(s) left by an interrupted run\n", s_.output_dir.c_str(), stale);
    if (resuming()) return;
    std::string previous = describe_finished_run(s_.output_dir);
    if (const std::string ck = latest_checkpoint(s_.output_dir); !ck.empty())
      previous += (previous.empty() ? "" : ", ") + fs::path(ck).filename().string() + "/";
    if (previous.empty()) return;
    FT_CHECK(s_.overwrite, s_.output_dir, " holds the outputs of another run (", previous,
             "); continue it with --resume ", s_.output_dir, " if it was interrupted, replace it with --overwrite, "
             "or choose another --output-dir");
    remove_previous_run(s_.output_dir);
    std::printf("%s: replacing the previous run (removed %s)\n", s_.output_dir.c_str(), previous.c_str());
  }

  // ---- the checkpoint, the tokenizer, and the tokenised sets with their length statistics
  void load_model_and_data() {
    std::fflush(stdout);  // the loader warns on stderr about tensors it initialises: keep the order
    ckpt_ = load_bert_checkpoint(s_.model, s_.seed, s_.model_config);
    config_ = ckpt_.config;
    if (s_.hidden_dropout) config_.hidden_dropout_prob = *s_.hidden_dropout;
    if (s_.attention_dropout) config_.attention_probs_dropout_prob = *s_.attention_dropout;
    if (s_.classifier_dropout) config_.classifier_dropout = *s_.classifier_dropout;
    config_.validate("dropout settings");
    rates_ = DropoutRates::from_config(config_);
    tok_dir_ = tokenizer_dir_for(s_.model, s_.tokenizer);
    tokenizer_ = std::make_unique<BertTokenizer>(BertTokenizer::from_dir(tok_dir_));
    check_tokenizer_fits(*tokenizer_, config_, tok_dir_);
    config_.check_max_length(s_.max_length);
    std::printf("model: %s (%d layers, hidden %d, %d heads, vocabulary %d)\n", ckpt_.source.c_str(),
                config_.num_hidden_layers, config_.hidden_size, config_.num_attention_heads, config_.vocab_size);

    FT_CHECK(!data_.train.empty(), "no training examples");
    for (const auto* part : {&data_.train, &data_.valid, &data_.test})
      for (const Example& ex : *part) FT_CHECK(std::isfinite(ex.target), "line ", ex.line, ": example without a target");
    std::printf("data: %s\n", data_.how.c_str());
    train_ = encode_examples(*tokenizer_, data_.train, s_.max_length, "train");
    valid_ = encode_examples(*tokenizer_, data_.valid, s_.max_length, "valid");
    test_ = encode_examples(*tokenizer_, data_.test, s_.max_length, "test");
    std::printf("%s\n", describe_lengths(length_stats(train_), "  train").c_str());
    if (valid_.size()) std::printf("%s\n", describe_lengths(length_stats(valid_), "  valid").c_str());
    if (test_.size()) std::printf("%s\n", describe_lengths(length_stats(test_), "  test").c_str());
    result_.has_valid = valid_.size() > 0;
    result_.has_test = test_.size() > 0;
    if (!result_.has_valid)
      warn("the validation split is empty (" + data_.how + "): no evaluation during training and no best model; "
           "last/ is the result");
    if (!result_.has_test) warn("the test split is empty (" + data_.how + "): no test metrics");
  }

  // ---- what trains and how: groups, the cache, the schedule, the settings a resume must match
  void plan() {
    layout_ = bert_param_layout(config_);
    trainable_ = parse_trainable(layout_, s_.train_groups, s_.freeze_groups);
    const bool encoder_dropout = rates_.hidden > 0.0f || rates_.attention > 0.0f;
    const bool head_only = CachedHead<Real>::supports(layout_, trainable_);
    FT_CHECK(s_.frozen_dropout || head_only, "--frozen-dropout off needs the trainable groups to be the head, or the "
             "pooler and the head (then the frozen encoder's outputs are cached); trainable here: ",
             join(group_names(layout_, trainable_, true)));
    cached_ = s_.feature_cache && head_only && (!encoder_dropout || !s_.frozen_dropout);

    micro_per_epoch_ = batches_per_epoch(train_.size(), s_.batch_size);
    steps_per_epoch_ = std::max<int64_t>(1, micro_per_epoch_ / s_.grad_accum);
    // HF's rule for fractional epochs: max_steps = ceil(num_train_epochs x updates per epoch).
    total_steps_ = s_.max_steps > 0 ? s_.max_steps
                                    : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                                               s_.epochs * static_cast<double>(steps_per_epoch_))));
    warmup_ = s_.warmup_steps > 0 ? s_.warmup_steps
                                  : static_cast<int64_t>(std::ceil(s_.warmup_ratio * static_cast<double>(total_steps_)));
    FT_CHECK(total_steps_ <= int64_t{1} << 31, "total steps ", total_steps_, " too many");

    // Every setting (model/train/train_settings_json.h), with what was left open resolved.
    nlohmann::json run = s_;
    run["warmup_steps"] = warmup_;
    run["hidden_dropout"] = shortest_decimal(rates_.hidden);
    run["attention_dropout"] = shortest_decimal(rates_.attention);
    run["classifier_dropout"] = shortest_decimal(rates_.classifier);
    run["feature_cache"] = cached_;
    run["trainable"] = group_names(layout_, trainable_, true);
    run["precision"] = std::is_same_v<Real, bf16> ? "bf16" : "fp32";
    run["total_steps"] = total_steps_;
    run["config"] = bert_config_to_json(config_);
    run["train_data"] = fingerprint(train_);
    run["valid_data"] = fingerprint(valid_);
    run["test_data"] = fingerprint(test_);
    // What a resumed run must match: everything that changes the numbers.
    settings_ = run;
    for (const char* key : kSettingsFreeOnResume) settings_.erase(key);
    if (resuming()) {
      resumed_ = load_train_checkpoint(s_.resume);
      check_resume_settings(resumed_.settings, settings_, s_.resume);
    }
    run["tokenizer"] = tok_dir_;
    run["data"] = data_.how;
    run["device"] = device_.str();
    run["steps_per_epoch"] = steps_per_epoch_;
    run["train_examples"] = train_.size();
    run["valid_examples"] = valid_.size();
    run["test_examples"] = test_.size();
    write_file_atomically((out_ / "run_config.json").string(), run.dump(2) + "\n");
  }

  // ---- the model on its backend, and the learner that trains it (from the checkpoint on resume)
  void build_learner() {
    backend_ = make_backend<Real>(device_);
    model_ = std::make_unique<BertRegressor<Real>>(*backend_, config_, trainable_);
    model_->load_params(resuming() ? resumed_.params : ckpt_.params);
    ckpt_.params = StateDict{};  // the model holds them now
    std::printf("device: %s, precision %s; training %s (%lld parameters), frozen: %s\n", device_.str().c_str(),
                std::is_same_v<Real, bf16> ? "bf16" : "fp32", join(group_names(layout_, trainable_, true)).c_str(),
                static_cast<long long>(model_->trainable_count()),
                join(group_names(layout_, trainable_, false)).c_str());
    std::printf("dropout: hidden %g, attention %g, classifier %g%s\n", rates_.hidden, rates_.attention,
                rates_.classifier, !s_.frozen_dropout ? " (off in the frozen layers)" : "");
    const std::vector<const EncodedSet*> sets = {&train_, &valid_, &test_};
    if (cached_) {
      const auto t0 = Clock::now();
      std::printf("caching the frozen encoder's outputs for %lld examples ...\n",
                  static_cast<long long>(train_.size() + valid_.size() + test_.size()));
      std::fflush(stdout);
      learner_ = std::make_unique<CachedLearner<Real>>(*backend_, *model_, sets, tokenizer_->pad_id(),
                                                       rates_.classifier, s_.seed, s_.eval_batch_size);
      result_.cache_seconds = seconds_since(t0);
      std::printf("  done in %s; every epoch now trains the head alone\n",
                  ProgressReporter::format_duration(result_.cache_seconds).c_str());
    } else {
      learner_ = std::make_unique<FullLearner<Real>>(*model_, sets, tokenizer_->pad_id(), rates_, s_.seed,
                                                     s_.eval_batch_size);
      // The activation arenas, sized once for the longest batches: no step allocates.
      const auto longest = [](const EncodedSet& set) {
        int m = 0;
        for (int64_t i = 0; i < set.size(); ++i) m = std::max(m, static_cast<int>(set.length(i)));
        return m;
      };
      model_->reserve(static_cast<int>(std::min<int64_t>(s_.batch_size, train_.size())), longest(train_),
                      s_.eval_batch_size, std::max(longest(valid_), longest(test_)));
    }
    if (resuming()) {
      learner_->load(resumed_.params, &resumed_.optimizer);
      pos_ = resumed_.position;
      resumed_.params = StateDict{};
      // The best model of the checkpoint's time: best/ may be missing (another output directory) or
      // hold a model from after the checkpoint.
      if (!resumed_.best_model_file.empty()) {
        StateDict best;
        for (auto& [name, t] : read_safetensors(resumed_.best_model_file).tensors)
          best.tensors.emplace_back(name, t.clone());
        save_model_dir(best_dir_, config_, best, tok_dir_, model_info(pos_.best_step));
      }
      std::printf("resumed from %s at step %lld (epoch %lld)\n", s_.resume.c_str(),
                  static_cast<long long>(pos_.global_step), static_cast<long long>(pos_.epoch + 1));
    }
    std::printf("schedule: %lld steps (%lld per epoch, batch %d x %d accumulated), lr %g, warmup %lld, "
                "evaluation every %lld steps and each epoch end\n",
                static_cast<long long>(total_steps_), static_cast<long long>(steps_per_epoch_), s_.batch_size,
                s_.grad_accum, s_.lr, static_cast<long long>(warmup_), static_cast<long long>(s_.eval_every));
    std::fflush(stdout);
    log_.write();
  }

  // ---- the loop: optimizer steps, with logging, evaluation, checkpoints and the interrupt
  void train_loop() {
    // SIGINT / SIGTERM from here to the loop's end stop the run after the current step, saved.
    std::optional<InterruptScope> interrupts;
    interrupts.emplace();
    const bool bar = s_.progress == ProgressMode::Auto ? ProgressReporter::stderr_is_terminal()
                                                        : s_.progress == ProgressMode::Bar;
    ProgressReporter progress(total_steps_, pos_.global_step, bar);
    BatchingOptions bopt;
    bopt.batch_size = s_.batch_size;
    bopt.shuffle = s_.shuffle;
    bopt.bucket_by_length = s_.bucket_by_length;
    bool stop = false;
    while (!stop && pos_.global_step < total_steps_) {
      const int64_t epoch = pos_.epoch;
      const auto batches = epoch_batches(train_, bopt, s_.seed, epoch);
      // Runs until the epoch's end moves pos to the next epoch (whose order is drawn above, anew).
      while (!stop && pos_.epoch == epoch && pos_.global_step < total_steps_) {
        const double lr = optimizer_step(batches);
        progress.update(pos_.global_step,
                        pos_.interval_loss_count ? pos_.interval_loss_sum / static_cast<double>(pos_.interval_loss_count) : 0,
                        pos_.interval_seconds > 0 ? static_cast<double>(pos_.interval_tokens) / pos_.interval_seconds : 0);
        const int64_t step = pos_.global_step;
        const bool epoch_end = pos_.update_in_epoch == steps_per_epoch_;
        const bool final = step == total_steps_;
        const bool evaluate =
            result_.has_valid && ((s_.eval_every > 0 && step % s_.eval_every == 0) || epoch_end || final);
        if (evaluate || final || (s_.log_every > 0 && step % s_.log_every == 0))
          stop = log_and_evaluate(step, lr, evaluate, progress);
        if (epoch_end) {
          ++pos_.epoch;
          pos_.update_in_epoch = 0;
        }
        std::string saved;
        if (s_.save_every > 0 && step % s_.save_every == 0 && !final && !stop) {
          saved = save_checkpoint(step);
          progress.line("saved checkpoint " + saved);
        }
        if (const int sig = pending_interrupt(); sig != 0 && !final && !stop) {
          if (saved.empty()) saved = save_checkpoint(step);
          progress.finish();
          throw Interrupted(detail::concat("stopped by ", signal_name(sig), " after step ", step, " of ", total_steps_,
                                           "; the run is saved in ", saved, "\nresume with: ", resume_command(s_, saved)),
                            sig);
        }
      }
    }
    progress.finish();
    interrupts.reset();  // from here on a signal stops at once; every write is atomic
    result_.steps = pos_.global_step;
    result_.train_seconds = pos_.train_seconds;
    result_.best_step = pos_.best_step;
  }

  // One optimizer update from the epoch's next micro-batches; returns its learning rate.
  double optimizer_step(const std::vector<std::vector<int64_t>>& batches) {
    const auto t0 = Clock::now();
    const float loss_scale = 1.0f / static_cast<float>(s_.grad_accum);
    const int64_t micro_in_update = micro_per_epoch_ < s_.grad_accum ? micro_per_epoch_ : s_.grad_accum;
    learner_->zero_grad();
    for (int64_t k = 0; k < micro_in_update; ++k) {
      const auto& indices = batches[static_cast<size_t>(pos_.update_in_epoch * s_.grad_accum + k)];
      const double loss = learner_->train_micro(indices, static_cast<uint32_t>(pos_.micro_step), loss_scale);
      ++pos_.micro_step;
      FT_CHECK(std::isfinite(loss), "step ", pos_.global_step + 1, ": the training loss is not finite (", loss,
               "); lower the learning rate");
      pos_.interval_loss_sum += loss;
      ++pos_.interval_loss_count;
      for (int64_t i : indices) pos_.interval_tokens += train_.length(i);
    }
    const double norm = learner_->grad_norm();
    const double coef = clip_coefficient(norm, s_.max_grad_norm);
    FT_CHECK(std::isfinite(coef), "step ", pos_.global_step + 1, ": the gradient norm is not finite (", norm,
             "); lower the learning rate");
    const double lr = linear_schedule_lr(s_.lr, pos_.global_step, warmup_, total_steps_);
    learner_->step(s_.adamw, static_cast<float>(lr), static_cast<float>(coef));
    ++pos_.global_step;
    ++pos_.update_in_epoch;
    pos_.last_grad_norm = norm;
    const double dt = seconds_since(t0);
    pos_.interval_seconds += dt;
    pos_.train_seconds += dt;
    return lr;
  }

  // A log record for `step`, with the validation loss when `evaluate` (saving a new best model, and
  // counting towards early stopping). Returns whether the run stops early.
  bool log_and_evaluate(int64_t step, double lr, bool evaluate, ProgressReporter& progress) {
    bool stop = false;
    nlohmann::json rec;
    rec["step"] = step;
    rec["epoch"] = static_cast<double>(step) / static_cast<double>(steps_per_epoch_);
    rec["lr"] = lr;
    rec["train_loss"] = pos_.interval_loss_count
                            ? nullable(pos_.interval_loss_sum / static_cast<double>(pos_.interval_loss_count))
                            : nlohmann::json(nullptr);
    rec["valid_loss"] = nullptr;
    rec["grad_norm"] = nullable(pos_.last_grad_norm);
    rec["tokens_per_s"] =
        pos_.interval_seconds > 0 ? static_cast<double>(pos_.interval_tokens) / pos_.interval_seconds : 0.0;
    std::string note;
    if (evaluate) {
      progress.status("evaluating ...");
      const std::vector<double> pred = learner_->predict(Split::Valid);
      const RegressionMetrics m =
          regression_metrics(pred, std::vector<double>(valid_.targets.begin(), valid_.targets.end()), "validation");
      rec["valid_loss"] = nullable(m.mse);
      if (m.mse < pos_.best_valid_loss) {
        pos_.best_valid_loss = m.mse;
        pos_.best_step = step;
        pos_.evals_without_improvement = 0;
        save_model_dir(best_dir_, config_, learner_->params(), tok_dir_, model_info(step));
        note = "  (best, saved)";
      } else {
        ++pos_.evals_without_improvement;
        if (s_.early_stopping_patience > 0 && pos_.evals_without_improvement >= s_.early_stopping_patience) {
          stop = true;
          result_.stopped_early = true;
          note = "  (no improvement in " + std::to_string(pos_.evals_without_improvement) +
                 " evaluations: stopping early)";
        }
      }
    }
    rec["train_seconds"] = pos_.train_seconds;
    log_.add(std::move(rec), evaluate, total_steps_, note, progress);
    pos_.interval_loss_sum = 0;
    pos_.interval_loss_count = 0;
    pos_.interval_tokens = 0;
    pos_.interval_seconds = 0;
    return stop;
  }

  // A resumable checkpoint of the state after `step`; returns its directory.
  std::string save_checkpoint(int64_t step) {
    TrainCheckpoint ck{pos_, settings_, learner_->params(), learner_->optimizer_state(),
                       pos_.best_step >= 0 ? (fs::path(best_dir_) / "model.safetensors").string() : ""};
    const std::string dir = (out_ / ("checkpoint-" + std::to_string(step))).string();
    save_train_checkpoint(dir, ck, std::is_same_v<Real, double> ? DType::F64 : DType::F32);
    prune_checkpoints(s_.output_dir, s_.keep_checkpoints);
    return dir;
  }

  // ---- the last model, the evaluated one (best or last), metrics, predictions and the plot
  void write_outputs() {
    save_model_dir(last_dir_, config_, learner_->params(), tok_dir_, model_info(pos_.global_step));
    result_.last_dir = last_dir_;
    result_.evaluated_model = "last";
    if (pos_.best_step >= 0) {
      result_.best_dir = best_dir_;
      if (s_.test_model == "best" && pos_.best_step != pos_.global_step) {
        learner_->load(load_bert_checkpoint(best_dir_, s_.seed).params, nullptr);
        result_.evaluated_model = "best";
      } else if (s_.test_model == "best") {
        result_.evaluated_model = "best";  // the last step was the best one
      }
    }
    nlohmann::json metrics = {
        {"evaluated_model", result_.evaluated_model},
        {"best_step", pos_.best_step >= 0 ? nlohmann::json(pos_.best_step) : nlohmann::json(nullptr)},
        {"best_valid_loss", nullable(pos_.best_valid_loss)},
        {"steps", pos_.global_step},
        {"epochs", static_cast<double>(pos_.global_step) / static_cast<double>(steps_per_epoch_)},
        {"stopped_early", result_.stopped_early},
        {"train_seconds", pos_.train_seconds},
        {"cache_seconds", result_.cache_seconds},
        {"train_examples", train_.size()},
        {"data", data_.how},
        {"model", s_.model},
        {"device", device_.str()}};
    // Targets and predictions in the CSV are the examples' own (double) targets; metrics use the same.
    std::vector<double> valid_pred, test_pred;
    std::vector<const std::vector<Example>*> parts;
    std::vector<const std::vector<double>*> preds;
    if (result_.has_valid) {
      valid_pred = learner_->predict(Split::Valid);
      result_.valid = regression_metrics(valid_pred, std::vector<double>(valid_.targets.begin(), valid_.targets.end()),
                                         "validation");
      metrics["valid"] = metrics_json(result_.valid);
      parts.push_back(&data_.valid);
      preds.push_back(&valid_pred);
    }
    if (result_.has_test) {
      test_pred = learner_->predict(Split::Test);
      result_.test =
          regression_metrics(test_pred, std::vector<double>(test_.targets.begin(), test_.targets.end()), "test");
      metrics["test"] = metrics_json(result_.test);
      parts.push_back(&data_.test);
      preds.push_back(&test_pred);
    }
    result_.metrics_path = (out_ / "metrics.json").string();
    write_file_atomically(result_.metrics_path, metrics.dump(2) + "\n");
    if (!parts.empty()) {
      result_.predictions_path = (out_ / "predictions.csv").string();
      write_predictions_csv(result_.predictions_path, parts, preds, /*with_split=*/true, /*with_targets=*/true);
    }
    write_plot();
    result_.log_path = (out_ / "train_log.jsonl").string();
  }

  void write_plot() {
    LossCurves curves;
    curves.title = "ftengine: training and validation loss";
    curves.subtitle = (s_.data_label.empty() ? data_.how : s_.data_label) + " | " +
                      fs::path(s_.model).filename().string() + " | lr " + fmt("%g", s_.lr) + ", batch " +
                      std::to_string(s_.batch_size) + ", max length " + std::to_string(s_.max_length);
    for (const auto& rec : log_.history()) {
      const int64_t step = rec["step"].get<int64_t>();
      if (!rec["train_loss"].is_null()) curves.train.push_back({step, rec["train_loss"].get<double>()});
      if (!rec["valid_loss"].is_null()) curves.valid.push_back({step, rec["valid_loss"].get<double>()});
    }
    curves.best_step = pos_.best_step;
    result_.plot_path = (out_ / "loss_curves.svg").string();
    write_loss_curves_svg(curves, result_.plot_path);
  }

  bool resuming() const { return !s_.resume.empty(); }

  TrainingRecord model_info(int64_t step) const {
    return {.max_length = s_.max_length, .step = step, .data = data_.how, .base_model = s_.model};
  }

  const TrainSettings& s_;
  const DataSplits& data_;
  const DeviceSpec device_;
  const fs::path out_;
  const OutputDirLock lock_;
  const std::string best_dir_, last_dir_;
  TrainPosition pos_;
  TrainLog log_;
  TrainResult result_;

  BertCheckpoint ckpt_;
  BertConfig config_;
  DropoutRates rates_;
  std::string tok_dir_;
  std::unique_ptr<BertTokenizer> tokenizer_;
  EncodedSet train_, valid_, test_;

  BertParamLayout layout_;
  TrainableGroups trainable_;
  bool cached_ = false;
  int64_t micro_per_epoch_ = 0, steps_per_epoch_ = 0, total_steps_ = 0, warmup_ = 0;
  nlohmann::json settings_;
  TrainCheckpoint resumed_;

  std::unique_ptr<Backend<Real>> backend_;
  std::unique_ptr<BertRegressor<Real>> model_;
  std::unique_ptr<Learner<Real>> learner_;
};

template <class Real>
TrainResult run_training(const TrainSettings& s, const DataSplits& data, const DeviceSpec& device) {
  return TrainingRun<Real>(s, data, device).run();
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
