#include "libs/data/transform.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "libs/data/image_set.h"

namespace transaxx::data {
namespace {

// Pillow's fixed-point weights: PRECISION_BITS = 32 - 8 - 2.
constexpr int kPrecisionBits = 22;
constexpr double kBicubicSupport = 2.0;

// Pillow's bicubic_filter, a = -0.5.
double Bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// The taps of output samples [first, first + count) of a resize from
// in_size to out_size samples: output i reads inputs [start[i], start[i] +
// taps[i]) with the weights at weights[i * ksize]. Pillow's
// precompute_coeffs and normalize_coeffs_8bpc, operation for operation, so
// that the doubles round alike.
struct Taps {
  int64_t ksize = 0;
  std::vector<int64_t> start, taps;
  std::vector<int32_t> weights;
};

Taps ComputeTaps(int64_t in_size, int64_t out_size, int64_t first, int64_t count) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filterscale = std::max(scale, 1.0);
  const double support = kBicubicSupport * filterscale;
  Taps t;
  t.ksize = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.start.resize(static_cast<size_t>(count));
  t.taps.resize(static_cast<size_t>(count));
  t.weights.assign(static_cast<size_t>(count * t.ksize), 0);
  std::vector<double> k(static_cast<size_t>(t.ksize));
  for (int64_t i = 0; i < count; ++i) {
    const double center = (static_cast<double>(first + i) + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // (int) truncates towards zero, as in Pillow, before the clamp.
    const int64_t xmin = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t xmax =
        std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int64_t x = 0; x < xmax; ++x) {
      const double w = Bicubic((static_cast<double>(x + xmin) - center + 0.5) * ss);
      k[static_cast<size_t>(x)] = w;
      ww += w;
    }
    int32_t* weights = &t.weights[static_cast<size_t>(i * t.ksize)];
    for (int64_t x = 0; x < xmax; ++x) {
      double w = k[static_cast<size_t>(x)];
      if (ww != 0.0) w /= ww;
      w *= 1 << kPrecisionBits;
      weights[x] = static_cast<int32_t>(w < 0 ? -0.5 + w : 0.5 + w);
    }
    t.start[static_cast<size_t>(i)] = xmin;
    t.taps[static_cast<size_t>(i)] = xmax;
  }
  return t;
}

// Pillow's clip8: the sum's integer part, clamped to a byte. The sum starts
// at one half, so that the shift rounds.
uint8_t Clip8(int64_t sum) {
  return static_cast<uint8_t>(std::clamp<int64_t>(sum >> kPrecisionBits, 0, 255));
}
constexpr int64_t kHalf = int64_t{1} << (kPrecisionBits - 1);

// Rows [top, top + rows) and columns [left, left + cols) of the plane
// resized to out_height x out_width.
std::vector<uint8_t> ResizeWindow(std::span<const uint8_t> plane, int64_t height, int64_t width,
                                  int64_t out_height, int64_t out_width, int64_t top, int64_t left,
                                  int64_t rows, int64_t cols) {
  // Pillow skips a pass whose size does not change; with scale 1 it would
  // be the identity anyway, but the skip is cheaper.
  const bool horizontal = out_width != width;
  const bool vertical = out_height != height;
  Taps vt;
  int64_t row_begin = top, row_end = top + rows;  // input rows the output needs
  if (vertical) {
    vt = ComputeTaps(height, out_height, top, rows);
    row_begin = vt.start.front();
    row_end = vt.start.back() + vt.taps.back();
  }
  // The horizontal pass (or the column crop) over the needed rows.
  std::vector<uint8_t> across(static_cast<size_t>((row_end - row_begin) * cols));
  if (horizontal) {
    const Taps ht = ComputeTaps(width, out_width, left, cols);
    for (int64_t y = row_begin; y < row_end; ++y) {
      const uint8_t* in = plane.data() + y * width;
      uint8_t* out = across.data() + (y - row_begin) * cols;
      for (int64_t x = 0; x < cols; ++x) {
        const int32_t* w = &ht.weights[static_cast<size_t>(x * ht.ksize)];
        const uint8_t* src = in + ht.start[static_cast<size_t>(x)];
        int64_t sum = kHalf;
        for (int64_t i = 0; i < ht.taps[static_cast<size_t>(x)]; ++i) sum += src[i] * w[i];
        out[x] = Clip8(sum);
      }
    }
  } else {
    for (int64_t y = row_begin; y < row_end; ++y) {
      std::copy_n(plane.data() + y * width + left, cols, across.data() + (y - row_begin) * cols);
    }
  }
  if (!vertical) return across;
  std::vector<uint8_t> out(static_cast<size_t>(rows * cols));
  for (int64_t y = 0; y < rows; ++y) {
    const int32_t* w = &vt.weights[static_cast<size_t>(y * vt.ksize)];
    const uint8_t* src = across.data() + (vt.start[static_cast<size_t>(y)] - row_begin) * cols;
    for (int64_t x = 0; x < cols; ++x) {
      int64_t sum = kHalf;
      for (int64_t i = 0; i < vt.taps[static_cast<size_t>(y)]; ++i) {
        sum += src[i * cols + x] * w[i];
      }
      out[static_cast<size_t>(y * cols + x)] = Clip8(sum);
    }
  }
  return out;
}

}  // namespace

