// TrainSettings as JSON, one field list for both directions (nlohmann's type macros): run_config.json
// and the settings a checkpoint records are made from it, so a new setting reaches both by being
// listed here once. Floats are written as the decimals they were given (0.9, not 0.8999999761581421).
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "core/float_decimal.h"
#include "model/train/trainer.h"

namespace nlohmann {
template <>
struct adl_serializer<std::optional<float>> {
  static void to_json(json& j, const std::optional<float>& v) {
    j = v ? json(ft::shortest_decimal(*v)) : json(nullptr);
  }
  static void from_json(const json& j, std::optional<float>& v) {
    if (j.is_null()) v.reset();
    else v = j.get<float>();
  }
};
}  // namespace nlohmann

namespace ft {

NLOHMANN_JSON_SERIALIZE_ENUM(ProgressMode, {{ProgressMode::Auto, "auto"}, {ProgressMode::Plain, "plain"},
                                            {ProgressMode::Bar, "bar"}})

// By hand only for the float-to-decimal rule, which the macros cannot express.
inline void to_json(nlohmann::json& j, const AdamWSettings& a) {
  j = {{"beta1", shortest_decimal(a.beta1)}, {"beta2", shortest_decimal(a.beta2)}, {"eps", shortest_decimal(a.eps)},
       {"weight_decay", shortest_decimal(a.weight_decay)}};
}
inline void from_json(const nlohmann::json& j, AdamWSettings& a) {
  const AdamWSettings d;
  a.beta1 = j.value("beta1", d.beta1);
  a.beta2 = j.value("beta2", d.beta2);
  a.eps = j.value("eps", d.eps);
  a.weight_decay = j.value("weight_decay", d.weight_decay);
}

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainSettings, model, model_config, tokenizer, data_label, device,
                                                precision, max_length, batch_size, eval_batch_size, grad_accum,
                                                shuffle, bucket_by_length, epochs, max_steps, lr, warmup_ratio,
                                                warmup_steps, adamw, max_grad_norm, hidden_dropout, attention_dropout,
                                                classifier_dropout, frozen_dropout, feature_cache, train_groups,
                                                freeze_groups, seed, eval_every, log_every, early_stopping_patience,
                                                test_model, output_dir, save_every, keep_checkpoints, resume,
                                                overwrite, command_line, progress, threads)

// The settings that do not change a run's numbers, so a resumed run may give them anew (where the
// outputs go, how progress is shown, how many threads, which device). train_groups/freeze_groups
// and warmup_ratio are left out because what they resolve to (trainable, warmup_steps) is compared.
inline constexpr const char* kSettingsFreeOnResume[] = {
    "model", "model_config", "tokenizer", "data_label", "device", "eval_batch_size", "train_groups",
    "freeze_groups", "warmup_ratio", "test_model", "output_dir", "save_every", "keep_checkpoints", "resume",
    "overwrite", "command_line", "progress", "threads"};

}  // namespace ft
