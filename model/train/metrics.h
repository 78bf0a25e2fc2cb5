// Regression metrics of predictions against targets, all accumulated in double.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ft {

struct RegressionMetrics {
  int64_t count = 0;
  double mse = 0.0;
  double rmse = 0.0;
  double mae = 0.0;
  // 1 - SS_res / SS_tot (sklearn's r2_score): 0 for predicting the targets' mean, negative when
  // worse. NaN when the targets are all equal (SS_tot = 0), as the ratio is then undefined.
  double r2 = 0.0;
  // Pearson correlation of predictions and targets; NaN when either is constant.
  double pearson = 0.0;
  double target_mean = 0.0;
  double target_std = 0.0;  // population standard deviation of the targets
};

// `what` names the data in the error for mismatched or empty inputs.
RegressionMetrics regression_metrics(const std::vector<double>& predictions, const std::vector<double>& targets,
                                     const std::string& what = "predictions");

// {"count", "mse", "rmse", "mae", "r2", "pearson", "target_mean", "target_std"}; NaN becomes null.
nlohmann::json metrics_json(const RegressionMetrics& m);

}  // namespace ft
