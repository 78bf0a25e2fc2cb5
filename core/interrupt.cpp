#include "core/interrupt.h"

#include <unistd.h>

#include <csignal>
#include <cstring>

namespace ft {

namespace {

volatile std::sig_atomic_t g_pending = 0;
struct sigaction g_previous_int, g_previous_term;

void on_signal(int sig) {
  if (g_pending != 0) {
    // Second signal: stop now, with the default action (exit status 128 + sig).
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_pending = sig;
  static const char note[] =
      "\nftengine: interrupted: finishing the current step, then saving a checkpoint "
      "(send the signal again to stop at once)\n";
  // write() is async-signal-safe; a failure to print changes nothing.
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, note, sizeof note - 1);
}

}  // namespace

InterruptScope::InterruptScope() {
  g_pending = 0;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // the step's reads and writes carry on
  sigaction(SIGINT, &sa, &g_previous_int);
  sigaction(SIGTERM, &sa, &g_previous_term);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

int pending_interrupt() { return g_pending; }

const char* signal_name(int signal) { return signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "a signal"; }

}  // namespace ft
