#include "model/train/inference.h"

#include <cblas.h>
#include <omp.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"

namespace fs = std::filesystem;

namespace ft {

void set_cpu_threads(int n) {
  FT_CHECK(n >= 0, "--threads ", n, ": must be at least 0 (0: all cores)");
  if (n == 0) return;
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

Precision parse_precision(const std::string& text) {
  if (text == "fp32" || text == "float32" || text == "f32") return Precision::Fp32;
  if (text == "bf16" || text == "bfloat16") return Precision::Bf16;
  FT_THROW("precision \"", text, "\" is not fp32 or bf16");
}

DeviceSpec resolve_device(const std::string& device, Precision precision) {
  const DeviceSpec spec = parse_device(device);
  if (precision == Precision::Bf16)
    FT_CHECK(spec.kind == DeviceSpec::Kind::Cuda, "precision bf16 needs a CUDA device, but the run is on ", spec.str(),
             device == "auto" ? " (no usable GPU found)" : "", "; the CPU backend computes in fp32");
  return spec;
}

std::string tokenizer_dir_for(const std::string& model, const std::string& tokenizer_dir) {
  if (!tokenizer_dir.empty()) {
    FT_CHECK(fs::is_directory(tokenizer_dir), "tokenizer directory ", tokenizer_dir, " does not exist");
    return tokenizer_dir;
  }
  const fs::path dir = fs::is_directory(model) ? fs::path(model) : fs::path(model).parent_path();
  const std::string d = dir.empty() ? "." : dir.string();
  FT_CHECK(fs::is_regular_file(dir / "vocab.txt") || fs::is_regular_file(dir / "tokenizer.json"), d,
           ": no vocab.txt or tokenizer.json beside the model; pass --tokenizer DIR");
  return d;
}

void check_tokenizer_fits(const BertTokenizer& tokenizer, const BertConfig& config, const std::string& where) {
  FT_CHECK(tokenizer.vocab_size() <= config.vocab_size, where, ": the tokenizer has ", tokenizer.vocab_size(),
           " tokens but the model's embedding table only ", config.vocab_size,
           " rows (vocab_size): this tokenizer does not belong to this model");
}

int saved_max_length(const std::string& model_dir) {
  const std::optional<TrainingRecord> record = read_training_record(model_dir);
  return record ? record->max_length : 0;
}

template <class Real>
std::vector<double> predict_set(BertRegressor<Real>& model, const EncodedSet& set, int batch_size, int32_t pad_id) {
  std::vector<double> pred(static_cast<size_t>(set.size()), std::nan(""));
  const DropoutRates none{0.0f, 0.0f, 0.0f};
  for (const auto& indices : evaluation_batches(set, batch_size)) {
    ModelBatch batch = make_batch(set, indices, pad_id);
    batch.targets.clear();  // prediction only
    const auto out = model.forward(batch, /*training=*/false, none, 0, 0);
    for (size_t k = 0; k < indices.size(); ++k) pred[static_cast<size_t>(indices[k])] = out.pred[k];
  }
  return pred;
}

template std::vector<double> predict_set(BertRegressor<float>&, const EncodedSet&, int, int32_t);
template std::vector<double> predict_set(BertRegressor<double>&, const EncodedSet&, int, int32_t);
template std::vector<double> predict_set(BertRegressor<bf16>&, const EncodedSet&, int, int32_t);

namespace {

template <class Real>
std::vector<double> run_inference(const DeviceSpec& device, const BertCheckpoint& ckpt, const EncodedSet& set,
                                  int batch_size, int32_t pad_id) {
  auto backend = make_backend<Real>(device);
  const BertParamLayout layout = bert_param_layout(ckpt.config);
  BertRegressor<Real> model(*backend, ckpt.config, TrainableGroups(layout.groups.size(), false));
  model.load_params(ckpt.params);
  return predict_set(model, set, batch_size, pad_id);
}

}  // namespace

InferenceResult predict_examples(const InferenceSettings& s, const std::vector<Example>& examples,
                                 const std::string& source) {
  FT_CHECK(s.batch_size >= 1, "--eval-batch-size ", s.batch_size, ": must be at least 1");
  FT_CHECK(s.max_length == 0 || s.max_length >= 3, "--max-length ", s.max_length,
           ": must be at least 3 (or 0: the length the model was trained with)");
  set_cpu_threads(s.threads);
  const Precision precision = parse_precision(s.precision);
  const DeviceSpec device = resolve_device(s.device, precision);
  const BertCheckpoint ckpt = load_bert_checkpoint(s.model, 0);
  for (const std::string& name : ckpt.initialised)
    FT_CHECK(name.rfind("classifier", 0) != 0, s.model, ": has no regression head (", name,
             " is missing): it is not a fine-tuned model; train one with ftengine train");
  const std::string tok_dir = tokenizer_dir_for(s.model, s.tokenizer);
  const BertTokenizer tokenizer = BertTokenizer::from_dir(tok_dir);
  check_tokenizer_fits(tokenizer, ckpt.config, tok_dir);

  InferenceResult r;
  r.max_length = s.max_length > 0 ? s.max_length
                                  : (fs::is_directory(s.model) ? saved_max_length(s.model) : 0);
  if (r.max_length <= 0) r.max_length = ckpt.config.max_position_embeddings;
  ckpt.config.check_max_length(r.max_length);
  const EncodedSet set = encode_examples(tokenizer, examples, r.max_length, source);
  r.lengths = length_stats(set);
  if (s.verbose) std::printf("%s\n", describe_lengths(r.lengths, source).c_str());
  r.device = device.str();
  const auto t0 = std::chrono::steady_clock::now();
  r.predictions = precision == Precision::Fp32
                      ? run_inference<float>(device, ckpt, set, s.batch_size, tokenizer.pad_id())
                      : run_inference<bf16>(device, ckpt, set, s.batch_size, tokenizer.pad_id());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void write_predictions_csv(const std::string& path, const std::vector<const std::vector<Example>*>& parts,
                           const std::vector<const std::vector<double>*>& predictions, bool with_split,
                           bool with_targets) {
  FT_CHECK(parts.size() == predictions.size(), path, ": ", parts.size(), " parts and ", predictions.size(),
           " prediction lists");
  bool with_id = false;
  for (const auto* part : parts)
    for (const Example& ex : *part) with_id = with_id || !ex.id.empty();
  std::ostringstream out;
  if (with_split) out << "split,";
  out << "row,line";
  if (with_id) out << ",id";
  if (with_targets) out << ",target";
  out << ",prediction\n";
  char num[64];
  for (size_t k = 0; k < parts.size(); ++k) {
    const auto& examples = *parts[k];
    const auto& pred = *predictions[k];
    FT_CHECK(examples.size() == pred.size(), path, ": ", examples.size(), " examples and ", pred.size(), " predictions");
    for (size_t i = 0; i < examples.size(); ++i) {
      const Example& ex = examples[i];
      if (with_split) out << split_name(ex.split) << ",";
      out << ex.row << "," << ex.line;
      if (with_id) out << "," << csv_field(ex.id);
      // Shortest round-trip forms: the target as read (double), the prediction as computed (float).
      if (with_targets) out << "," << std::string_view(num, std::to_chars(num, num + sizeof num, ex.target).ptr - num);
      const float p = static_cast<float>(pred[i]);
      out << "," << std::string_view(num, std::to_chars(num, num + sizeof num, p).ptr - num) << "\n";
    }
  }
  write_file_atomically(path, out.str());
}

}  // namespace ft
