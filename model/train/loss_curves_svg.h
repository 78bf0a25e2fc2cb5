// The learning curves of a run as a standalone SVG picture: train and validation loss against the
// optimizer step (the paper's Table 1 as a plot), written by hand, no plotting library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ft {

struct CurvePoint {
  int64_t step = 0;
  double value = 0.0;
};

struct LossCurves {
  std::string title = "Learning curves";
  std::string subtitle;           // e.g. the model and the data
  std::vector<CurvePoint> train;  // mean training loss since the previous point
  std::vector<CurvePoint> valid;  // validation MSE
  int64_t best_step = -1;         // marked with a dashed line when >= 0
};

// The SVG document. Non-finite values are left out. The y axis is logarithmic when the plotted
// values span more than a factor of 30 (early losses would flatten the rest), else linear from 0.
std::string loss_curves_svg(const LossCurves& curves);
// Writes it atomically.
void write_loss_curves_svg(const LossCurves& curves, const std::string& path);

}  // namespace ft
