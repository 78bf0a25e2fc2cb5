// Runs the ftengine binary as a user does and captures what it prints and its exit status. The
// cli_* tests are built with FTENGINE_BINARY naming it; other tests find it beside the build's
// tests/ directory.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/trainer_support.h"

namespace ft::test {

inline std::filesystem::path ftengine_binary() {
#ifdef FTENGINE_BINARY
  return FTENGINE_BINARY;
#else
  char self[PATH_MAX] = {};
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return {};
  return std::filesystem::path(std::string(self, static_cast<size_t>(n))).parent_path().parent_path() / "ftengine";
#endif
}

struct CliRun {
  int status = -1;  // exit status; -1 when killed by a signal
  std::string out;  // stdout and stderr together
};

// `args` and `env` (assignments such as "FTENGINE_DEBUG=1") are passed through the shell as given.
inline CliRun run_ftengine(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " + ftengine_binary().string() + " " + args + " 2>&1 </dev/null";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t got;
  while ((got = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), got);
  const int raw = ::pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

}  // namespace ft::test

// Skips the test (with the reason) when the tiny golden checkpoint or the ftengine binary is absent.
#define FT_REQUIRE_FTENGINE_AND_TINY_MODEL()                                                          \
  do {                                                                                                \
    FT_REQUIRE_PATH(::ft::test::tiny_checkpoint_dir() / "model.safetensors");                         \
    if (!std::filesystem::is_regular_file(::ft::test::ftengine_binary()))                             \
      GTEST_SKIP() << "ftengine not built at " << ::ft::test::ftengine_binary();                      \
  } while (0)
