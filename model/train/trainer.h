// The fine-tuning job: Hugging Face Trainer's loop for BertForSequenceClassification regression,
// with evaluation, best/last model directories, logs, metrics, predictions, a plot and resumable
// checkpoints.
//
// Semantics (HF Trainer's, deviations marked):
//   - micro-batches of batch_size drawn from a seeded permutation per epoch (ftengine's Philox
//     generator, not torch's: the order differs from HF's, the statistics do not);
//   - updates per epoch = max(1, floor(micro-batches / grad_accum)); micro-batches left over at an
//     epoch's end (fewer than grad_accum) are not used [HF >= 4.46 makes one smaller update of
//     them]; total updates = epochs x that, or max_steps;
//   - each micro-batch's mean-squared-error loss is scaled by 1 / grad_accum before backward;
//     gradients are clipped to max_grad_norm (torch.nn.utils.clip_grad_norm_), then AdamW
//     (torch.optim.AdamW; weight decay on all but biases and LayerNorm weights), then the linear
//     schedule with warmup: update k (0-based) uses lr(k);
//   - dropout masks come from (seed, micro-batch counter of the run) through Philox;
//   - evaluation (no dropout): every eval_every updates and at each epoch's end; its loss is the
//     mean over all validation examples of (prediction - target)^2; the best model by validation
//     loss is saved, and early stopping ends the run after `patience` evaluations without
//     improvement;
//   - with only the pooler and/or head training and no dropout in the frozen layers (their rates
//     are 0, or frozen_dropout is off), the encoder's [CLS] outputs are computed once and cached
//     for all epochs: the full forward's numbers within float rounding (the features come from
//     other batch shapes, and BLAS rounding depends on the shape), a fraction of its cost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/bert_regressor.h"
#include "model/data/dataset.h"
#include "model/train/metrics.h"

namespace ft {

// How progress is shown: Auto is a bar on a terminal and plain lines elsewhere.
enum class ProgressMode { Auto, Plain, Bar };

struct TrainSettings {
  // Model: an HF model directory, or a weights file with its config.json.
  std::string model;
  std::string model_config;  // config.json when `model` is a file elsewhere
  std::string tokenizer;     // directory with vocab.txt / tokenizer.json; default: the model's directory
  std::string data_label;    // how the data is named in the banner and the plot

  std::string device = "auto";     // cpu, cuda, cuda:N, auto
  std::string precision = "fp32";  // fp32, bf16 (CUDA only)

  int max_length = 512;
  int batch_size = 8;
  int eval_batch_size = 32;
  int grad_accum = 1;
  bool shuffle = true;
  bool bucket_by_length = false;

  double epochs = 3;       // fractions allowed, as in HF: total steps = ceil(epochs x steps per epoch)
  int64_t max_steps = 0;  // > 0 replaces epochs
  double lr = 5e-5;
  double warmup_ratio = 0.0;
  int64_t warmup_steps = 0;  // > 0 wins over warmup_ratio (as in HF)
  AdamWSettings adamw;
  double max_grad_norm = 1.0;

  std::optional<float> hidden_dropout, attention_dropout, classifier_dropout;  // else the config's
  bool frozen_dropout = true;  // false: frozen layers run without dropout (allows the feature cache)
  bool feature_cache = true;   // false: never cache encoder outputs (for comparisons)

  std::string train_groups = "all";
  std::string freeze_groups;
  uint64_t seed = 42;

  int64_t eval_every = 500;  // 0: only at epoch ends
  int64_t log_every = 0;     // 0: only with evaluations
  int early_stopping_patience = 0;  // 0: off
  std::string test_model = "best";  // best | last

  std::string output_dir;
  int64_t save_every = 0;  // 0: no resumable checkpoints
  int keep_checkpoints = 1;
  std::string resume;      // checkpoint or output directory
  bool overwrite = false;  // replace a finished run or another run's checkpoints in output_dir
  std::string command_line;  // how this run was started, for the resume hint after an interrupt
  ProgressMode progress = ProgressMode::Auto;
  int threads = 0;         // CPU threads (0: OpenMP's default)
};

struct TrainResult {
  int64_t steps = 0;
  double train_seconds = 0.0;
  double cache_seconds = 0.0;  // computing the cached encoder outputs (head-only runs), not in train_seconds
  bool has_valid = false, has_test = false;
  RegressionMetrics valid, test;
  std::string evaluated_model;  // "best" or "last": the model behind the metrics and predictions
  int64_t best_step = -1;
  bool stopped_early = false;
  std::string best_dir, last_dir, log_path, metrics_path, predictions_path, plot_path;
};

// Every numeric setting in its range and the choices valid, or an ft::Error naming the command-line
// flag, the value and the range (model/train/train_settings_check.cpp).
void check_train_settings(const TrainSettings& settings);

// Runs the whole job; everything it writes goes under settings.output_dir. An output directory
// holding a finished run is refused unless settings.overwrite; another ftengine writing there is
// refused. SIGINT / SIGTERM stop it after the current step with a checkpoint (ft::Interrupted).
TrainResult train_regressor(const TrainSettings& settings, const DataSplits& data);

}  // namespace ft
