// The ftengine subcommands. Each lives in its own tools/cmd_<name>.cpp and adds itself to the CLI.
#pragma once

#include <CLI/CLI.hpp>

namespace ft::tools {

void add_inspect_command(CLI::App& app);
void add_convert_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
// `argc`, `argv`: the command line, for the resume hint an interrupted run prints.
void add_train_command(CLI::App& app, int argc, char** argv);
void add_evaluate_command(CLI::App& app);
void add_predict_command(CLI::App& app);

}  // namespace ft::tools
