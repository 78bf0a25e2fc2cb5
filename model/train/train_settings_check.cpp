// Range checks of TrainSettings, each naming the command-line flag, the value and the allowed range,
// so that no setting is accepted silently and no fallback is guessed (docs/errors.md).
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "core/float_decimal.h"
#include "model/train/trainer.h"

namespace ft {

namespace {

template <class T>
std::string shown(T v) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, float>) os << shortest_decimal(v);
  else os << v;
  return os.str();
}

template <class T>
void check_range(const char* flag, T v, bool ok, const char* range) {
  FT_CHECK(ok, flag, " ", shown(v), ": must be ", range);
}

void check_probability(const char* flag, const std::optional<float>& p) {
  if (p) check_range(flag, *p, std::isfinite(*p) && *p >= 0.0f && *p < 1.0f, "in [0, 1)");
}

}  // namespace

void check_train_settings(const TrainSettings& s) {
  check_range("--max-length", s.max_length, s.max_length >= 3, "at least 3 ([CLS], one token, [SEP])");
  check_range("--batch-size", s.batch_size, s.batch_size >= 1, "at least 1");
  check_range("--eval-batch-size", s.eval_batch_size, s.eval_batch_size >= 1, "at least 1");
  check_range("--grad-accum", s.grad_accum, s.grad_accum >= 1, "at least 1");
  check_range("--max-steps", s.max_steps, s.max_steps >= 0, "at least 0 (0: train for --epochs)");
  if (s.max_steps == 0)
    check_range("--epochs", s.epochs, std::isfinite(s.epochs) && s.epochs > 0.0, "a number above 0 (fractions allowed)");
  else
    check_range("--epochs", s.epochs, std::isfinite(s.epochs) && s.epochs >= 0.0, "at least 0 (--max-steps decides)");
  check_range("--lr", s.lr, std::isfinite(s.lr) && s.lr > 0.0, "a number above 0");
  check_range("--warmup-ratio", s.warmup_ratio, s.warmup_ratio >= 0.0 && s.warmup_ratio <= 1.0, "in [0, 1]");
  check_range("--warmup-steps", s.warmup_steps, s.warmup_steps >= 0, "at least 0 (0: use --warmup-ratio)");
  check_range("--adam-beta1", s.adamw.beta1, s.adamw.beta1 >= 0.0f && s.adamw.beta1 < 1.0f, "in [0, 1)");
  check_range("--adam-beta2", s.adamw.beta2, s.adamw.beta2 >= 0.0f && s.adamw.beta2 < 1.0f, "in [0, 1)");
  check_range("--adam-eps", s.adamw.eps, std::isfinite(s.adamw.eps) && s.adamw.eps > 0.0f, "a number above 0");
  check_range("--weight-decay", s.adamw.weight_decay, std::isfinite(s.adamw.weight_decay) && s.adamw.weight_decay >= 0.0f,
              "at least 0");
  check_range("--max-grad-norm", s.max_grad_norm, std::isfinite(s.max_grad_norm) && s.max_grad_norm >= 0.0,
              "at least 0 (0: no clipping)");
  check_probability("--hidden-dropout", s.hidden_dropout);
  check_probability("--attention-dropout", s.attention_dropout);
  check_probability("--classifier-dropout", s.classifier_dropout);
  check_range("--eval-every", s.eval_every, s.eval_every >= 0, "at least 0 (0: at each epoch's end only)");
  check_range("--log-every", s.log_every, s.log_every >= 0, "at least 0 (0: with the evaluations only)");
  check_range("--early-stopping-patience", s.early_stopping_patience, s.early_stopping_patience >= 0,
              "at least 0 (0: never stop early)");
  check_range("--save-every", s.save_every, s.save_every >= 0, "at least 0 (0: no resumable checkpoints)");
  check_range("--keep-checkpoints", s.keep_checkpoints, s.keep_checkpoints >= 1, "at least 1");
  check_range("--threads", s.threads, s.threads >= 0, "at least 0 (0: all cores)");
  FT_CHECK(s.test_model == "best" || s.test_model == "last", "--test-model \"", s.test_model, "\": must be best or last");
  FT_CHECK(!s.model.empty(), "no model given: pass --model DIR (an HF BERT directory)");
  FT_CHECK(!s.output_dir.empty(), "no output directory given: pass --output-dir DIR");
}

}  // namespace ft
