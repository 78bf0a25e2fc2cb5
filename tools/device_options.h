// The flags shared by `ftengine train`, `evaluate` and `predict` (the device), and by `evaluate` and
// `predict` (how a saved model reads its data), declared once.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace ft::tools {

inline void add_device_options(CLI::App& cmd, std::string& device, std::string& precision, int& threads) {
  cmd.add_option("--device", device, "cpu, cuda, cuda:N or auto (a GPU when one is usable)")->capture_default_str();
  cmd.add_option("--precision", precision, "fp32, or bf16 (CUDA only; fp32 master weights)")->capture_default_str();
  cmd.add_option("--threads", threads, "CPU threads (0: all cores)")->capture_default_str();
}

// `s` is an InferenceSettings (model/train/inference.h).
template <class Settings>
void add_inference_options(CLI::App& cmd, Settings& s) {
  cmd.add_option("--tokenizer", s.tokenizer, "Tokenizer directory (default: the model's)");
  cmd.add_option("--max-length", s.max_length,
                 "Truncate texts to this many tokens (default: the length the model was trained with, else the "
                 "model's maximum)");
  cmd.add_option("--eval-batch-size,--batch-size,--per_device_eval_batch_size", s.batch_size, "Examples per batch")
      ->capture_default_str();
  add_device_options(cmd, s.device, s.precision, s.threads);
}

}  // namespace ft::tools
