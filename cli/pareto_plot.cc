#include "cli/pareto_plot.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace transaxx::cli {
namespace {

// Canvas and plot area, in SVG user units.
constexpr double kWidth = 820, kHeight = 500;
constexpr double kLeft = 80, kRight = 600, kTop = 60, kBottom = 430;

constexpr char kGrey[] = "#9a9a9a";
constexpr char kFront[] = "#1f6fb4";
constexpr char kBaseline[] = "#d62728";
constexpr char kThreshold[] = "#e07b00";
constexpr char kBest[] = "#2ca02c";

// Data range [lo, hi] mapped linearly onto [out_lo, out_hi].
struct Scale {
  double lo, hi, out_lo, out_hi;
  double operator()(double v) const { return out_lo + (v - lo) / (hi - lo) * (out_hi - out_lo); }
};

// The padded range of `values`, never empty.
std::pair<double, double> Range(const std::vector<double>& values, double min_span) {
  double lo = *std::min_element(values.begin(), values.end());
  double hi = *std::max_element(values.begin(), values.end());
  const double pad = std::max((hi - lo) * 0.05, min_span / 2);
  return {lo - pad, hi + pad};
}

int Decimals(double step) {
  return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
}

std::string Num(double v) { return absl::StrFormat("%.2f", v); }

std::string Circle(double x, double y, double r, const std::string& style) {
  return absl::StrCat("<circle cx=\"", Num(x), "\" cy=\"", Num(y), "\" r=\"", Num(r), "\" ", style,
                      "/>\n");
}

std::string Diamond(double x, double y, double r, const std::string& style) {
  return absl::StrFormat("<polygon points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f\" %s/>\n", x,
                         y - r, x + r, y, x, y + r, x - r, y, style);
}

std::string Line(double x1, double y1, double x2, double y2, const std::string& style) {
  return absl::StrFormat("<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" %s/>\n", x1, y1, x2,
                         y2, style);
}

std::string Text(double x, double y, const std::string& text, const std::string& attrs) {
  return absl::StrFormat("<text x=\"%.2f\" y=\"%.2f\" %s>%s</text>\n", x, y, attrs,
                         XmlEscape(text));
}

// One axis: the line, ticks with labels, and the axis label.
std::string Axis(const Scale& s, const std::vector<double>& ticks, bool horizontal,
                 const std::string& label) {
  std::string out;
  const int decimals = Decimals(ticks.size() > 1 ? ticks[1] - ticks[0] : 1);
  const std::string grid = "stroke=\"#e4e4e4\" stroke-width=\"1\"";
  const std::string tick_style = "stroke=\"#333\" stroke-width=\"1\"";
  for (double t : ticks) {
    const double p = s(t);
    const std::string text = absl::StrFormat("%.*f", decimals, t);
    if (horizontal) {
      out += Line(p, kTop, p, kBottom, grid) + Line(p, kBottom, p, kBottom + 5, tick_style);
      out += Text(p, kBottom + 20, text, "text-anchor=\"middle\"");
    } else {
      out += Line(kLeft, p, kRight, p, grid) + Line(kLeft - 5, p, kLeft, p, tick_style);
      out += Text(kLeft - 9, p + 4, text, "text-anchor=\"end\"");
    }
  }
  if (horizontal) {
    out += Text((kLeft + kRight) / 2, kBottom + 45, label, "text-anchor=\"middle\"");
  } else {
    out += absl::StrFormat(
        "<text transform=\"translate(%.2f,%.2f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
        kLeft - 55, (kTop + kBottom) / 2, XmlEscape(label));
  }
  return out;
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (hi <= lo) hi = lo + 1;
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  const double first = std::floor(lo / step + 1e-9);
  const double last = std::ceil(hi / step - 1e-9);
  for (double k = first; k <= last; ++k) ticks.push_back(k * step);
  return ticks;
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderParetoSvg(const ParetoPlot& plot) {
  // Ranges over everything drawn.
  std::vector<double> xs = {1.0}, ys;
  auto add = [&](const PlotPoint& p) {
    xs.push_back(p.relative_power);
    ys.push_back(p.top1_pct);
  };
  for (const PlotPoint& p : plot.points) add(p);
  for (const PlotPoint& p : plot.front) add(p);
  if (plot.baseline) add(*plot.baseline);
  if (plot.best) add(*plot.best);
  if (plot.threshold_pct) ys.push_back(*plot.threshold_pct);
  if (ys.empty()) ys.push_back(0);
  const auto [x_lo, x_hi] = Range(xs, 0.05);
  const auto [y_lo, y_hi] = Range(ys, 1.0);
  const std::vector<double> x_ticks = NiceTicks(x_lo, x_hi, 8);
  const std::vector<double> y_ticks = NiceTicks(y_lo, y_hi, 6);
  const Scale sx{x_ticks.front(), x_ticks.back(), kLeft, kRight};
  const Scale sy{y_ticks.front(), y_ticks.back(), kBottom, kTop};

  std::string svg = absl::StrFormat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n",
      kWidth, kHeight, kWidth, kHeight, kWidth, kHeight);
  svg += Text(kWidth / 2, 24, plot.title,
              "text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\"");
  std::string subtitle = plot.subtitle;
  if (subtitle.size() > 110) subtitle = subtitle.substr(0, 107) + "...";
  svg += Text(kWidth / 2, 44, subtitle, "text-anchor=\"middle\" fill=\"#555\"");
  svg += "<g id=\"axes\">\n";
  svg += Axis(sx, x_ticks, true, "relative power (1 = all exact multipliers)");
  svg += Axis(sy, y_ticks, false, "top-1 accuracy (%)");
  svg += absl::StrFormat(
      "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
      "stroke=\"#333\"/>\n",
      kLeft, kTop, kRight - kLeft, kBottom - kTop);
  svg += "</g>\n";

  if (plot.threshold_pct) {
    const double y = sy(*plot.threshold_pct);
    svg += "<g id=\"threshold\">\n";
    svg += Line(
        kLeft, y, kRight, y,
        absl::StrCat("stroke=\"", kThreshold, "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\""));
    svg += "</g>\n";
  }

  svg += "<g id=\"points\">\n";
  const std::string dot = absl::StrCat("fill=\"", kGrey, "\" fill-opacity=\"0.7\"");
  for (const PlotPoint& p : plot.points)
    svg += Circle(sx(p.relative_power), sy(p.top1_pct), 2.5, dot);
  svg += "</g>\n";

  std::vector<PlotPoint> front = plot.front;
  std::sort(front.begin(), front.end(), [](const PlotPoint& a, const PlotPoint& b) {
    return a.relative_power < b.relative_power;
  });
  svg += "<g id=\"front\">\n";
  if (front.size() > 1) {
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(kFront) +
           "\" stroke-width=\"2\" points=\"";
    for (const PlotPoint& p : front) {
      absl::StrAppend(&svg, Num(sx(p.relative_power)), ",", Num(sy(p.top1_pct)), " ");
    }
    svg += "\"/>\n";
  }
  const std::string marker =
      absl::StrCat("fill=\"", kFront, "\" stroke=\"white\" stroke-width=\"1\"");
  for (const PlotPoint& p : front) svg += Circle(sx(p.relative_power), sy(p.top1_pct), 4.5, marker);
  svg += "</g>\n";

  const std::string best_style =
      absl::StrCat("fill=\"none\" stroke=\"", kBest, "\" stroke-width=\"2.5\"");
  const std::string baseline_style = absl::StrCat("fill=\"", kBaseline, "\" stroke=\"white\"");
  if (plot.best) {
    svg += "<g id=\"best\">\n" +
           Circle(sx(plot.best->relative_power), sy(plot.best->top1_pct), 8, best_style) + "</g>\n";
  }
  if (plot.baseline) {
    svg +=
        "<g id=\"baseline\">\n" +
        Diamond(sx(plot.baseline->relative_power), sy(plot.baseline->top1_pct), 7, baseline_style) +
        "</g>\n";
  }

  // Legend, right of the plot area.
  const double lx = kRight + 25;
  double ly = kTop + 10;
  svg += "<g id=\"legend\">\n";
  auto entry = [&](const std::string& symbol, const std::string& label) {
    svg += symbol + Text(lx + 22, ly + 4, label, "");
    ly += 24;
  };
  entry(Circle(lx + 8, ly, 3, dot), absl::StrCat("evaluated (", plot.points.size(), ")"));
  entry(Line(lx, ly, lx + 16, ly, absl::StrCat("stroke=\"", kFront, "\" stroke-width=\"2\"")) +
            Circle(lx + 8, ly, 4.5, marker),
        absl::StrCat("Pareto front (", front.size(), ")"));
  if (plot.baseline) entry(Diamond(lx + 8, ly, 7, baseline_style), plot.baseline_label);
  if (plot.best) entry(Circle(lx + 8, ly, 7, best_style), "best within threshold");
  if (plot.threshold_pct) {
    entry(Line(lx, ly, lx + 16, ly,
               absl::StrCat("stroke=\"", kThreshold,
                            "\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"")),
          plot.threshold_label);
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

}  // namespace transaxx::cli
