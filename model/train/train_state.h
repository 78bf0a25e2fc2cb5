// Resumable training checkpoints: everything a run needs to continue exactly where it stopped.
//
// A checkpoint is a directory <output>/checkpoint-<step>/ holding
//   model.safetensors      every parameter, F32, canonical names (exact: F32 is what the
//                          optimizer's master weights are)
//   optimizer.safetensors  AdamW's moments exp_avg and exp_avg_sq, indexed like the gradient
//                          buffer (trainable groups only), in the master type
//   best_model.safetensors the best model so far (when there is one)
//   trainer_state.json     the position (optimizer step, epoch, update within the epoch, the
//                          micro-batch counter that keys dropout), best-model tracking, the
//                          unfinished log interval, the log so far, and the settings that must
//                          not change on resume
// Nothing else is needed: data order and dropout masks are pure functions of (seed, epoch) and
// (seed, micro-batch counter), and the learning rate is a function of the step.
// The files are written atomically into <dir>.partial, which is then renamed to <dir>: a
// checkpoint directory either is complete or does not exist.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "model/bert_regressor.h"
#include "model/checkpoint.h"

namespace ft {

// Where the loop is, and what it has accumulated. All of it is restored on resume.
struct TrainPosition {
  int64_t global_step = 0;      // optimizer updates done
  int64_t epoch = 0;            // the epoch being run (0-based)
  int64_t update_in_epoch = 0;  // updates done within that epoch
  uint64_t micro_step = 0;      // micro-batches done in the whole run (the dropout counter)
  double best_valid_loss = std::numeric_limits<double>::infinity();
  int64_t best_step = -1;
  int evals_without_improvement = 0;
  // The log interval in progress: summed unscaled micro-batch losses, their count, real tokens,
  // training seconds, and the gradient norm of the last update.
  double interval_loss_sum = 0.0;
  int64_t interval_loss_count = 0;
  int64_t interval_tokens = 0;
  double interval_seconds = 0.0;
  double last_grad_norm = std::numeric_limits<double>::quiet_NaN();
  double train_seconds = 0.0;   // training time of the run so far
  nlohmann::json log_history = nlohmann::json::array();  // the train_log.jsonl records so far
};

nlohmann::json position_to_json(const TrainPosition& p);
TrainPosition position_from_json(const nlohmann::json& j, const std::string& source);

struct TrainCheckpoint {
  TrainPosition position;
  nlohmann::json settings;  // compared with the resuming run's (see check_resume_settings)
  StateDict params;         // F32, canonical names
  OptimizerState optimizer;
  // The best model so far (a model.safetensors of canonical F32 tensors), so that a run resumed
  // into another directory, or after best/ was lost, ends with the same best model. Saving copies
  // this file into the checkpoint as best_model.safetensors; loading sets it to that copy ("" when
  // there is none).
  std::string best_model_file;
};

// Writes <dir> (see above). `moment_dtype` is F32 (float/bf16 runs) or F64 (double runs).
void save_train_checkpoint(const std::string& dir, const TrainCheckpoint& checkpoint, DType moment_dtype);
// `path` is a checkpoint directory or an output directory (its newest complete checkpoint-N).
TrainCheckpoint load_train_checkpoint(const std::string& path);
// The newest complete checkpoint-<N> in `output_dir`, or "" when there is none.
std::string latest_checkpoint(const std::string& output_dir);
// Removes all but the newest `keep` checkpoint-<N> directories (keep >= 1).
void prune_checkpoints(const std::string& output_dir, int keep);

// Every key of `saved` must have the same value in `now`; a difference is an error naming the key
// and both values (resuming with other settings would not continue the same run).
void check_resume_settings(const nlohmann::json& saved, const nlohmann::json& now, const std::string& source);

}  // namespace ft
