// PLACEHOLDER: replaced by the work that owns `ftengine train`.
#include "core/error.h"
#include "tools/commands.h"

namespace ft::tools {
void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "(being built)");
  cmd->callback([] { FT_THROW("ftengine train is being built"); });
}
}  // namespace ft::tools
