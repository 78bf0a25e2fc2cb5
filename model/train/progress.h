// Progress of a training run for the person watching it: on a terminal a one-line bar (stderr)
// with steps, percentage, loss, tokens per second and the time left; elsewhere (a log file, CI)
// plain lines on stdout when nothing else was printed for `plain_interval_s` seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace ft {

class ProgressReporter {
 public:
  // `total_steps` optimizer steps in the run, `start_step` of them already done (a resumed run).
  ProgressReporter(int64_t total_steps, int64_t start_step, bool interactive, double plain_interval_s = 30.0);
  ~ProgressReporter();

  static bool stderr_is_terminal();

  // After each optimizer step: the recent training loss and throughput.
  void update(int64_t step, double loss, double tokens_per_s);
  // A status word shown in place of the numbers while something long runs ("evaluating").
  void status(const std::string& what);
  // A line of output on stdout; the bar is cleared first and redrawn after.
  void line(const std::string& text);
  // Removes the bar (end of training).
  void finish();

  // "1h02m", "3m20s", "12s".
  static std::string format_duration(double seconds);

  // (time, step) after an update. The ETA is the time left at the pace between the first and the
  // last of `recent` (the last kEtaWindow steps: evaluations and saves included), not the average
  // since the start, which the first steps' warm-up and any change of load skew; NaN before a step.
  using Sample = std::pair<std::chrono::steady_clock::time_point, int64_t>;
  static constexpr size_t kEtaWindow = 50;
  static double eta_at_recent_pace(const std::deque<Sample>& recent, int64_t total_steps);

 private:
  void draw(const std::string& tail);
  void clear();

  int64_t total_, start_step_, step_ = 0;
  bool interactive_;
  double plain_interval_s_;
  double loss_ = 0.0, tokens_per_s_ = 0.0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_, last_plain_;
  std::deque<Sample> recent_;  // the start, then the recent updates
};

}  // namespace ft
