// Relative area and power estimates: the exact multiplier is 1 on both
// scales, masking saves in the expected order, and the default power proxy
// meets its accuracy goal against EvoApproxLib's published figures.
#include "libs/approx/hardware/estimate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "libs/approx/builtin.h"
#include "libs/approx/hardware/verilog.h"
#include "libs/approx/table_io.h"
#include "tests/approx/hardware/hardware_test_util.h"

namespace transaxx::approx::hardware {
namespace {

EstimateOptions Cached(const std::string& name) {
  EstimateOptions options;
  options.synthesis.cache_dir = FreshDir(name).string();
  return options;
}

EstimatedFigures Estimate(const std::string& id, const EstimateOptions& options) {
  absl::StatusOr<EstimatedFigures> figures = EstimateBuiltin(id, options);
  EXPECT_TRUE(figures.ok()) << id << ": " << figures.status();
  return figures.ok() ? *figures : EstimatedFigures();
}

TEST(EstimateTest, ExactIsOneOnBothScales) {
  TRANSAXX_REQUIRE_YOSYS();
  const EstimatedFigures exact = Estimate("exact", Cached("exact"));
  EXPECT_EQ(exact.relative_area, 1.0);
  EXPECT_EQ(exact.relative_power, 1.0);
  EXPECT_GT(exact.transistors, 0);
  EXPECT_GT(exact.cells, 0);
}

TEST(EstimateTest, CoarserMaskingCostsLessAreaAndPower) {
  TRANSAXX_REQUIRE_YOSYS();
  const EstimateOptions options = Cached("order");
  double area = 1, power = 1;
  for (const char* id : {"mask:a=1", "mask:a=1,b=1", "mask:a=3,b=3", "mask:a=7,b=7"}) {
    const EstimatedFigures figures = Estimate(id, options);
    EXPECT_LT(figures.relative_area, area) << id;
    EXPECT_LT(figures.relative_power, power) << id;
    EXPECT_GT(figures.relative_power, 0) << id;
    area = figures.relative_area;
    power = figures.relative_power;
  }
}

TEST(EstimateTest, TransistorProxyMakesPowerEqualArea) {
  TRANSAXX_REQUIRE_YOSYS();
  EstimateOptions options = Cached("transistors");
  options.power_proxy = PowerProxy::kTransistors;
  const EstimatedFigures figures = Estimate("drum:k=4", options);
  EXPECT_EQ(figures.relative_power, figures.relative_area);
  EXPECT_LT(figures.relative_area, 1);
}

TEST(EstimateTest, EveryProxyIsDeterministic) {
  TRANSAXX_REQUIRE_YOSYS();
  EstimateOptions options = Cached("deterministic");
  for (DelayModel delay : {DelayModel::kZeroDelay, DelayModel::kUnitDelay}) {
    for (OperandStream operands : {OperandStream::kUniform, OperandStream::kGaussianInt8}) {
      options.delay_model = delay;
      options.operands = operands;
      const EstimatedFigures first = Estimate("roba", options);
      const EstimatedFigures second = Estimate("roba", options);
      EXPECT_EQ(first.relative_power, second.relative_power);
      EXPECT_GT(first.relative_power, 0);
    }
  }
}

TEST(EstimateTest, UnsignedUserVerilogIsRelativeToTheUnsignedExact) {
  TRANSAXX_REQUIRE_YOSYS();
  const Multiplier exact = UnsignedExactMultiplier();
  absl::StatusOr<EstimatedFigures> figures =
      EstimateUserVerilog(ExactVerilog(Signedness::kUnsigned), "", exact, Cached("unsigned"));
  ASSERT_TRUE(figures.ok()) << figures.status();
  EXPECT_EQ(figures->relative_area, 1.0);
  EXPECT_EQ(figures->relative_power, 1.0);
}

TEST(EstimateTest, ErrorsOfSynthesisPassThrough) {
  EstimateOptions options;
  options.synthesis.yosys = "/nonexistent/bin/yosys";
  EXPECT_EQ(EstimateBuiltin("exact", options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(EstimateBuiltin("nosuch", options).status().code(), absl::StatusCode::kInvalidArgument);
}

// The check of the estimator: five EvoApproxLib circuits are masking
// multipliers; with the default proxy the estimates must rank them as the
// published PDK45 powers do, with a mean relative error of at most 25%.
TEST(EstimateTest, DefaultProxyMatchesPublishedPowerOfTheMaskingCircuits) {
  TRANSAXX_REQUIRE_YOSYS();
  absl::StatusOr<std::vector<PublishedFigures>> published =
      ReadPublishedFigures(TRANSAXX_EVOAPPROX_DIR "/multipliers.json");
  ASSERT_TRUE(published.ok()) << published.status();
  const auto power = [&](const std::string& name) {
    for (const PublishedFigures& f : *published) {
      if (f.name == name) return f.power_mw.value_or(0);
    }
    return 0.0;
  };
  const std::vector<std::pair<std::string, std::string>> pairs = {{"mask:a=1", "mul8s_1KVM"},
                                                                  {"mask:a=1,b=1", "mul8s_1L2J"},
                                                                  {"mask:a=7", "mul8s_1KXF"},
                                                                  {"mask:a=3,b=3", "mul8s_1L2L"},
                                                                  {"mask:a=7,b=7", "mul8s_1L2N"}};
  const EstimateOptions options = Cached("published");
  std::vector<double> truth, estimated;
  double error = 0;
  for (const auto& [id, circuit] : pairs) {
    truth.push_back(power(circuit) / power("mul8s_1KV6"));
    estimated.push_back(Estimate(id, options).relative_power);
    error += std::abs(estimated.back() - truth.back()) / truth.back() / pairs.size();
  }
  EXPECT_LE(error, 0.25);
  for (size_t i = 0; i < pairs.size(); ++i) {
    for (size_t j = 0; j < pairs.size(); ++j) {
      EXPECT_EQ(truth[i] < truth[j], estimated[i] < estimated[j])
          << pairs[i].second << " vs " << pairs[j].second;
    }
  }
}

}  // namespace
}  // namespace transaxx::approx::hardware
