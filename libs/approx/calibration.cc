#include "libs/approx/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "libs/approx/quantization.h"

namespace transaxx::approx {
namespace {

// Levels of |x| that int8 quantization distinguishes: 0..127.
constexpr int kEntropyLevels = kQuantMax + 1;

absl::Status CheckNotEmpty(const AbsHistogram& histogram) {
  if (histogram.total_count() == 0) {
    return absl::FailedPreconditionError("calibration needs data: the histogram is empty");
  }
  return absl::OkStatus();
}

// A bin edge as an amax: no calibrator clips above the largest value seen.
float EdgeToAmax(const AbsHistogram& histogram, int64_t bins_below) {
  return static_cast<float>(std::min(static_cast<double>(bins_below) * histogram.bin_width(),
                                     static_cast<double>(histogram.max_abs())));
}

}  // namespace

absl::StatusOr<AbsHistogram> AbsHistogram::Create(int num_bins) {
  if (num_bins < kMinBins || num_bins % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram bin count ", num_bins, " must be even and >= ", kMinBins));
  }
  return AbsHistogram(num_bins);
}

absl::Status AbsHistogram::Add(std::span<const float> values) {
  float batch_max = 0.0f;
  for (float v : values) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot calibrate on the non-finite value ", v));
    }
    batch_max = std::max(batch_max, std::abs(v));
  }
  total_count_ += static_cast<int64_t>(values.size());
  if (batch_max > 0.0f && range_ == 0.0) {
    range_ = batch_max;
    counts_[0] += pending_zeros_;
    pending_zeros_ = 0;
  }
  if (range_ == 0.0) {
    pending_zeros_ += static_cast<int64_t>(values.size());
    return absl::OkStatus();
  }
  const size_t n = counts_.size();
  while (static_cast<double>(batch_max) > range_) {
    for (size_t i = 0; i < n / 2; ++i) counts_[i] = counts_[2 * i] + counts_[2 * i + 1];
    std::fill(counts_.begin() + static_cast<int64_t>(n / 2), counts_.end(), 0);
    range_ *= 2.0;
  }
  max_abs_ = std::max(max_abs_, batch_max);
  const double width = bin_width();
  for (float v : values) {
    const auto bin = static_cast<size_t>(static_cast<double>(std::abs(v)) / width);
    ++counts_[std::min(bin, n - 1)];
  }
  return absl::OkStatus();
}

absl::StatusOr<CalibrationMethod> ParseCalibrationMethod(absl::string_view name) {
  if (name == "max") return CalibrationMethod::kMax;
  if (name == "percentile") return CalibrationMethod::kPercentile;
  if (name == "mse") return CalibrationMethod::kMse;
  if (name == "entropy") return CalibrationMethod::kEntropy;
  return absl::InvalidArgumentError(absl::StrCat("unknown calibration method '", name,
                                                 "' (expected max, percentile, mse or entropy)"));
}

std::string CalibrationMethodName(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::kMax:
      return "max";
    case CalibrationMethod::kPercentile:
      return "percentile";
    case CalibrationMethod::kMse:
      return "mse";
    case CalibrationMethod::kEntropy:
      return "entropy";
  }
  return "unknown";
}

absl::StatusOr<float> CalibrateMax(const AbsHistogram& histogram) {
  if (absl::Status status = CheckNotEmpty(histogram); !status.ok()) return status;
  return histogram.max_abs();
}

absl::StatusOr<float> CalibratePercentile(const AbsHistogram& histogram, double percentile) {
  if (!(percentile > 0.0 && percentile <= 100.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("percentile ", percentile, " is not in (0, 100]"));
  }
  if (absl::Status status = CheckNotEmpty(histogram); !status.ok()) return status;
  if (histogram.range() == 0.0) return 0.0f;
  const double target = percentile / 100.0 * static_cast<double>(histogram.total_count());
  const std::vector<int64_t>& counts = histogram.counts();
  int64_t cumulative = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    if (static_cast<double>(cumulative) >= target) {
      return EdgeToAmax(histogram, static_cast<int64_t>(i) + 1);
    }
  }
  return histogram.max_abs();
}

