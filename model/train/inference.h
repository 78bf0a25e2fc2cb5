// Using a saved model: load an HF model directory with its tokenizer, predict in batches on a
// chosen device and precision, and write predictions. Shared by `ftengine evaluate`, `ftengine
// predict` and the end of `ftengine train`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/backend_registry.h"
#include "model/data/batching.h"
#include "model/bert_regressor.h"
#include "model/checkpoint.h"
#include "model/data/dataset.h"
#include "model/train/training_record.h"
#include "tokenizer/bert_tokenizer.h"

namespace ft {

// Sets the CPU threads of both pools, OpenMP's and OpenBLAS's (n <= 0: leave the defaults).
void set_cpu_threads(int n);

// "fp32" or "bf16"; anything else is an error.
enum class Precision { Fp32, Bf16 };
Precision parse_precision(const std::string& text);

// The device a run uses, with "auto" resolved; says why in errors (bf16 on the CPU, no GPU).
DeviceSpec resolve_device(const std::string& device, Precision precision);

// The tokenizer of a model: `tokenizer_dir` when given, else the model's directory (or the
// directory of a weights file). An error says where it looked.
std::string tokenizer_dir_for(const std::string& model, const std::string& tokenizer_dir);
// Checks that every id the tokenizer can produce exists in the model's embedding table.
void check_tokenizer_fits(const BertTokenizer& tokenizer, const BertConfig& config, const std::string& where);

// max_length saved with a model by `ftengine train` (0 when the directory has no training info).
int saved_max_length(const std::string& model_dir);

struct InferenceSettings {
  std::string model;      // model directory (or weights file)
  std::string tokenizer;  // default: the model's directory
  std::string device = "auto";
  std::string precision = "fp32";
  int max_length = 0;     // 0: the length the model was trained with, else max_position_embeddings
  int batch_size = 32;
  int threads = 0;
  bool verbose = true;    // print the length statistics
};

struct InferenceResult {
  std::vector<double> predictions;  // in example order
  LengthStats lengths;
  std::string device;
  int max_length = 0;
  double seconds = 0.0;
};

// Predictions of `model` (evaluation mode, no dropout) for every example of `set`, batched by
// length (longest first) and returned in the set's order.
template <class Real>
std::vector<double> predict_set(BertRegressor<Real>& model, const EncodedSet& set, int batch_size, int32_t pad_id);

InferenceResult predict_examples(const InferenceSettings& settings, const std::vector<Example>& examples,
                                 const std::string& source);

// predictions.csv: [split,]row,line[,id][,target],prediction (RFC 4180), atomically.
void write_predictions_csv(const std::string& path, const std::vector<const std::vector<Example>*>& parts,
                           const std::vector<const std::vector<double>*>& predictions, bool with_split,
                           bool with_targets);

}  // namespace ft
