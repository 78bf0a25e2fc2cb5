// PLACEHOLDER: replaced by the work that owns `ftengine evaluate`.
#include "core/error.h"
#include "tools/commands.h"

namespace ft::tools {
void add_evaluate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("evaluate", "(being built)");
  cmd->callback([] { FT_THROW("ftengine evaluate is being built"); });
}
}  // namespace ft::tools