absl::StatusOr<float> CalibrateMse(const AbsHistogram& histogram) {
  if (absl::Status status = CheckNotEmpty(histogram); !status.ok()) return status;
  if (histogram.range() == 0.0) return 0.0f;
  const std::vector<int64_t>& counts = histogram.counts();
  const double width = histogram.bin_width();
  const double max_abs = histogram.max_abs();
  const auto n = static_cast<int64_t>(counts.size());
  // Each bin stands for its values at its centre; none lies above max_abs.
  std::vector<double> centre(counts.size());
  for (int64_t i = 0; i < n; ++i) {
    centre[i] = std::min((static_cast<double>(i) + 0.5) * width, max_abs);
  }
  double best_error = std::numeric_limits<double>::infinity();
  double best_amax = max_abs;
  // Candidates: every bin edge below max_abs, then max_abs itself (a larger
  // clip only adds rounding noise).
  for (int64_t k = 1; k <= n; ++k) {
    const double amax = std::min(static_cast<double>(k) * width, max_abs);
    const double step = amax / kQuantMax;
    const double rounding_error = step * step / 12.0;
    double error = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      if (counts[i] == 0) continue;
      const double clipped = centre[i] - amax;
      error +=
          static_cast<double>(counts[i]) * (clipped > 0.0 ? clipped * clipped : rounding_error);
    }
    if (error < best_error) {
      best_error = error;
      best_amax = amax;
    }
    if (amax == max_abs) break;
  }
  return static_cast<float>(best_amax);
}

absl::StatusOr<float> CalibrateEntropy(const AbsHistogram& histogram) {
  if (absl::Status status = CheckNotEmpty(histogram); !status.ok()) return status;
  if (histogram.range() == 0.0) return 0.0f;
  const auto n = static_cast<int64_t>(histogram.counts().size());
  std::vector<double> bins(histogram.counts().begin(), histogram.counts().end());
  // As TensorRT and pytorch-quantization do: the first bin of activations
  // after ReLU/GELU holds a spike of (near-)zeros that would otherwise
  // dominate the divergence, so it is flattened to its neighbour's height.
  bins[0] = bins[1];
  // above[i] = mass of bins i..n-1, the mass clipped by a cut after bin i-1.
  std::vector<double> above(n + 1, 0.0);
  for (int64_t i = n - 1; i >= 0; --i) above[i] = above[i + 1] + bins[i];
  const double total = above[0];

  double best_divergence = std::numeric_limits<double>::infinity();
  int64_t best_cut = n;
  std::vector<double> level_sum(kEntropyLevels);
  std::vector<int64_t> level_nonzero(kEntropyLevels);
  for (int64_t cut = kEntropyLevels; cut <= n; ++cut) {
    // Q: the first `cut` bins merged into kEntropyLevels levels, each level's
    // mass spread evenly over its non-empty bins (empty bins stay empty).
    std::fill(level_sum.begin(), level_sum.end(), 0.0);
    std::fill(level_nonzero.begin(), level_nonzero.end(), 0);
    for (int64_t j = 0; j < cut; ++j) {
      if (bins[j] == 0.0) continue;
      const int64_t level = j * kEntropyLevels / cut;
      level_sum[level] += bins[j];
      ++level_nonzero[level];
    }
    const double q_total = total - above[cut];
    // P: the same bins with the clipped mass added to the last one.
    // KL(P || Q) over the bins where P > 0; infinite where Q is 0 there.
    double divergence = 0.0;
    for (int64_t j = 0; j < cut; ++j) {
      const double p_mass = bins[j] + (j == cut - 1 ? above[cut] : 0.0);
      if (p_mass == 0.0) continue;
      if (bins[j] == 0.0 || q_total == 0.0) {
        divergence = std::numeric_limits<double>::infinity();
        break;
      }
      const int64_t level = j * kEntropyLevels / cut;
      const double p = p_mass / total;
      const double q = level_sum[level] / static_cast<double>(level_nonzero[level]) / q_total;
      divergence += p * std::log(p / q);
    }
    // Ties go to the wider clip, as in TensorRT.
    if (divergence <= best_divergence) {
      best_divergence = divergence;
      best_cut = cut;
    }
  }
  return EdgeToAmax(histogram, best_cut);
}

absl::StatusOr<float> Calibrate(const AbsHistogram& histogram, const CalibrationOptions& options) {
  switch (options.method) {
    case CalibrationMethod::kMax:
      return CalibrateMax(histogram);
    case CalibrationMethod::kPercentile:
      return CalibratePercentile(histogram, options.percentile);
    case CalibrationMethod::kMse:
      return CalibrateMse(histogram);
    case CalibrationMethod::kEntropy:
      return CalibrateEntropy(histogram);
  }
  return absl::InvalidArgumentError("unknown calibration method");
}

}  // namespace transaxx::approx
