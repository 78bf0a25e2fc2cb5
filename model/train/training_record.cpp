#include "model/train/training_record.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text_file.h"

namespace fs = std::filesystem;

namespace ft {

void write_training_record(const std::string& model_dir, const TrainingRecord& record) {
  write_file_atomically((fs::path(model_dir) / kTrainingInfoFile).string(), nlohmann::json(record).dump(2) + "\n");
}

std::optional<TrainingRecord> read_training_record(const std::string& model_dir) {
  const fs::path p = fs::path(model_dir) / kTrainingInfoFile;
  if (!fs::is_regular_file(p)) return std::nullopt;
  const nlohmann::json j = read_json_file(p.string(), "training record");
  FT_CHECK(j.is_object() && j.contains("max_length") && j["max_length"].is_number_integer(), p.string(),
           ": lacks an integer max_length");
  TrainingRecord r;
  r.max_length = j["max_length"].get<int>();
  // The other fields are for people; a record written by another version may lack them.
  r.step = j.value("step", int64_t{0});
  r.trained_by = j.value("trained_by", r.trained_by);
  r.data = j.value("data", std::string());
  r.base_model = j.value("base_model", std::string());
  return r;
}

}  // namespace ft
