#include "libs/approx/quantization.h"

#include <emmintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace transaxx::approx {
namespace {

bool ValidScale(float scale) { return std::isfinite(scale) && scale > 0.0f; }

absl::Status CheckShapes(size_t in_size, size_t out_size, const QuantParams& params) {
  if (in_size != out_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("output holds ", out_size, " values, input ", in_size));
  }
  if (params.scales.empty()) return absl::InvalidArgumentError("quantization params have no scale");
  if (in_size % params.scales.size() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(in_size, " values do not split into ",
                                                   params.scales.size(), " equal channels"));
  }
  for (size_t c = 0; c < params.scales.size(); ++c) {
    if (!ValidScale(params.scales[c])) {
      return absl::InvalidArgumentError(absl::StrCat("scale ", params.scales[c], " of channel ", c,
                                                     " is not a finite positive number"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<float> ScaleFromAmax(float amax) {
  if (!std::isfinite(amax) || amax < 0.0f) {
    return absl::InvalidArgumentError(
        absl::StrCat("clipping range amax ", amax, " is not a finite number >= 0"));
  }
  if (amax == 0.0f) return 1.0f;
  const float scale = amax / static_cast<float>(kQuantMax);
  // A subnormal amax can round the scale down to 0; the smallest positive
  // float keeps the contract (scale > 0) and quantizes that range alike.
  return scale > 0.0f ? scale : std::numeric_limits<float>::denorm_min();
}

int8_t QuantizeValue(float x, float scale) {
  // Clamping in float before the cast keeps the conversion defined for
  // values far outside the range and for infinities.
  const float r = std::nearbyint(x * (1.0f / scale));
  if (std::isnan(r)) return 0;
  return static_cast<int8_t>(
      std::clamp(r, -static_cast<float>(kQuantMax), static_cast<float>(kQuantMax)));
}

absl::StatusOr<QuantParams> QuantParamsFromAmax(std::span<const float> amax) {
  if (amax.empty()) return absl::InvalidArgumentError("no clipping range given");
  QuantParams params;
  params.scales.reserve(amax.size());
  for (float a : amax) {
    absl::StatusOr<float> scale = ScaleFromAmax(a);
    if (!scale.ok()) return scale.status();
    params.scales.push_back(*scale);
  }
  return params;
}

absl::StatusOr<std::vector<float>> AbsMaxPerChannel(std::span<const float> x, int64_t channels) {
  if (channels < 1) {
    return absl::InvalidArgumentError(absl::StrCat("channel count ", channels, " is not >= 1"));
  }
  const size_t n = static_cast<size_t>(channels);
  if (x.size() % n != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(x.size(), " values do not split into ", channels, " equal channels"));
  }
  const size_t slice = x.size() / n;
  std::vector<float> amax(n, 0.0f);
  for (size_t c = 0; c < n; ++c) {
    for (float v : x.subspan(c * slice, slice)) {
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError(absl::StrCat("non-finite value ", v, " in channel ", c));
      }
      amax[c] = std::max(amax[c], std::abs(v));
    }
  }
  return amax;
}

void QuantizeSlice(std::span<const float> x, float scale, std::span<int8_t> out) {
  // QuantizeValue for 16 values at a time with SSE2 (every x86-64 CPU has
  // it), since compilers do not vectorize the plain loop: nearbyint is a
  // libm call there, at several ns per value. Clamping to the integers
  // +-127 before rounding gives what rounding before clamping gives,
  // rounding being monotonic. minps and maxps return their second operand
  // when one is NaN, which keeps a NaN for the mask to turn into 0. cvtps2dq
  // rounds in the current rounding mode, as nearbyint does. The packs
  // saturate, which values within +-127 never reach.
  const float inv_scale = 1.0f / scale;
  const __m128 inverse = _mm_set1_ps(inv_scale);
  const __m128 high = _mm_set1_ps(static_cast<float>(kQuantMax));
  const __m128 low = _mm_set1_ps(-static_cast<float>(kQuantMax));
  auto quantize4 = [&](const float* from) {
    const __m128 v = _mm_max_ps(low, _mm_min_ps(high, _mm_mul_ps(_mm_loadu_ps(from), inverse)));
    return _mm_cvtps_epi32(_mm_and_ps(v, _mm_cmpord_ps(v, v)));
  };
  const float* in = x.data();
  size_t i = 0;
  for (; i + 16 <= x.size(); i += 16) {
    const __m128i low8 = _mm_packs_epi32(quantize4(in + i), quantize4(in + i + 4));
    const __m128i high8 = _mm_packs_epi32(quantize4(in + i + 8), quantize4(in + i + 12));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.data() + i), _mm_packs_epi16(low8, high8));
  }
  for (; i < x.size(); ++i) out[i] = QuantizeValue(in[i], scale);
}

absl::Status Quantize(std::span<const float> x, const QuantParams& params, std::span<int8_t> out) {
  if (absl::Status status = CheckShapes(x.size(), out.size(), params); !status.ok()) return status;
  const size_t slice = x.size() / params.scales.size();
  for (size_t c = 0; c < params.scales.size(); ++c) {
    QuantizeSlice(x.subspan(c * slice, slice), params.scales[c], out.subspan(c * slice, slice));
  }
  return absl::OkStatus();
}

absl::Status Dequantize(std::span<const int8_t> q, const QuantParams& params,
                        std::span<float> out) {
  if (absl::Status status = CheckShapes(q.size(), out.size(), params); !status.ok()) return status;
  const size_t slice = q.size() / params.scales.size();
  for (size_t c = 0; c < params.scales.size(); ++c) {
    for (size_t i = c * slice; i < (c + 1) * slice; ++i) {
      out[i] = DequantizeValue(q[i], params.scales[c]);
    }
  }
  return absl::OkStatus();
}

}  // namespace transaxx::approx
