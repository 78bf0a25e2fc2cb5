// Regression metrics on cases worked out by hand, and the SVG learning-curve picture.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "model/train/loss_curves_svg.h"
#include "model/train/metrics.h"

using namespace ft;

// y = [1, 2, 3, 4], p = [1.5, 2, 2.5, 5]: residuals [0.5, 0, -0.5, 1];
// MSE = 1.5 / 4, MAE = 2 / 4, SS_tot = 5 so R^2 = 1 - 1.5 / 5 = 0.7;
// centred p = [-1.25, -0.75, -0.25, 2.25], centred y = [-1.5, -0.5, 0.5, 1.5]:
// r = 5.5 / sqrt(5 * 7.25).
// Tolerance 1e-12: four double operations on small exact numbers.
TEST(Metrics, HandWorkedExample) {
  const RegressionMetrics m = regression_metrics({1.5, 2, 2.5, 5}, {1, 2, 3, 4});
  EXPECT_EQ(m.count, 4);
  EXPECT_NEAR(m.mse, 0.375, 1e-12);
  EXPECT_NEAR(m.rmse, std::sqrt(0.375), 1e-12);
  EXPECT_NEAR(m.mae, 0.5, 1e-12);
  EXPECT_NEAR(m.r2, 0.7, 1e-12);
  EXPECT_NEAR(m.pearson, 5.5 / std::sqrt(5 * 7.25), 1e-12);
  EXPECT_NEAR(m.target_mean, 2.5, 1e-12);
  EXPECT_NEAR(m.target_std, std::sqrt(1.25), 1e-12);
}

TEST(Metrics, PerfectMeanAndAnticorrelated) {
  const std::vector<double> y = {0.3, -1.2, 2.7, 5.1, 0.9};
  const RegressionMetrics perfect = regression_metrics(y, y);
  EXPECT_EQ(perfect.mse, 0.0);
  EXPECT_NEAR(perfect.r2, 1.0, 1e-15);
  EXPECT_NEAR(perfect.pearson, 1.0, 1e-12);
  double mean = 0;
  for (double v : y) mean += v / 5;
  const RegressionMetrics at_mean = regression_metrics(std::vector<double>(5, mean), y);
  EXPECT_NEAR(at_mean.r2, 0.0, 1e-12);  // predicting the mean is R^2 = 0 by definition
  EXPECT_TRUE(std::isnan(at_mean.pearson));  // a constant prediction has no correlation
  std::vector<double> flipped;
  for (double v : y) flipped.push_back(-v);
  EXPECT_NEAR(regression_metrics(flipped, y).pearson, -1.0, 1e-12);
}

TEST(Metrics, LargeOffsetsDoNotCancel) {
  // Targets 1e8 + small values: centred sums keep R^2 exact where naive sums of squares would not.
  const RegressionMetrics m = regression_metrics({1e8 + 1.5, 1e8 + 2, 1e8 + 2.5, 1e8 + 5}, {1e8 + 1, 1e8 + 2, 1e8 + 3, 1e8 + 4});
  EXPECT_NEAR(m.r2, 0.7, 1e-9);
}

TEST(Metrics, ErrorsNameTheData) {
  try {
    regression_metrics({1, 2}, {1}, "test split");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test split"), std::string::npos);
  }
  EXPECT_THROW(regression_metrics({}, {}), Error);
  EXPECT_TRUE(std::isnan(regression_metrics({1, 2}, {3, 3}).r2));  // constant targets: undefined
  const auto j = metrics_json(regression_metrics({1, 2}, {3, 3}));
  EXPECT_TRUE(j["r2"].is_null());
  EXPECT_NEAR(j["mse"].get<double>(), 2.5, 1e-12);
}

namespace {
int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(LossCurvesSvg, TwoLinesLegendTitleAndBestMarker) {
  LossCurves c;
  c.title = "Loss <A&B>";
  for (int s = 1; s <= 20; ++s) c.train.push_back({s * 10, 2.0 / s + 0.3});
  c.valid = {{50, 0.9}, {100, 0.7}, {150, 0.75}, {200, std::nan("")}};
  c.best_step = 100;
  const std::string svg = loss_curves_svg(c);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 2);
  EXPECT_NE(svg.find("Loss &lt;A&amp;B&gt;"), std::string::npos);  // escaped
  EXPECT_NE(svg.find("train loss"), std::string::npos);
  EXPECT_NE(svg.find("validation MSE"), std::string::npos);
  EXPECT_NE(svg.find("best valid (step 100)"), std::string::npos);
  EXPECT_EQ(svg.find("nan"), std::string::npos);  // the NaN point is left out
  EXPECT_EQ(svg.find("log scale"), std::string::npos);
  // 3 finite validation points, each with a marker, plus the legend's marker.
  EXPECT_EQ(count(svg, "<circle"), 4);
}

TEST(LossCurvesSvg, LogScaleForWideRangesAndEmptyInput) {
  LossCurves c;
  c.train = {{1, 100.0}, {2, 10.0}, {3, 0.5}};
  EXPECT_NE(loss_curves_svg(c).find("log scale"), std::string::npos);
  const std::string empty = loss_curves_svg(LossCurves{});
  EXPECT_NE(empty.find("no points logged"), std::string::npos);
  EXPECT_NE(empty.find("</svg>"), std::string::npos);
}
