// The floors of model/ and their one-way arrows (docs/architecture.md): the network (model/) uses
// neither the data pipeline (model/data/) nor the training run (model/train/); the data pipeline
// does not use the run; nothing below model/ (core/, cuda/, tokenizer/) knows model/ at all. Read
// from the sources' #include lines, so a new file or a new include is checked the day it lands.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/test_data.h"

namespace fs = std::filesystem;

namespace {

// Every `#include "prefix..."` of the .h/.cpp/.cu/.cuh files directly in `dir` (not below it).
std::vector<std::string> includes_in(const fs::path& dir, const std::string& prefix) {
  std::vector<std::string> found;
  const std::regex include("^\\s*#\\s*include\\s+\"(" + prefix + "[^\"]*)\"");
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".cu" && ext != ".cuh")) continue;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, include)) found.push_back(entry.path().filename().string() + ": " + m[1].str());
    }
  }
  return found;
}

void expect_none(const std::string& dir, const std::string& forbidden) {
  const fs::path d = ft::test::source_dir() / dir;
  ASSERT_TRUE(fs::is_directory(d)) << d;
  for (const auto& hit : includes_in(d, forbidden)) ADD_FAILURE() << dir << "/" << hit << " reaches up to " << forbidden;
}

TEST(ArchitectureFloors, TheNetworkUsesNeitherTheDataNorTheRun) {
  expect_none("model", "model/data/");
  expect_none("model", "model/train/");
}

TEST(ArchitectureFloors, TheDataPipelineDoesNotUseTheRun) { expect_none("model/data", "model/train/"); }

TEST(ArchitectureFloors, NothingBelowModelKnowsIt) {
  for (const char* dir : {"core", "core/cpu", "cuda", "tokenizer"}) expect_none(dir, "model/");
}

}  // namespace
