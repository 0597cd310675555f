#include "libs/approx/quantization.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace transaxx::approx {
namespace {

// The documented bound on |x - dequantize(quantize(x))| inside the range.
float RoundTripBound(float x, float scale) {
  return scale / 2 + std::abs(x) * std::ldexp(1.0f, -22);
}

TEST(QuantizationTest, ScaleIsAmaxOver127) {
  EXPECT_EQ(*ScaleFromAmax(127.0f), 1.0f);
  EXPECT_EQ(*ScaleFromAmax(2.54f), 2.54f / 127.0f);
}

TEST(QuantizationTest, ZeroAmaxGivesScaleOne) { EXPECT_EQ(*ScaleFromAmax(0.0f), 1.0f); }

TEST(QuantizationTest, SubnormalAmaxGivesAPositiveScale) {
  const float scale = *ScaleFromAmax(std::numeric_limits<float>::denorm_min());
  EXPECT_GT(scale, 0.0f);
  EXPECT_EQ(QuantizeValue(0.0f, scale), 0);
  EXPECT_EQ(QuantizeValue(1.0f, scale), 127);
}

TEST(QuantizationTest, BadAmaxIsRefused) {
  for (float amax :
       {-1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    EXPECT_EQ(ScaleFromAmax(amax).status().code(), absl::StatusCode::kInvalidArgument) << amax;
  }
}

TEST(QuantizationTest, RoundsHalfToEven) {
  EXPECT_EQ(QuantizeValue(0.5f, 1.0f), 0);
  EXPECT_EQ(QuantizeValue(1.5f, 1.0f), 2);
  EXPECT_EQ(QuantizeValue(2.5f, 1.0f), 2);
  EXPECT_EQ(QuantizeValue(3.5f, 1.0f), 4);
  EXPECT_EQ(QuantizeValue(-0.5f, 1.0f), 0);
  EXPECT_EQ(QuantizeValue(-1.5f, 1.0f), -2);
  EXPECT_EQ(QuantizeValue(-2.5f, 1.0f), -2);
  EXPECT_EQ(QuantizeValue(126.5f, 1.0f), 126);
  EXPECT_EQ(QuantizeValue(2.6f, 1.0f), 3);
  EXPECT_EQ(QuantizeValue(0.75f, 0.5f), 2);  // 1.5 steps
  EXPECT_EQ(QuantizeValue(1.25f, 0.5f), 2);  // 2.5 steps
}

TEST(QuantizationTest, ClipsToTheNarrowRange) {
  EXPECT_EQ(QuantizeValue(127.0f, 1.0f), 127);
  EXPECT_EQ(QuantizeValue(127.4f, 1.0f), 127);
  EXPECT_EQ(QuantizeValue(1e30f, 1.0f), 127);
  EXPECT_EQ(QuantizeValue(-127.0f, 1.0f), -127);
  EXPECT_EQ(QuantizeValue(-128.0f, 1.0f), -127);  // never -128
  EXPECT_EQ(QuantizeValue(-1e30f, 1.0f), -127);
}

TEST(QuantizationTest, NonFiniteValuesHaveDefinedResults) {
  EXPECT_EQ(QuantizeValue(std::numeric_limits<float>::infinity(), 0.1f), 127);
  EXPECT_EQ(QuantizeValue(-std::numeric_limits<float>::infinity(), 0.1f), -127);
  EXPECT_EQ(QuantizeValue(std::numeric_limits<float>::quiet_NaN(), 0.1f), 0);
}

TEST(QuantizationTest, RoundTripErrorIsAtMostHalfAStepInsideTheRange) {
  std::mt19937 rng(7);
  for (float amax : {1e-6f, 0.01f, 1.0f, 3.7f, 1000.0f, 3e30f}) {
    const float scale = *ScaleFromAmax(amax);
    std::uniform_real_distribution<float> dist(-amax, amax);
    std::vector<float> x(20000);
    for (float& v : x) v = dist(rng);
    x.insert(x.end(), {amax, -amax, 0.0f, scale / 2, -scale / 2, 1.5f * scale});
    std::vector<int8_t> q(x.size());
    std::vector<float> back(x.size());
    ASSERT_TRUE(Quantize(x, {{scale}}, q).ok());
    ASSERT_TRUE(Dequantize(q, {{scale}}, back).ok());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_LE(std::abs(x[i] - back[i]), RoundTripBound(x[i], scale))
          << "x=" << x[i] << " amax=" << amax;
      ASSERT_GE(q[i], -kQuantMax);
    }
  }
}

TEST(QuantizationTest, ValuesBeyondTheRangeAreClipped) {
  const float scale = *ScaleFromAmax(2.0f);
  std::vector<float> x = {2.5f, -3.0f, 100.0f};
  std::vector<int8_t> q(x.size());
  ASSERT_TRUE(Quantize(x, {{scale}}, q).ok());
  EXPECT_EQ(q, (std::vector<int8_t>{127, -127, 127}));
}

TEST(QuantizationTest, PerChannelUsesEachSlicesScale) {
  // Three channels of four values: rows of a [3, 4] weight.
  // clang-format off
  const std::vector<float> w = {1, -2, 0.5f, 4,
                                0.01f, 0.02f, -0.03f, 0,
                                100, -50, 25, -12.5f};
  // clang-format on
  const std::vector<float> amax = *AbsMaxPerChannel(w, 3);
  EXPECT_EQ(amax, (std::vector<float>{4, 0.03f, 100}));
  const QuantParams params = *QuantParamsFromAmax(amax);
  ASSERT_EQ(params.scales.size(), 3u);
  std::vector<int8_t> q(w.size());
  ASSERT_TRUE(Quantize(w, params, q).ok());
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(q[i], QuantizeValue(w[i], params.scales[i / 4])) << i;
  }
  // Each channel's largest magnitude maps to +-127.
  EXPECT_EQ(q[3], 127);
  EXPECT_EQ(q[6], -127);
  EXPECT_EQ(q[8], 127);
  std::vector<float> back(w.size());
  ASSERT_TRUE(Dequantize(q, params, back).ok());
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(back[i], q[i] * params.scales[i / 4]);
    EXPECT_LE(std::abs(w[i] - back[i]), RoundTripBound(w[i], params.scales[i / 4]));
  }
}

