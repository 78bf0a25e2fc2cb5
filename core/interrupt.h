// SIGINT / SIGTERM during a long job: the first signal asks the job to stop at its next safe point
// (the trainer: after the current step, with a checkpoint); a second one stops the process at
// once, which is safe because every write is atomic (core/atomic_file.h).
#pragma once

namespace ft {

// Installs the handlers for the lifetime of the object and restores the previous ones after.
class InterruptScope {
 public:
  InterruptScope();
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
};

// The signal received since the scope began (SIGINT or SIGTERM), or 0.
int pending_interrupt();

// "SIGINT" or "SIGTERM".
const char* signal_name(int signal);

}  // namespace ft
