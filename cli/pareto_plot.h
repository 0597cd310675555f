// The accuracy-vs-power plot of a search job as a self-contained SVG
// document (no dependencies, valid XML): top-1 accuracy in percent (y)
// against relative power (x, 1 = all exact), every evaluated point as a small
// grey dot, the Pareto front as a line with markers, the all-exact baseline,
// the best configuration within the threshold, and the accuracy threshold as
// a dashed horizontal line; axes with ticks, labels with units, a title and
// a legend.
//
// Thread-safety: plain functions.
#ifndef TRANSAXX_CLI_PARETO_PLOT_H_
#define TRANSAXX_CLI_PARETO_PLOT_H_

#include <optional>
#include <string>
#include <vector>

namespace transaxx::cli {

struct PlotPoint {
  double relative_power = 1;  // x
  double top1_pct = 0;        // y, percent
};

struct ParetoPlot {
  std::string title = "Top-1 accuracy vs relative power";
  std::string subtitle;               // e.g. "job-…: fashion-vit (my search)"
  std::vector<PlotPoint> points;      // every evaluated point
  std::vector<PlotPoint> front;       // the Pareto front, any order
  std::optional<PlotPoint> baseline;  // the all-exact configuration
  std::string baseline_label = "all-exact baseline";
  std::optional<double> threshold_pct;  // lowest acceptable top-1, percent
  std::string threshold_label = "accuracy threshold";
  std::optional<PlotPoint> best;  // best within the threshold
};

// The SVG document (UTF-8, starting with the XML declaration).
std::string RenderParetoSvg(const ParetoPlot& plot);

// Axis ticks: multiples of a 1-2-5 step covering [lo, hi] with about
// `target` intervals; the first and last tick enclose the range.
// REQUIRES: lo and hi finite, target >= 1.
std::vector<double> NiceTicks(double lo, double hi, int target = 6);

// `text` with &, <, >, " and ' escaped for XML.
std::string XmlEscape(const std::string& text);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_PARETO_PLOT_H_