TEST(QuantizationTest, AllZeroChannelQuantizesToZeros) {
  const std::vector<float> w = {0, 0, 1, -1};
  const QuantParams params = *QuantParamsFromAmax(*AbsMaxPerChannel(w, 2));
  EXPECT_EQ(params.scales[0], 1.0f);
  std::vector<int8_t> q(w.size());
  ASSERT_TRUE(Quantize(w, params, q).ok());
  EXPECT_EQ(q, (std::vector<int8_t>{0, 0, 127, -127}));
}

TEST(QuantizationTest, AbsMaxRefusesBadArguments) {
  const std::vector<float> x = {1, 2, 3};
  EXPECT_EQ(*AbsMaxPerChannel(x, 1), std::vector<float>{3});
  EXPECT_EQ(AbsMaxPerChannel(x, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AbsMaxPerChannel(x, 2).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<float> nan = {1, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_EQ(AbsMaxPerChannel(nan, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*AbsMaxPerChannel(std::vector<float>{}, 4), std::vector<float>(4, 0.0f));
}

TEST(QuantizationTest, ParamsFromAmaxRefuseBadRanges) {
  EXPECT_EQ(QuantParamsFromAmax({}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<float> negative = {1, -1};
  EXPECT_EQ(QuantParamsFromAmax(negative).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(QuantizationTest, BadShapesOrScalesWriteNothing) {
  const std::vector<float> x = {1, 2, 3, 4};
  std::vector<int8_t> out(4, 99);
  std::vector<int8_t> short_out(3, 99);
  std::vector<float> float_out(4, 99.0f);
  const std::vector<QuantParams> bad_params = {
      {},                                            // no scale
      {{1.0f, 1.0f, 1.0f}},                          // 4 values in 3 channels
      {{0.0f}},                                      // zero scale
      {{-1.0f}},                                     // negative scale
      {{std::numeric_limits<float>::infinity()}},    // infinite scale
      {{std::numeric_limits<float>::quiet_NaN()}}};  // NaN scale
  for (const QuantParams& params : bad_params) {
    EXPECT_EQ(Quantize(x, params, out).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Dequantize(out, params, float_out).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Quantize(x, {{1.0f}}, short_out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(out, std::vector<int8_t>(4, 99));
  EXPECT_EQ(short_out, std::vector<int8_t>(3, 99));
  EXPECT_EQ(float_out, std::vector<float>(4, 99.0f));
}

}  // namespace
}  // namespace transaxx::approx
