#include "libs/approx/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace transaxx::approx {
namespace {

// n evenly spaced quantiles of the uniform distribution on (0, 1): a
// deterministic stand-in for a large uniform sample.
std::vector<float> UniformQuantiles(int n) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = (static_cast<float>(i) + 0.5f) / static_cast<float>(n);
  return x;
}

// n quantiles of |Laplace(0, 1)| = Exponential(1), with alternating signs:
// a heavy-tailed activation.
std::vector<float> LaplaceQuantiles(int n) {
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) {
    const double p = (i + 0.5) / n;
    x[i] = static_cast<float>((i % 2 == 0 ? 1 : -1) * -std::log1p(-p));
  }
  return x;
}

AbsHistogram HistogramOf(const std::vector<float>& values) {
  AbsHistogram histogram = *AbsHistogram::Create();
  EXPECT_TRUE(histogram.Add(values).ok());
  return histogram;
}

int64_t Sum(const std::vector<int64_t>& counts) {
  return std::accumulate(counts.begin(), counts.end(), int64_t{0});
}

TEST(CalibrationHistogramTest, BinCountMustBeEvenAndLargeEnough) {
  for (int bins : {0, 2, 126, 127, 129, 2047}) {
    EXPECT_EQ(AbsHistogram::Create(bins).status().code(), absl::StatusCode::kInvalidArgument)
        << bins;
  }
  EXPECT_EQ(AbsHistogram::Create(128)->counts().size(), 128u);
  EXPECT_EQ(AbsHistogram::Create()->counts().size(), 2048u);
}

TEST(CalibrationHistogramTest, FirstBatchSetsTheRangeAndCountsAbsoluteValues) {
  AbsHistogram histogram = *AbsHistogram::Create(128);
  ASSERT_TRUE(histogram.Add(std::vector<float>{-1.0f, 0.25f, 0.0f, 1.0f / 128}).ok());
  EXPECT_EQ(histogram.range(), 1.0);
  EXPECT_EQ(histogram.max_abs(), 1.0f);
  EXPECT_EQ(histogram.total_count(), 4);
  EXPECT_EQ(histogram.counts()[0], 1);    // 0
  EXPECT_EQ(histogram.counts()[1], 1);    // 1/128
  EXPECT_EQ(histogram.counts()[32], 1);   // 0.25
  EXPECT_EQ(histogram.counts()[127], 1);  // |-1| == range
}

TEST(CalibrationHistogramTest, RangeDoublesWithoutLosingCounts) {
  AbsHistogram histogram = *AbsHistogram::Create(128);
  ASSERT_TRUE(histogram.Add(UniformQuantiles(1000)).ok());
  const double first_range = histogram.range();
  ASSERT_TRUE(histogram.Add(std::vector<float>{3.4f * static_cast<float>(first_range)}).ok());
  EXPECT_EQ(histogram.range(), 4 * first_range);
  EXPECT_EQ(histogram.total_count(), 1001);
  EXPECT_EQ(Sum(histogram.counts()), 1001);
  // The uniform values now fill the first quarter of the bins.
  EXPECT_GT(histogram.counts()[31], 0);
  EXPECT_EQ(histogram.counts()[32], 0);
  EXPECT_EQ(histogram.counts()[108], 1);
}

TEST(CalibrationHistogramTest, ZerosBeforeTheFirstNonZeroValueLandInBinZero) {
  AbsHistogram histogram = *AbsHistogram::Create();
  ASSERT_TRUE(histogram.Add(std::vector<float>(10, 0.0f)).ok());
  EXPECT_EQ(histogram.range(), 0.0);
  EXPECT_EQ(histogram.total_count(), 10);
  EXPECT_EQ(*CalibrateMax(histogram), 0.0f);
  EXPECT_EQ(*CalibratePercentile(histogram, 99.99), 0.0f);
  EXPECT_EQ(*CalibrateMse(histogram), 0.0f);
  EXPECT_EQ(*CalibrateEntropy(histogram), 0.0f);
  ASSERT_TRUE(histogram.Add(std::vector<float>{2.0f}).ok());
  EXPECT_EQ(histogram.counts()[0], 10);
  EXPECT_EQ(Sum(histogram.counts()), 11);
}

