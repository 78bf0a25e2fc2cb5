#include "model/train/metrics.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace ft {

RegressionMetrics regression_metrics(const std::vector<double>& predictions, const std::vector<double>& targets,
                                     const std::string& what) {
  FT_CHECK(predictions.size() == targets.size(), what, ": ", predictions.size(), " predictions for ", targets.size(),
           " targets");
  FT_CHECK(!targets.empty(), what, ": no examples to compute metrics on");
  const double n = static_cast<double>(targets.size());
  double sum_y = 0.0, sum_p = 0.0;
  for (size_t i = 0; i < targets.size(); ++i) {
    sum_y += targets[i];
    sum_p += predictions[i];
  }
  const double mean_y = sum_y / n, mean_p = sum_p / n;
  // Two passes around the means: the centred sums do not cancel catastrophically.
  double ss_res = 0.0, abs_res = 0.0, ss_tot = 0.0, ss_p = 0.0, cross = 0.0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const double r = predictions[i] - targets[i];
    const double dy = targets[i] - mean_y, dp = predictions[i] - mean_p;
    ss_res += r * r;
    abs_res += std::fabs(r);
    ss_tot += dy * dy;
    ss_p += dp * dp;
    cross += dy * dp;
  }
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  RegressionMetrics m;
  m.count = static_cast<int64_t>(targets.size());
  m.mse = ss_res / n;
  m.rmse = std::sqrt(m.mse);
  m.mae = abs_res / n;
  m.r2 = ss_tot > 0.0 ? 1.0 - ss_res / ss_tot : nan;
  m.pearson = (ss_tot > 0.0 && ss_p > 0.0) ? cross / std::sqrt(ss_tot * ss_p) : nan;
  m.target_mean = mean_y;
  m.target_std = std::sqrt(ss_tot / n);
  return m;
}

nlohmann::json metrics_json(const RegressionMetrics& m) {
  auto num = [](double x) -> nlohmann::json { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  nlohmann::json j = {{"count", m.count}, {"mse", num(m.mse)},         {"rmse", num(m.rmse)},
                      {"mae", num(m.mae)},  {"r2", num(m.r2)},           {"pearson", num(m.pearson)},
                      {"target_mean", num(m.target_mean)}, {"target_std", num(m.target_std)}};
  return j;
}

}  // namespace ft
