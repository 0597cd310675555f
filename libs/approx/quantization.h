// Symmetric int8 quantization, narrow range, as the approximate layers use it.
//
// A real value x is quantized with a scale s > 0 to
//   q = clamp(round_half_to_even(x * (1/s)), -127, 127)
// and dequantized to q * s. The inverse scale is a float and the product is
// rounded in float before std::nearbyint, as in torch's
// fake_quantize_per_tensor_affine with zero point 0 and range [-127, 127],
// so results agree with LibTorch's bit for bit (approx_ops_test checks it).
// -128 is never produced: the narrow range keeps negation exact, and the
// int8 table row and column of -128 are never used by quantized data.
//
// A clipping range [-amax, amax] gives s = amax / 127. amax == 0 (an
// all-zero tensor) gives s = 1, a safe choice: the zeros stay exactly 0, the
// inverse scale stays finite, and values seen later are quantized with a
// step of 1 rather than overflowing to infinity.
//
// Error bound: for |x| <= 127 s, |x - q s| <= s/2, up to float rounding
// (at most |x| * 2^-22 more: one rounding of 1/s, of x * (1/s) and of q * s).
// Values beyond the range are clipped: the error is then |x| - 127 s + s/2 at
// most. NaN quantizes to 0; +-inf to +-127.
//
// Granularity: activations are quantized per tensor (one scale); weights per
// tensor or per output channel. QuantParams covers both: n scales quantize n
// equal contiguous slices of the data (slice c = output channel c, i.e. row c
// of a [out, in] linear weight or the [in, kh, kw] block c of a conv weight).
//
// Thread-safety: all functions are pure; concurrent calls are safe as long as
// output spans do not overlap.
#ifndef TRANSAXX_LIBS_APPROX_QUANTIZATION_H_
#define TRANSAXX_LIBS_APPROX_QUANTIZATION_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace transaxx::approx {

// The largest quantized magnitude: the narrow int8 range is [-127, 127].
inline constexpr int kQuantMax = 127;

// The scale of the clipping range [-amax, amax]: amax / 127, or 1 when amax
// is 0. INVALID_ARGUMENT unless amax is finite and >= 0.
absl::StatusOr<float> ScaleFromAmax(float amax);

// One value. REQUIRES: scale > 0 and finite (as ScaleFromAmax returns).
int8_t QuantizeValue(float x, float scale);
inline float DequantizeValue(int8_t q, float scale) { return static_cast<float>(q) * scale; }

// The scales of one tensor: scales.size() == 1 is per tensor, n > 1 splits
// the data into n equal contiguous slices, slice c quantized with scales[c].
struct QuantParams {
  std::vector<float> scales;
};

// Params whose slice c has the clipping range [-amax[c], amax[c]].
// INVALID_ARGUMENT when amax is empty or holds a negative or non-finite value.
absl::StatusOr<QuantParams> QuantParamsFromAmax(std::span<const float> amax);

// Max calibration of each of `channels` equal contiguous slices of x:
// max |x| over the slice (0 for an empty slice). channels == 1 gives the
// per-tensor amax. INVALID_ARGUMENT when channels < 1, x.size() is not a
// multiple of channels, or x holds a non-finite value.
absl::StatusOr<std::vector<float>> AbsMaxPerChannel(std::span<const float> x, int64_t channels);

// out[i] = QuantizeValue(x[i], scale) for every i, bit for bit, 16 values
// at a time with SSE2: what Quantize runs per slice, for callers that split
// a tensor's slices across threads themselves. Both round in the calling
// thread's rounding mode, which is round half to even (as defined above)
// unless the caller changed it: transaxx never does.
// REQUIRES: out.size() == x.size(); scale finite and > 0.
void QuantizeSlice(std::span<const float> x, float scale, std::span<int8_t> out);

// Quantizes x into out (as described above). INVALID_ARGUMENT, writing
// nothing, when out.size() != x.size(), params has no scale, x.size() is not
// a multiple of the number of scales, or a scale is not finite and > 0.
absl::Status Quantize(std::span<const float> x, const QuantParams& params, std::span<int8_t> out);

// Dequantizes q into out: out[i] = q[i] * scale of its slice. Same errors as
// Quantize.
absl::Status Dequantize(std::span<const int8_t> q, const QuantParams& params, std::span<float> out);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_QUANTIZATION_H_
