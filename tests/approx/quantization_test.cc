#include "libs/approx/quantization.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
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

// QuantizeSlice against QuantizeValue, value by value, for `values`, and
// for their first 1100 (the named edge values) shifted by 1..16 places, so
// that each of those meets every vector lane and the scalar tail.
void ExpectSliceEqualsValues(const std::vector<float>& values, float scale,
                             const std::string& what) {
  std::vector<int8_t> out(values.size());
  QuantizeSlice(values, scale, out);
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(out[i], QuantizeValue(values[i], scale))
        << what << ": x=" << values[i] << " (bits " << std::bit_cast<uint32_t>(values[i])
        << ") scale=" << scale;
  }
  const size_t named = std::min<size_t>(values.size(), 1100);
  for (size_t offset = 1; offset <= 16 && offset < named; ++offset) {
    const std::span<const float> shifted(values.data() + offset, named - offset);
    std::vector<int8_t> part(shifted.size());
    QuantizeSlice(shifted, scale, part);
    ASSERT_TRUE(std::equal(part.begin(), part.end(), out.begin() + offset)) << what << offset;
  }
}

// Ties at every step, the steps beyond +-127, signed zeros, subnormals,
// infinities, NaNs of both signs, the extremes, and a sweep of float bit
// patterns (every 4099th: each exponent, many mantissas).
std::vector<float> EdgeValues(float scale) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.0f,
                          -0.0f,
                          std::numeric_limits<float>::denorm_min(),
                          -std::numeric_limits<float>::denorm_min(),
                          std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(),
                          -std::numeric_limits<float>::max(),
                          inf,
                          -inf,
                          std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::signaling_NaN()};
  for (int step = -131; step <= 131; ++step) {
    for (float offset : {-0.5f, 0.5f, 0.499999f, 0.500001f}) v.push_back((step + offset) * scale);
  }
  for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 4099) {
    v.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  }
  return v;
}

TEST(QuantizationTest, SliceEqualsValueByValueOnEdgesAndBitPatterns) {
  for (float scale : {1.0f, 0.25f, 0.0173f, 3e-6f, 1e30f, std::numeric_limits<float>::denorm_min(),
                      *ScaleFromAmax(2.54f)}) {
    ExpectSliceEqualsValues(EdgeValues(scale), scale, "default rounding");
  }
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 40.0f);
  for (size_t n = 0; n <= 40; ++n) {
    std::vector<float> x(n);
    for (float& v : x) v = normal(rng);
    ExpectSliceEqualsValues(x, 1.0f, "length " + std::to_string(n));
  }
}

// This thread's rounding mode while it lives; the one before after.
class RoundingMode {
 public:
  explicit RoundingMode(int mode) : before_(std::fegetround()) {
    set_ = std::fesetround(mode) == 0;
  }
  ~RoundingMode() { std::fesetround(before_); }
  bool set() const { return set_; }

 private:
  int before_;
  bool set_ = false;
};

// nearbyint rounds in the calling thread's rounding mode, and so must the
// slice.
TEST(QuantizationTest, SliceFollowsTheRoundingModeAsValueDoes) {
  const std::vector<float> values = EdgeValues(0.5f);
  for (int mode : {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO, FE_TONEAREST}) {
    const RoundingMode rounding(mode);
    ASSERT_TRUE(rounding.set());
    ExpectSliceEqualsValues(values, 0.5f, "rounding mode " + std::to_string(mode));
  }
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
