// ftengine: fine-tune BERT-family models for text regression.
// Every failure reaches the user as one line, "ftengine: error: ...", and exit status 1.
#include <cstdio>
#include <exception>

#include "core/cpu/blas_core_type.h"
#include "core/error.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  ft::cpu::reexec_with_native_blas_kernels(argv);
  CLI::App app{"ftengine: fine-tunes BERT-family models (ConfliBERT first) for text regression"};
  app.require_subcommand(1);
  ft::tools::add_train_command(app);
  ft::tools::add_evaluate_command(app);
  ft::tools::add_predict_command(app);
  ft::tools::add_tokenize_command(app);
  ft::tools::add_inspect_command(app);
  ft::tools::add_convert_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ft::Error& e) {
    std::fprintf(stderr, "ftengine: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ftengine: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
