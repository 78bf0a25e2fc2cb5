#include "model/train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ft {

namespace {
double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string rate_text(double tokens_per_s) {
  char buf[32];
  if (tokens_per_s >= 1e6) std::snprintf(buf, sizeof buf, "%.1fM tok/s", tokens_per_s / 1e6);
  else if (tokens_per_s >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk tok/s", tokens_per_s / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f tok/s", tokens_per_s);
  return buf;
}
}  // namespace

ProgressReporter::ProgressReporter(int64_t total_steps, int64_t start_step, bool interactive, double plain_interval_s)
    : total_(std::max<int64_t>(total_steps, 1)),
      start_step_(start_step),
      step_(start_step),
      interactive_(interactive),
      plain_interval_s_(plain_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      last_plain_(start_) {}

ProgressReporter::~ProgressReporter() { finish(); }

bool ProgressReporter::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

std::string ProgressReporter::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  const auto t = static_cast<long long>(std::llround(s));
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%llds", t);
  return buf;
}

double ProgressReporter::eta_at_recent_pace(const std::deque<Sample>& recent, int64_t total_steps) {
  if (recent.size() < 2) return NAN;
  const auto& [t0, s0] = recent.front();
  const auto& [t1, s1] = recent.back();
  if (s1 <= s0) return NAN;
  return seconds_between(t0, t1) / static_cast<double>(s1 - s0) * static_cast<double>(total_steps - s1);
}

void ProgressReporter::update(int64_t step, double loss, double tokens_per_s) {
  step_ = step;
  loss_ = loss;
  tokens_per_s_ = tokens_per_s;
  const auto now = std::chrono::steady_clock::now();
  // The time left at the recent pace (the last kEtaWindow steps, evaluations and saves included),
  // not the average since the start, which the first steps' warm-up and any change of load skew.
  if (recent_.empty()) recent_.push_back({start_, start_step_});
  recent_.push_back({now, step});
  while (recent_.size() > kEtaWindow + 1) recent_.pop_front();
  const double eta = eta_at_recent_pace(recent_, total_);
  char tail[160];
  std::snprintf(tail, sizeof tail, "loss %.4f  %s  ETA %s", loss_, rate_text(tokens_per_s_).c_str(),
                format_duration(eta).c_str());
  if (interactive_) {
    if (step_ < total_ && seconds_between(last_draw_, now) < 0.1) return;  // at most 10 redraws a second
    last_draw_ = now;
    draw(tail);
  } else if (seconds_between(last_plain_, now) >= plain_interval_s_) {
    last_plain_ = now;
    std::printf("step %lld/%lld (%.0f%%)  %s\n", static_cast<long long>(step_), static_cast<long long>(total_),
                100.0 * static_cast<double>(step_) / static_cast<double>(total_), tail);
    std::fflush(stdout);
  }
}

void ProgressReporter::status(const std::string& what) {
  if (interactive_) draw(what);
}

void ProgressReporter::draw(const std::string& tail) {
  constexpr int kWidth = 28;
  const double frac = std::clamp(static_cast<double>(step_) / static_cast<double>(total_), 0.0, 1.0);
  const int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  std::fprintf(stderr, "\r\033[K[%s] %lld/%lld %3.0f%%  %s", bar.c_str(), static_cast<long long>(step_),
               static_cast<long long>(total_), 100.0 * frac, tail.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressReporter::clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

void ProgressReporter::line(const std::string& text) {
  last_plain_ = std::chrono::steady_clock::now();  // a log line says as much as a progress line
  clear();
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

void ProgressReporter::finish() { clear(); }

}  // namespace ft
