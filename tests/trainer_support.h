// Helpers of the trainer_* tests: a learnable toy data set for the tiny golden checkpoint
// (vocabulary "tok5" .. "tok127", 64 positions), temporary output directories, file readers.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/safetensors.h"
#include "model/data/dataset.h"
#include "model/train/trainer.h"
#include "tests/support/test_data.h"

namespace ft::test {

inline std::filesystem::path tiny_checkpoint_dir() { return golden_dir() / "checkpoints"; }

// A fresh, empty directory removed at the end of the test.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("ft_" + tag + "_" + info->test_suite_name() + "_" + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Texts of 3-12 random tokens tok10..tok127 with k = 0..3 copies of "tok7" inserted; target k - 1.5
// (learnable: count one token). Splits: 70% train, 15% valid, 15% test, in file order.
inline std::string write_toy_csv(const std::string& path, int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::ostringstream out;
  out << "id,text,y,split\n";
  for (int i = 0; i < rows; ++i) {
    const int n = 3 + static_cast<int>(rng() % 10);
    std::vector<std::string> toks;
    for (int t = 0; t < n; ++t) toks.push_back("tok" + std::to_string(10 + rng() % 118));
    const int k = static_cast<int>(rng() % 4);
    for (int j = 0; j < k; ++j) toks.insert(toks.begin() + static_cast<std::ptrdiff_t>(rng() % (toks.size() + 1)), "tok7");
    std::string text;
    for (const auto& t : toks) text += (text.empty() ? "" : " ") + t;
    const char* split = i < rows * 70 / 100 ? "train" : i < rows * 85 / 100 ? "valid" : "test";
    out << "r" << i << "," << text << "," << (k - 1.5) << "," << split << "\n";
  }
  std::ofstream(path) << out.str();
  return path;
}

inline DataSplits read_toy(const std::string& path) {
  DataColumns c;
  c.text = "text";
  c.target = "y";
  c.split = "split";
  c.id = "id";
  return split_by_column(read_dataset(path, c));
}

// Settings for the tiny checkpoint: short, quiet runs.
inline TrainSettings tiny_settings(const std::string& output_dir) {
  TrainSettings s;
  s.model = tiny_checkpoint_dir().string();
  s.output_dir = output_dir;
  s.device = "cpu";
  s.max_length = 32;
  s.batch_size = 8;
  s.epochs = 2;
  s.lr = 1e-3;
  s.eval_every = 10;
  s.progress = ProgressMode::Plain;
  return s;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> r;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) r.push_back(nlohmann::json::parse(line));
  return r;
}

// name -> raw F32 values of a safetensors file.
inline std::map<std::string, std::vector<float>> read_tensors(const std::string& path) {
  std::map<std::string, std::vector<float>> r;
  const SafetensorsFile f = read_safetensors(path);
  for (const auto& [name, t] : f.tensors) {
    const Tensor f32 = t.to(DType::F32);
    r[name].assign(f32.data<float>(), f32.data<float>() + f32.numel());
  }
  return r;
}

}  // namespace ft::test
