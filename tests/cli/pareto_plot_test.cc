#include "cli/pareto_plot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace transaxx::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(NiceTicksTest, OneTwoFiveStepsEnclosingTheRange) {
  using ::testing::DoubleNear;
  using ::testing::Pointwise;
  EXPECT_THAT(NiceTicks(0.27, 1.03, 8),
              Pointwise(DoubleNear(1e-12), {0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1}));
  EXPECT_THAT(NiceTicks(62.3, 88.1, 6),
              Pointwise(DoubleNear(1e-12), {60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0}));
  EXPECT_THAT(NiceTicks(5, 5, 4), Pointwise(DoubleNear(1e-12), {5.0, 5.5, 6.0}));
  EXPECT_THAT(NiceTicks(-0.3, 0.3, 3), Pointwise(DoubleNear(1e-12), {-0.4, -0.2, 0.0, 0.2, 0.4}));
}

TEST(XmlEscapeTest, EscapesMarkup) {
  EXPECT_EQ(XmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
}

TEST(RenderParetoSvgTest, DrawsPointsFrontBaselineThresholdAxesAndLegend) {
  ParetoPlot plot;
  plot.subtitle = "job <1> & co";
  plot.points = {{1.0, 85}, {0.8, 84.5}, {0.5, 60}, {0.9, 70}};
  plot.front = {{0.5, 60}, {1.0, 85}, {0.8, 84.5}};
  plot.baseline = PlotPoint{1.0, 85};
  plot.threshold_pct = 84;
  plot.best = PlotPoint{0.8, 84.5};
  const std::string svg = RenderParetoSvg(plot);
  EXPECT_THAT(svg, StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns="));
  for (const char* part :
       {"Top-1 accuracy vs relative power", "job &lt;1&gt; &amp; co",
        "relative power (1 = all exact", "top-1 accuracy (%)", "stroke-dasharray", "evaluated (4)",
        "Pareto front (3)", "best within threshold"}) {
    EXPECT_THAT(svg, HasSubstr(part));
  }
  EXPECT_EQ(Count(svg, "<polyline"), 1u);
  // Groups and text elements are balanced; the document ends with </svg>.
  EXPECT_EQ(Count(svg, "<g "), Count(svg, "</g>"));
  EXPECT_EQ(Count(svg, "<text "), Count(svg, "</text>"));
  EXPECT_THAT(svg, ::testing::EndsWith("</svg>\n"));
  // 4 grey dots + 3 front markers + best ring + 3 legend circles.
  EXPECT_EQ(Count(svg, "<circle"), 4u + 3u + 1u + 3u);
}

TEST(RenderParetoSvgTest, AnEmptyPlotIsStillADocument) {
  const std::string svg = RenderParetoSvg(ParetoPlot{});
  EXPECT_THAT(svg, HasSubstr("</svg>"));
  EXPECT_THAT(svg, HasSubstr("evaluated (0)"));
}

}  // namespace
}  // namespace transaxx::cli
