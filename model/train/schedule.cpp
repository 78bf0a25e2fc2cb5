#include "model/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace ft {

double linear_schedule_lr(double base_lr, int64_t completed_steps, int64_t warmup_steps, int64_t total_steps) {
  FT_CHECK(completed_steps >= 0, "learning-rate schedule: negative step ", completed_steps);
  FT_CHECK(warmup_steps >= 0, "learning-rate schedule: negative warmup ", warmup_steps);
  FT_CHECK(total_steps >= 0, "learning-rate schedule: negative total ", total_steps);
  // The factor first, then the product: torch's LambdaLR rounds in this order.
  double factor = 0.0;
  if (completed_steps < warmup_steps) {
    factor = static_cast<double>(completed_steps) / static_cast<double>(std::max<int64_t>(1, warmup_steps));
  } else {
    factor = std::max(0.0, static_cast<double>(total_steps - completed_steps) /
                               static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps)));
  }
  return base_lr * factor;
}

double clip_coefficient(double total_norm, double max_norm) {
  if (!(max_norm > 0.0)) return 1.0;
  if (!std::isfinite(total_norm)) return std::numeric_limits<double>::quiet_NaN();
  return std::min(1.0, max_norm / (total_norm + 1e-6));
}

}  // namespace ft
