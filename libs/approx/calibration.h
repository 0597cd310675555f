// Calibration of activation clipping ranges: a histogram of |x| fed batch by
// batch, and the calibrators that choose amax (the clipping range [-amax,
// amax] of symmetric int8 quantization, see quantization.h) from it:
//   - max:        the largest |x| seen, ignoring nothing;
//   - percentile: the upper edge of the bin holding the p-th percentile of
//                 |x| (default p = 99.99);
//   - mse:        the clip that minimizes the expected squared error of
//                 quantization (rounding noise step^2/12 for values inside)
//                 plus clipping ((|x| - amax)^2 for values beyond);
//   - entropy:    TensorRT's KL-divergence calibration: the clip whose
//                 128-level quantized distribution is closest to the
//                 clipped reference distribution (with the first bin
//                 flattened to its neighbour's height, as TensorRT and
//                 pytorch-quantization do, so that a spike of zeros does
//                 not dominate; ties go to the wider clip).
// Every calibrator returns at most the largest |x| seen.
//
// The histogram has a fixed number of equal bins over [0, range). The first
// batch with a non-zero value sets range to its largest |x|; a later batch
// reaching beyond doubles the range (merging pairs of bins, which loses no
// counts) until it fits. Results are deterministic: the same batches in the
// same order give the same histogram and the same amax on any machine (the
// bin width, and so the resolution, depends on the order in which the range
// grew).
//
// Thread-safety: AbsHistogram is not thread-safe for Add; const methods and
// the calibrators may run concurrently on a histogram no one is adding to.
#ifndef TRANSAXX_LIBS_APPROX_CALIBRATION_H_
#define TRANSAXX_LIBS_APPROX_CALIBRATION_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace transaxx::approx {

class AbsHistogram {
 public:
  static constexpr int kDefaultBins = 2048;
  // The entropy calibrator quantizes to this many levels of |x| (127 steps
  // plus zero, as TensorRT does for int8), so a histogram needs at least as
  // many bins.
  static constexpr int kMinBins = 128;

  // INVALID_ARGUMENT unless num_bins >= kMinBins and even (range growth
  // merges pairs of bins).
  static absl::StatusOr<AbsHistogram> Create(int num_bins = kDefaultBins);

  // Adds |v| for every v in values. INVALID_ARGUMENT, changing nothing, when
  // a value is not finite.
  absl::Status Add(std::span<const float> values);

  // Number of values added, zeros included.
  int64_t total_count() const { return total_count_; }
  // The largest |x| added (0 before any non-zero value).
  float max_abs() const { return max_abs_; }
  // Upper edge of the last bin; 0 until a non-zero value was added.
  double range() const { return range_; }
  double bin_width() const { return range_ / static_cast<double>(counts_.size()); }
  // Bin i counts the values with |x| in [i, i+1) * bin_width(); the last bin
  // also holds |x| == range(). All zero until a non-zero value was added
  // (zeros seen before are then put into bin 0).
  const std::vector<int64_t>& counts() const { return counts_; }

 private:
  explicit AbsHistogram(int num_bins) : counts_(num_bins, 0) {}

  std::vector<int64_t> counts_;
  int64_t total_count_ = 0;
  // Zeros added while range_ is still 0.
  int64_t pending_zeros_ = 0;
  float max_abs_ = 0.0f;
  double range_ = 0.0;
};

enum class CalibrationMethod { kMax, kPercentile, kMse, kEntropy };

// "max", "percentile", "mse", "entropy"; INVALID_ARGUMENT for anything else.
absl::StatusOr<CalibrationMethod> ParseCalibrationMethod(absl::string_view name);
std::string CalibrationMethodName(CalibrationMethod method);

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::kMax;
  // Used by kPercentile only; in (0, 100].
  double percentile = 99.99;
};

// The calibrators. Each returns amax >= 0 (0 when every value seen was 0),
// FAILED_PRECONDITION when the histogram is empty; CalibratePercentile gives
// INVALID_ARGUMENT unless percentile is in (0, 100].
absl::StatusOr<float> CalibrateMax(const AbsHistogram& histogram);
absl::StatusOr<float> CalibratePercentile(const AbsHistogram& histogram, double percentile);
absl::StatusOr<float> CalibrateMse(const AbsHistogram& histogram);
absl::StatusOr<float> CalibrateEntropy(const AbsHistogram& histogram);

// Runs the calibrator that options name.
absl::StatusOr<float> Calibrate(const AbsHistogram& histogram, const CalibrationOptions& options);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CALIBRATION_H_
