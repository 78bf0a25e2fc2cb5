// PLACEHOLDER: replaced by the work that owns `ftengine predict`.
#include "core/error.h"
#include "tools/commands.h"

namespace ft::tools {
void add_predict_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("predict", "(being built)");
  cmd->callback([] { FT_THROW("ftengine predict is being built"); });
}
}  // namespace ft::tools
