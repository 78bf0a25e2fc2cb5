#include "model/train/train_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"
#include "core/safetensors.h"

namespace fs = std::filesystem;

namespace ft {

namespace {

constexpr int kFormat = 2;  // 2: the settings are TrainSettings's own fields (model/train/train_settings_json.h)
constexpr const char* kPrefix = "checkpoint-";

// JSON has no infinity or NaN: store them as strings so they survive the round trip.
nlohmann::json number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return x;
}

double number_from(const nlohmann::json& j, const char* key, const std::string& source) {
  FT_CHECK(j.contains(key), source, ": trainer state lacks \"", key, "\"");
  const auto& v = j.at(key);
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  FT_THROW(source, ": trainer state key \"", key, "\" is not a number");
}

template <class T>
T integer_from(const nlohmann::json& j, const char* key, const std::string& source) {
  FT_CHECK(j.contains(key) && j.at(key).is_number_integer(), source, ": trainer state key \"", key,
           "\" is missing or not an integer");
  return j.at(key).get<T>();
}



int64_t checkpoint_number(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.rfind(kPrefix, 0) != 0) return -1;
  const std::string digits = name.substr(std::string(kPrefix).size());
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(digits);
}

std::vector<std::pair<int64_t, fs::path>> complete_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return found;
  for (const auto& entry : fs::directory_iterator(output_dir, ec)) {
    const int64_t n = checkpoint_number(entry.path());
    if (n >= 0 && fs::is_regular_file(entry.path() / "trainer_state.json")) found.emplace_back(n, entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

nlohmann::json position_to_json(const TrainPosition& p) {
  return {{"global_step", p.global_step},
          {"epoch", p.epoch},
          {"update_in_epoch", p.update_in_epoch},
          {"micro_step", p.micro_step},
          {"best_valid_loss", number(p.best_valid_loss)},
          {"best_step", p.best_step},
          {"evals_without_improvement", p.evals_without_improvement},
          {"interval_loss_sum", number(p.interval_loss_sum)},
          {"interval_loss_count", p.interval_loss_count},
          {"interval_tokens", p.interval_tokens},
          {"interval_seconds", p.interval_seconds},
          {"last_grad_norm", number(p.last_grad_norm)},
          {"train_seconds", p.train_seconds},
          {"log_history", p.log_history}};
}

TrainPosition position_from_json(const nlohmann::json& j, const std::string& source) {
  FT_CHECK(j.is_object(), source, ": trainer state is not a JSON object");
  TrainPosition p;
  p.global_step = integer_from<int64_t>(j, "global_step", source);
  p.epoch = integer_from<int64_t>(j, "epoch", source);
  p.update_in_epoch = integer_from<int64_t>(j, "update_in_epoch", source);
  p.micro_step = integer_from<uint64_t>(j, "micro_step", source);
  p.best_valid_loss = number_from(j, "best_valid_loss", source);
  p.best_step = integer_from<int64_t>(j, "best_step", source);
  p.evals_without_improvement = integer_from<int>(j, "evals_without_improvement", source);
  p.interval_loss_sum = number_from(j, "interval_loss_sum", source);
  p.interval_loss_count = integer_from<int64_t>(j, "interval_loss_count", source);
  p.interval_tokens = integer_from<int64_t>(j, "interval_tokens", source);
  p.interval_seconds = number_from(j, "interval_seconds", source);
  p.last_grad_norm = number_from(j, "last_grad_norm", source);
  p.train_seconds = number_from(j, "train_seconds", source);
  FT_CHECK(j.contains("log_history") && j.at("log_history").is_array(), source,
           ": trainer state lacks the log_history array");
  p.log_history = j.at("log_history");
  FT_CHECK(p.global_step >= 0 && p.epoch >= 0 && p.update_in_epoch >= 0, source,
           ": trainer state has a negative position");
  return p;
}

void save_train_checkpoint(const std::string& dir, const TrainCheckpoint& ck, DType moment_dtype) {
  FT_CHECK(moment_dtype == DType::F32 || moment_dtype == DType::F64, dir, ": optimizer moments must be F32 or F64");
  const fs::path final_dir(dir);
  const fs::path partial = final_dir.string() + ".partial";
  std::error_code ec;
  fs::remove_all(partial, ec);
  fs::create_directories(partial, ec);
  FT_CHECK(fs::is_directory(partial), partial.string(), ": cannot create the checkpoint directory (", ec.message(), ")");

  std::vector<NamedTensorRef> refs;
  for (const auto& [name, t] : ck.params.tensors) {
    FT_CHECK(t.dtype() == DType::F32 && t.device() == Device::Host, dir, ": parameter ", name,
             " must be an F32 host tensor");
    refs.push_back({name, &t});
  }
  write_safetensors((partial / "model.safetensors").string(), refs);

  const auto n = static_cast<int64_t>(ck.optimizer.m.size());
  FT_CHECK(ck.optimizer.v.size() == ck.optimizer.m.size(), dir, ": optimizer moments differ in size");
  Tensor m = Tensor::zeros(moment_dtype, {n}), v = Tensor::zeros(moment_dtype, {n});
  for (int64_t i = 0; i < n; ++i) {
    if (moment_dtype == DType::F32) {
      m.data<float>()[i] = static_cast<float>(ck.optimizer.m[static_cast<size_t>(i)]);
      v.data<float>()[i] = static_cast<float>(ck.optimizer.v[static_cast<size_t>(i)]);
    } else {
      m.data<double>()[i] = ck.optimizer.m[static_cast<size_t>(i)];
      v.data<double>()[i] = ck.optimizer.v[static_cast<size_t>(i)];
    }
  }
  write_safetensors((partial / "optimizer.safetensors").string(), {{"exp_avg", &m}, {"exp_avg_sq", &v}},
                    {{"format", "pt"}, {"step", std::to_string(ck.optimizer.step)}});

  if (!ck.best_model_file.empty())
    copy_file_atomically(ck.best_model_file, (partial / "best_model.safetensors").string());

  nlohmann::json state = {{"format", kFormat},
                          {"optimizer_step", ck.optimizer.step},
                          {"position", position_to_json(ck.position)},
                          {"settings", ck.settings}};
  write_file_atomically((partial / "trainer_state.json").string(), state.dump(1) + "\n");

  // Swap the complete directory into place (over an older one of the same name, from a rerun).
  replace_directory(partial.string(), final_dir.string());
}

std::string latest_checkpoint(const std::string& output_dir) {
  const auto found = complete_checkpoints(output_dir);
  return found.empty() ? std::string() : found.back().second.string();
}

void prune_checkpoints(const std::string& output_dir, int keep) {
  FT_CHECK(keep >= 1, "keep ", keep, " checkpoints: must be at least 1");
  auto found = complete_checkpoints(output_dir);
  std::error_code ec;
  for (size_t i = 0; i + static_cast<size_t>(keep) < found.size(); ++i) fs::remove_all(found[i].second, ec);
}

TrainCheckpoint load_train_checkpoint(const std::string& path) {
  fs::path dir(path);
  if (!fs::is_regular_file(dir / "trainer_state.json")) {
    const std::string latest = latest_checkpoint(path);
    FT_CHECK(!latest.empty(), path, ": not a checkpoint directory (no trainer_state.json) and holds no ", kPrefix,
             "<step> checkpoint");
    dir = latest;
  }
  const std::string source = (dir / "trainer_state.json").string();
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(read_text_file((dir / "trainer_state.json").string(), "trainer state"));
  } catch (const nlohmann::json::exception& e) {
    FT_THROW(source, ": not valid JSON (", e.what(), ")");
  }
  FT_CHECK(state.is_object(), source, ": not a JSON object");
  FT_CHECK(state.value("format", 0) == kFormat, source, ": trainer state format ", state.value("format", 0),
           ", but this ftengine reads format ", kFormat, " (the checkpoint was written by another version)");
  TrainCheckpoint ck;
  FT_CHECK(state.contains("position") && state.contains("settings"), source, ": lacks position or settings");
  ck.position = position_from_json(state.at("position"), source);
  ck.settings = state.at("settings");
  ck.optimizer.step = integer_from<int64_t>(state, "optimizer_step", source);

  SafetensorsFile model = read_safetensors((dir / "model.safetensors").string());
  for (auto& [name, t] : model.tensors) {
    FT_CHECK(t.dtype() == DType::F32, model.path, ": tensor ", name, " is ", dtype_name(t.dtype()), ", expected F32");
    ck.params.tensors.emplace_back(name, t.clone());
  }
  SafetensorsFile opt = read_safetensors((dir / "optimizer.safetensors").string());
  const Tensor* m = nullptr;
  const Tensor* v = nullptr;
  for (const auto& [name, t] : opt.tensors) {
    if (name == "exp_avg") m = &t;
    if (name == "exp_avg_sq") v = &t;
  }
  FT_CHECK(m && v && m->numel() == v->numel() && m->dtype() == v->dtype(), opt.path,
           ": needs exp_avg and exp_avg_sq of one size and dtype");
  if (fs::is_regular_file(dir / "best_model.safetensors")) ck.best_model_file = (dir / "best_model.safetensors").string();
  const Tensor m64 = m->to(DType::F64), v64 = v->to(DType::F64);
  ck.optimizer.m.assign(m64.data<double>(), m64.data<double>() + m64.numel());
  ck.optimizer.v.assign(v64.data<double>(), v64.data<double>() + v64.numel());
  return ck;
}

namespace {
// Equal, or the same float setting written two ways: checkpoints before 2026-12 stored float
// settings widened (0.8999999761581421), newer ones as their decimal (0.9).
bool same_setting(const nlohmann::json& a, const nlohmann::json& b) {
  if (a == b) return true;
  if (!a.is_number() || !b.is_number()) return false;
  const double x = a.get<double>(), y = b.get<double>();
  const auto widened_float = [](double v) { return static_cast<double>(static_cast<float>(v)) == v; };
  return (widened_float(x) || widened_float(y)) && static_cast<float>(x) == static_cast<float>(y);
}
}  // namespace

void check_resume_settings(const nlohmann::json& saved, const nlohmann::json& now, const std::string& source) {
  FT_CHECK(saved.is_object() && now.is_object(), source, ": settings must be JSON objects");
  for (const auto& [key, value] : saved.items()) {
    FT_CHECK(now.contains(key), source, ": the checkpoint's setting \"", key, "\" is unknown to this run");
    FT_CHECK(same_setting(now.at(key), value), source, ": cannot resume with ", key, " = ", now.at(key).dump(),
             ": the checkpoint was written with ", key, " = ", value.dump(),
             " (a resumed run must use the settings and data of the run it continues)");
  }
}

}  // namespace ft
