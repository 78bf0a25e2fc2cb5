// PLACEHOLDER: replaced by the work that owns `ftengine tokenize`.
#include "core/error.h"
#include "tools/commands.h"

namespace ft::tools {
void add_tokenize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "(being built)");
  cmd->callback([] { FT_THROW("ftengine tokenize is being built"); });
}
}  // namespace ft::tools
