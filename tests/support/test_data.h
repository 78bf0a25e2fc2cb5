// Where tests find their inputs: the committed golden files (tests/golden/), the shared data set
// beside the project (../shared/data, or $FTENGINE_SHARED_DATA), and the MiniLM weights that
// tools/install_deps.sh fetches (weights/minilm-l6, or $FTENGINE_MINILM_DIR).
// Tests that need an absent optional input skip with a message saying what is missing.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace ft::test {

inline std::filesystem::path source_dir() { return FTENGINE_SOURCE_DIR; }
inline std::filesystem::path golden_dir() { return source_dir() / "tests" / "golden"; }

inline std::filesystem::path shared_data_dir() {
  if (const char* env = std::getenv("FTENGINE_SHARED_DATA")) return env;
  return source_dir().parent_path() / "shared" / "data";
}

inline std::filesystem::path minilm_dir() {
  if (const char* env = std::getenv("FTENGINE_MINILM_DIR")) return env;
  return source_dir() / "weights" / "minilm-l6";
}

}  // namespace ft::test

// Skips the current test unless `path` exists.
#define FT_REQUIRE_PATH(path)                                                                  \
  do {                                                                                         \
    if (!std::filesystem::exists(path))                                                        \
      GTEST_SKIP() << "input not present: " << (path) << " (see tests/support/test_data.h)";   \
  } while (0)
