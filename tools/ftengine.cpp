// ftengine: fine-tune BERT-family models for text regression.
// The error contract (docs/errors.md): every failure reaches the user as "ftengine: error: ..." on
// stderr and exit status 1, command-line mistakes included; an interrupted training run exits with
// 128 + the signal (130 SIGINT, 143 SIGTERM) after saying what it saved and how to resume. Where in
// the source an error was raised is printed only with FTENGINE_DEBUG=1.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "core/cpu/blas_core_type.h"
#include "core/error.h"
#include "tools/commands.h"

namespace {

constexpr int kExitError = 1;

bool debug() {
  const char* v = std::getenv("FTENGINE_DEBUG");
  return v && *v && std::strcmp(v, "0") != 0;
}

int fail(const std::string& message, const std::string& where = {}) {
  std::fflush(stdout);
  std::fprintf(stderr, "ftengine: error: %s\n", message.c_str());
  if (debug() && !where.empty()) std::fprintf(stderr, "ftengine: raised at %s\n", where.c_str());
  return kExitError;
}

// The subcommand that was being parsed, for "see ftengine train --help".
std::string help_hint(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands())
    if (sub->parsed()) return " (see ftengine " + sub->get_name() + " --help)";
  return " (see ftengine --help)";
}

}  // namespace

int main(int argc, char** argv) {
  ft::cpu::reexec_with_native_blas_kernels(argv);
  CLI::App app{"ftengine: fine-tunes BERT-family models (ConfliBERT first) for text regression"};
  app.require_subcommand(1);
  // A repeated flag takes its last value, as argparse and HF do: a preset or a shell variable can be
  // overridden later on the same line. Subcommands inherit this default.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  ft::tools::add_train_command(app, argc, argv);
  ft::tools::add_evaluate_command(app);
  ft::tools::add_predict_command(app);
  ft::tools::add_tokenize_command(app);
  ft::tools::add_inspect_command(app);
  ft::tools::add_convert_command(app);
  // CLI11 would call a stray word "not expected"; name it as the unknown command it is.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->get_name() == argv[1];
    }
    if (!known) return fail("unknown command \"" + std::string(argv[1]) + "\"; the commands are " + names +
                            " (see ftengine --help)");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(std::string(e.what()) + help_hint(app));
  } catch (const ft::Interrupted& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "ftengine: interrupted: %s\n", e.what());
    return 128 + e.signal();
  } catch (const ft::Error& e) {
    return fail(e.what(), e.where());
  } catch (const std::bad_alloc&) {
    return fail("out of memory (host): use a smaller --batch-size or --max-length");
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what() + " (please report it with the command that gave it)");
  }
  return 0;
}
