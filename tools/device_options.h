// The device flags shared by `ftengine train`, `evaluate` and `predict`, declared once.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace ft::tools {

inline void add_device_options(CLI::App& cmd, std::string& device, std::string& precision, int& threads) {
  cmd.add_option("--device", device, "cpu, cuda, cuda:N or auto (a GPU when one is usable)")->capture_default_str();
  cmd.add_option("--precision", precision, "fp32, or bf16 (CUDA only; fp32 master weights)")->capture_default_str();
  cmd.add_option("--threads", threads, "CPU threads (0: all cores)")->capture_default_str();
}

}  // namespace ft::tools
