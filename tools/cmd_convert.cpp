// PLACEHOLDER: replaced by the work that owns `ftengine convert`.
#include "core/error.h"
#include "tools/commands.h"

namespace ft::tools {
void add_convert_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "(being built)");
  cmd->callback([] { FT_THROW("ftengine convert is being built"); });
}
}  // namespace ft::tools
