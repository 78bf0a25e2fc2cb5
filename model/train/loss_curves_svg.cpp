#include "model/train/loss_curves_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "core/atomic_file.h"

namespace ft {

namespace {

// Plot area inside a 800 x 480 canvas.
constexpr double kWidth = 800, kHeight = 480;
constexpr double kLeft = 80, kRight = 770, kTop = 70, kBottom = 420;
constexpr const char* kTrainColour = "#1f77b4";
constexpr const char* kValidColour = "#d62728";

std::string escape_xml(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      default: r += c;
    }
  }
  return r;
}

// 1, 2 or 5 times a power of ten, at least `raw`.
double nice_step(double raw) {
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw * (1 - 1e-9)) return m * p;
  return 10 * p;
}

std::string fmt(double v) {
  char buf[32];
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e5 || a < 1e-3) std::snprintf(buf, sizeof buf, "%.0e", v);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double map(double v, double a, double b) const {  // value -> pixel between a (lo) and b (hi)
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return a + t * (b - a);
  }
};

std::vector<CurvePoint> finite(const std::vector<CurvePoint>& pts, bool positive) {
  std::vector<CurvePoint> r;
  for (const auto& p : pts)
    if (std::isfinite(p.value) && (!positive || p.value > 0)) r.push_back(p);
  return r;
}

// Grid lines and tick labels on both axes (y in decades 1-2-5 when logarithmic), the axes, their labels.
void write_grid_and_axes(std::ostringstream& o, const Axis& x, double xstep, const Axis& y) {
  o << "<g font-size=\"11\" fill=\"#333\">\n";
  for (double t = x.lo; t <= x.hi * (1 + 1e-9); t += xstep) {
    const double px = x.map(t, kLeft, kRight);
    o << "<line x1=\"" << px << "\" y1=\"" << kTop << "\" x2=\"" << px << "\" y2=\"" << kBottom
      << "\" stroke=\"#eee\"/>\n<text x=\"" << px << "\" y=\"" << kBottom + 16 << "\" text-anchor=\"middle\">"
      << fmt(t) << "</text>\n";
  }
  std::vector<double> yticks;
  if (y.log) {
    for (double d = y.lo; d <= y.hi * (1 + 1e-9); d *= 10)
      for (double m : {1.0, 2.0, 5.0})
        if (m * d <= y.hi * (1 + 1e-9)) yticks.push_back(m * d);
  } else {
    const double step = nice_step((y.hi - y.lo) / 5);
    for (double t = y.lo; t <= y.hi + step * 1e-9; t += step) yticks.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
  }
  for (double t : yticks) {
    const double py = y.map(t, kBottom, kTop);
    o << "<line x1=\"" << kLeft << "\" y1=\"" << py << "\" x2=\"" << kRight << "\" y2=\"" << py
      << "\" stroke=\"#eee\"/>\n<text x=\"" << kLeft - 6 << "\" y=\"" << py + 4 << "\" text-anchor=\"end\">" << fmt(t)
      << "</text>\n";
  }
  o << "</g>\n";
  // Axes and labels.
  o << "<line x1=\"" << kLeft << "\" y1=\"" << kBottom << "\" x2=\"" << kRight << "\" y2=\"" << kBottom
    << "\" stroke=\"black\"/>\n<line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\""
    << kBottom << "\" stroke=\"black\"/>\n"
    << "<text x=\"" << (kLeft + kRight) / 2 << "\" y=\"" << kBottom + 40
    << "\" text-anchor=\"middle\" font-size=\"13\">optimizer step</text>\n"
    << "<text transform=\"translate(22," << (kTop + kBottom) / 2
    << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">MSE loss" << (y.log ? " (log scale)" : "")
    << "</text>\n";
}

// The dashed line at the best validation step, labelled on the side with room.
void write_best_marker(std::ostringstream& o, int64_t best_step, const Axis& x) {
  if (best_step >= 0 && static_cast<double>(best_step) <= x.hi) {
    const double px = x.map(static_cast<double>(best_step), kLeft, kRight);
    o << "<line x1=\"" << px << "\" y1=\"" << kTop << "\" x2=\"" << px << "\" y2=\"" << kBottom
      << "\" stroke=\"#888\" stroke-dasharray=\"5,4\"/>\n";
    // The label sits on the side of the line with room for it.
    const bool left = px > (kLeft + kRight) / 2;
    o << "<text x=\"" << (left ? px - 4 : px + 4) << "\" y=\"" << kBottom - 8 << "\" text-anchor=\""
      << (left ? "end" : "start") << "\" font-size=\"11\" fill=\"#555\">best valid (step " << best_step
      << ")</text>\n";
  }
}