TEST(CalibrationHistogramTest, NonFiniteValuesAreRefusedAndChangeNothing) {
  AbsHistogram histogram = HistogramOf(UniformQuantiles(100));
  const std::vector<int64_t> before = histogram.counts();
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    EXPECT_EQ(histogram.Add(std::vector<float>{5.0f, bad}).code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(histogram.counts(), before);
  EXPECT_EQ(histogram.total_count(), 100);
  EXPECT_EQ(histogram.max_abs(), 0.995f);
}

TEST(CalibrationTest, EmptyHistogramIsAFailedPrecondition) {
  const AbsHistogram histogram = *AbsHistogram::Create();
  for (CalibrationMethod method : {CalibrationMethod::kMax, CalibrationMethod::kPercentile,
                                   CalibrationMethod::kMse, CalibrationMethod::kEntropy}) {
    EXPECT_EQ(Calibrate(histogram, {.method = method}).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

TEST(CalibrationTest, MaxIgnoresNothing) {
  std::vector<float> x = UniformQuantiles(100000);
  x.push_back(-1000.0f);
  EXPECT_EQ(*CalibrateMax(HistogramOf(x)), 1000.0f);
}

TEST(CalibrationTest, PercentileOfAUniformDistribution) {
  const AbsHistogram histogram = HistogramOf(UniformQuantiles(100000));
  const double width = histogram.bin_width();
  EXPECT_NEAR(*CalibratePercentile(histogram, 50), 0.5, width);
  EXPECT_NEAR(*CalibratePercentile(histogram, 90), 0.9, width);
  EXPECT_NEAR(*CalibratePercentile(histogram, 99.99), 0.9999, width);
  EXPECT_EQ(*CalibratePercentile(histogram, 100), histogram.max_abs());
  // The default of the options is 99.99.
  EXPECT_EQ(*Calibrate(histogram, {.method = CalibrationMethod::kPercentile}),
            *CalibratePercentile(histogram, 99.99));
}

TEST(CalibrationTest, PercentileIgnoresRareOutliers) {
  std::vector<float> x = UniformQuantiles(100000);
  x.insert(x.end(), {100.0f, -100.0f, 100.0f, 100.0f, -100.0f});
  const AbsHistogram histogram = HistogramOf(x);
  const float amax = *CalibratePercentile(histogram, 99.99);
  EXPECT_GT(amax, 0.9f);
  EXPECT_LE(amax, 1.0 + histogram.bin_width());
}

TEST(CalibrationTest, PercentileMustBeInRange) {
  const AbsHistogram histogram = HistogramOf(UniformQuantiles(10));
  for (double p : {0.0, -1.0, 100.5, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_EQ(CalibratePercentile(histogram, p).status().code(), absl::StatusCode::kInvalidArgument)
        << p;
  }
}

TEST(CalibrationTest, MseKeepsNearlyAllOfAUniformDistribution) {
  // Clipping a uniform distribution costs more than the finer step gains:
  // the optimum is within ~0.3% of the maximum.
  const AbsHistogram histogram = HistogramOf(UniformQuantiles(100000));
  const float amax = *CalibrateMse(histogram);
  EXPECT_GE(amax, 0.99f * histogram.max_abs());
  EXPECT_LE(amax, histogram.max_abs());
}

TEST(CalibrationTest, MseClipsAHeavyTailNearTheLaplaceOptimum) {
  // For Laplace(0, b) and 8 bits the expected error
  //   amax^2 / (12 * 127^2) + 2 b^2 exp(-amax / b)
  // is least at amax ~ 9.9 b (Banner et al., ACIQ), well below the largest
  // of 200,000 samples (~12.9 b).
  const AbsHistogram histogram = HistogramOf(LaplaceQuantiles(200000));
  const float amax = *CalibrateMse(histogram);
  EXPECT_GT(histogram.max_abs(), 12.5f);
  EXPECT_GT(amax, 9.0f);
  EXPECT_LT(amax, 10.8f);
}

TEST(CalibrationTest, EntropyKeepsNearlyAllOfAUniformDistribution) {
  const AbsHistogram histogram = HistogramOf(UniformQuantiles(100000));
  EXPECT_GE(*CalibrateEntropy(histogram), 0.95f * histogram.max_abs());
}

TEST(CalibrationTest, EntropyClipsAHeavyTail) {
  const AbsHistogram histogram = HistogramOf(LaplaceQuantiles(200000));
  const float amax = *CalibrateEntropy(histogram);
  EXPECT_GT(amax, 5.0f);
  EXPECT_LT(amax, 0.85f * histogram.max_abs());
}

TEST(CalibrationTest, EntropyIgnoresRareOutliers) {
  std::vector<float> x = LaplaceQuantiles(200000);
  x.insert(x.end(), {-100.0f, 100.0f, 100.0f});
  const AbsHistogram histogram = HistogramOf(x);
  const float amax = *CalibrateEntropy(histogram);
  EXPECT_GT(amax, 5.0f);
  EXPECT_LT(amax, 15.0f);
}

TEST(CalibrationTest, ClipsAreOrderedOnAHeavyTail) {
  const AbsHistogram histogram = HistogramOf(LaplaceQuantiles(200000));
  const float max = *CalibrateMax(histogram);
  EXPECT_LT(*CalibratePercentile(histogram, 99.99), max);
  EXPECT_LT(*CalibrateMse(histogram), max);
  EXPECT_LT(*CalibrateEntropy(histogram), max);
}

TEST(CalibrationTest, CalibratorsAreScaleEquivariant) {
  // Scaling the data by a power of two scales every bin edge exactly, so
  // every calibrator's amax scales exactly too.
  std::vector<float> x = LaplaceQuantiles(50000);
  std::vector<float> scaled = x;
  for (float& v : scaled) v *= 8.0f;
  const AbsHistogram a = HistogramOf(x);
  const AbsHistogram b = HistogramOf(scaled);
  for (CalibrationMethod method : {CalibrationMethod::kMax, CalibrationMethod::kPercentile,
                                   CalibrationMethod::kMse, CalibrationMethod::kEntropy}) {
    EXPECT_EQ(8.0f * *Calibrate(a, {.method = method}), *Calibrate(b, {.method = method}))
        << CalibrationMethodName(method);
  }
}

TEST(CalibrationTest, SameBatchesGiveTheSameAmax) {
  std::vector<float> batch1 = LaplaceQuantiles(30000);
  std::vector<float> batch2 = UniformQuantiles(20000);
  for (float& v : batch2) v *= 40.0f;  // grows the range
  AbsHistogram a = *AbsHistogram::Create();
  AbsHistogram b = *AbsHistogram::Create();
  for (AbsHistogram* h : {&a, &b}) {
    ASSERT_TRUE(h->Add(batch1).ok());
    ASSERT_TRUE(h->Add(batch2).ok());
  }
  EXPECT_EQ(a.counts(), b.counts());
  for (CalibrationMethod method : {CalibrationMethod::kMax, CalibrationMethod::kPercentile,
                                   CalibrationMethod::kMse, CalibrationMethod::kEntropy}) {
    EXPECT_EQ(*Calibrate(a, {.method = method}), *Calibrate(b, {.method = method}));
  }
}

TEST(CalibrationTest, MethodNamesParseBack) {
  for (CalibrationMethod method : {CalibrationMethod::kMax, CalibrationMethod::kPercentile,
                                   CalibrationMethod::kMse, CalibrationMethod::kEntropy}) {
    EXPECT_EQ(*ParseCalibrationMethod(CalibrationMethodName(method)), method);
  }
  EXPECT_EQ(ParseCalibrationMethod("kl").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace transaxx::approx
