// The record ftengine writes into every model directory it saves, beside HF's files
// (ftengine_training.json): how the model was trained. One type for the writer (the trainer) and
// the readers (evaluate and predict reuse max_length; the output directory check shows the step).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ft {

inline constexpr const char* kTrainingInfoFile = "ftengine_training.json";

struct TrainingRecord {
  int max_length = 0;      // tokens per text the model was trained with, [CLS] and [SEP] included
  int64_t step = 0;        // the optimizer step the model is from
  std::string trained_by = "ftengine train";
  std::string data;        // the data it was trained on, as the run described it
  std::string base_model;  // the checkpoint the run started from
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(TrainingRecord, max_length, step, trained_by, data, base_model)

// Writes the record into `model_dir` atomically.
void write_training_record(const std::string& model_dir, const TrainingRecord& record);

// The record of `model_dir`, or nullopt when it has none (a model not saved by ftengine). A record
// that is not valid JSON, or lacks an integer max_length, is an error naming the file.
std::optional<TrainingRecord> read_training_record(const std::string& model_dir);

}  // namespace ft
