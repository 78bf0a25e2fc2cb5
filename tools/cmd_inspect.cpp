// PLACEHOLDER: replaced by the work that owns `ftengine inspect`.
#include "core/error.h"
#include "tools/commands.h"

namespace ft::tools {
void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "(being built)");
  cmd->callback([] { FT_THROW("ftengine inspect is being built"); });
}
}  // namespace ft::tools