absl::Status ValidateEvalTransform(const EvalTransform& transform) {
  if (transform.crop_size < 1 || transform.crop_size > kMaxImageDimension) {
    return absl::InvalidArgumentError(absl::StrFormat("crop_size is %d; it must be in [1, %d]",
                                                      transform.crop_size, kMaxImageDimension));
  }
  if (!(transform.crop_pct > 0.0 && transform.crop_pct <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("crop_pct is %g; it must be in (0, 1] (timm uses 0.875, 0.9 for ViTs)",
                        transform.crop_pct));
  }
  if (static_cast<double>(transform.crop_size) / transform.crop_pct >
      static_cast<double>(kMaxImageDimension)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "crop_size %d with crop_pct %g resizes images to a shorter side over %d pixels",
        transform.crop_size, transform.crop_pct, kMaxImageDimension));
  }
  return absl::OkStatus();
}

int64_t ResizeShortSide(const EvalTransform& transform) {
  return static_cast<int64_t>(
      std::floor(static_cast<double>(transform.crop_size) / transform.crop_pct));
}

std::pair<int64_t, int64_t> ResizedSize(int64_t height, int64_t width, int64_t short_side) {
  // torchvision computes int(short_side * long / short) in floating point;
  // the exact quotient is at least 1/short away from the next integer, far
  // more than a double's rounding error, so integer division agrees.
  if (width <= height) return {short_side * height / width, short_side};
  return {short_side, short_side * width / height};
}

int64_t CenterCropOffset(int64_t size, int64_t crop) {
  const int64_t excess = size - crop;
  const int64_t half = excess / 2;
  // An odd difference puts the exact offset at half + 0.5: round to even.
  return excess % 2 == 1 && half % 2 == 1 ? half + 1 : half;
}

std::vector<uint8_t> ResizeBicubic(std::span<const uint8_t> plane, int64_t height, int64_t width,
                                   int64_t out_height, int64_t out_width) {
  return ResizeWindow(plane, height, width, out_height, out_width, 0, 0, out_height, out_width);
}

std::vector<uint8_t> ApplyEvalTransform(std::span<const uint8_t> planes, int64_t channels,
                                        int64_t height, int64_t width,
                                        const EvalTransform& transform) {
  const int64_t crop = transform.crop_size;
  const auto [out_height, out_width] = ResizedSize(height, width, ResizeShortSide(transform));
  const int64_t top = CenterCropOffset(out_height, crop);
  const int64_t left = CenterCropOffset(out_width, crop);
  std::vector<uint8_t> result;
  result.reserve(static_cast<size_t>(channels * crop * crop));
  for (int64_t c = 0; c < channels; ++c) {
    const std::vector<uint8_t> plane =
        ResizeWindow(planes.subspan(static_cast<size_t>(c * height * width),
                                    static_cast<size_t>(height * width)),
                     height, width, out_height, out_width, top, left, crop, crop);
    result.insert(result.end(), plane.begin(), plane.end());
  }
  return result;
}

}  // namespace transaxx::data
