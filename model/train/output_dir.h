// The output directory of a training run: one writer at a time, no finished run replaced by
// accident, and no temporary file of a killed run left behind.
#pragma once

#include <string>

namespace ft {

// The names a run writes directly in its output directory (the checkpoints are checkpoint-<step>/).
inline constexpr const char* kRunOutputs[] = {"best", "last", "train_log.jsonl", "metrics.json",
                                              "predictions.csv", "loss_curves.svg", "run_config.json"};

class OutputDirLock {
 public:
  // Creates `dir` if needed and takes its lock (`.ftengine.lock`, flock: released by the kernel when
  // the process dies, so a kill -9 leaves nothing locked). A second ftengine on the same directory
  // is refused with the other one's pid.
  explicit OutputDirLock(const std::string& dir);
  ~OutputDirLock();
  OutputDirLock(const OutputDirLock&) = delete;
  OutputDirLock& operator=(const OutputDirLock&) = delete;

 private:
  int fd_ = -1;
};

// "last/ (step 120), metrics.json" for a directory holding the outputs of a finished run; "" when
// it holds none.
std::string describe_finished_run(const std::string& dir);

// Removes a previous run's outputs (kRunOutputs and checkpoint-<step>/ directories); leaves any
// other file alone.
void remove_previous_run(const std::string& dir);

// Removes what killed runs leave behind, under the lock: AtomicFileWriter temporaries in `dir`,
// best/ and last/; staging directories (.best.staging); unfinished checkpoints (checkpoint-N.partial).
// Returns how many were removed.
int remove_stale_temporaries(const std::string& dir);

}  // namespace ft