// The legend, top right inside the plot.
void write_legend(std::ostringstream& o) {
  const double lx = kRight - 170, ly = kTop + 10;
  o << "<rect x=\"" << lx << "\" y=\"" << ly << "\" width=\"160\" height=\"46\" fill=\"white\" stroke=\"#ccc\"/>\n"
    << "<line x1=\"" << lx + 10 << "\" y1=\"" << ly + 15 << "\" x2=\"" << lx + 40 << "\" y2=\"" << ly + 15
    << "\" stroke=\"" << kTrainColour << "\" stroke-width=\"2\"/>\n<text x=\"" << lx + 48 << "\" y=\"" << ly + 19
    << "\" font-size=\"12\">train loss</text>\n"
    << "<line x1=\"" << lx + 10 << "\" y1=\"" << ly + 33 << "\" x2=\"" << lx + 40 << "\" y2=\"" << ly + 33
    << "\" stroke=\"" << kValidColour << "\" stroke-width=\"2\"/>\n<circle cx=\"" << lx + 25 << "\" cy=\"" << ly + 33
    << "\" r=\"3\" fill=\"" << kValidColour << "\"/>\n<text x=\"" << lx + 48 << "\" y=\"" << ly + 37
    << "\" font-size=\"12\">validation MSE</text>\n";
}

}  // namespace

std::string loss_curves_svg(const LossCurves& curves) {
  std::vector<CurvePoint> train = finite(curves.train, false), valid = finite(curves.valid, false);
  double vmin = std::numeric_limits<double>::infinity(), vmax = -vmin;
  int64_t smax = 1;
  for (const auto* s : {&train, &valid})
    for (const auto& p : *s) {
      vmin = std::min(vmin, p.value);
      vmax = std::max(vmax, p.value);
      smax = std::max(smax, p.step);
    }
  const bool empty = train.empty() && valid.empty();
  if (empty) vmin = 0, vmax = 1;

  Axis y;
  y.log = !empty && vmin > 0 && vmax / vmin > 30;
  if (y.log) {
    train = finite(train, true);
    valid = finite(valid, true);
    y.lo = std::pow(10.0, std::floor(std::log10(vmin)));
    y.hi = std::pow(10.0, std::ceil(std::log10(vmax)));
  } else {
    y.lo = std::min(0.0, vmin);
    const double step = nice_step(std::max(vmax - y.lo, 1e-12) / 5);
    y.hi = std::ceil(vmax / step) * step;
    if (y.hi <= y.lo) y.hi = y.lo + step;
    y.lo = std::floor(y.lo / step) * step;
  }
  Axis x;
  const double xstep = nice_step(static_cast<double>(smax) / 8);
  x.lo = 0;
  x.hi = std::max(xstep, std::ceil(static_cast<double>(smax) / xstep) * xstep);

  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << kHeight
    << "\" viewBox=\"0 0 " << kWidth << " " << kHeight << "\" font-family=\"Helvetica, Arial, sans-serif\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << kWidth / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"18\">" << escape_xml(curves.title)
    << "</text>\n";
  if (!curves.subtitle.empty())
    o << "<text x=\"" << kWidth / 2 << "\" y=\"50\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">"
      << escape_xml(curves.subtitle) << "</text>\n";

  write_grid_and_axes(o, x, xstep, y);
  write_best_marker(o, curves.best_step, x);

  auto polyline = [&](const std::vector<CurvePoint>& pts, const char* colour, bool markers) {
    if (pts.empty()) return;
    o << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\"";
    for (const auto& p : pts)
      o << x.map(static_cast<double>(p.step), kLeft, kRight) << "," << y.map(p.value, kBottom, kTop) << " ";
    o << "\"/>\n";
    if (markers || pts.size() == 1)
      for (const auto& p : pts)
        o << "<circle cx=\"" << x.map(static_cast<double>(p.step), kLeft, kRight) << "\" cy=\""
          << y.map(p.value, kBottom, kTop) << "\" r=\"3\" fill=\"" << colour << "\"/>\n";
  };
  polyline(train, kTrainColour, false);
  polyline(valid, kValidColour, true);

  write_legend(o);
  if (empty)
    o << "<text x=\"" << (kLeft + kRight) / 2 << "\" y=\"" << (kTop + kBottom) / 2
      << "\" text-anchor=\"middle\" font-size=\"14\" fill=\"#888\">no points logged</text>\n";
  o << "</svg>\n";
  return o.str();
}

void write_loss_curves_svg(const LossCurves& curves, const std::string& path) {
  write_file_atomically(path, loss_curves_svg(curves));
}

}  // namespace ft
