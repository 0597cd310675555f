// The evaluation transform of timm (transforms_imagenet_eval, crop_mode
// "center", bicubic interpolation), on uint8 planes, bit for bit as
// torchvision and Pillow compute it:
//
// 1. Resize so that the shorter side becomes floor(crop_size / crop_pct)
//    and the longer one int(short * long / short_in) (torchvision's Resize
//    with one size), with Pillow's bicubic filter (a = -0.5): separable,
//    horizontal pass first with the intermediate rounded to uint8, the
//    support widened by the downscale factor (antialiasing, like
//    PIL.Image.resize(size, BICUBIC)), 22-bit fixed-point weights.
//    Pillow 13 runs the vertical pass first when the height shrinks by more
//    than twice as many pixels as the width (for this transform: images
//    more than twice as tall as wide), which moves some pixels by a few
//    units; this follows the order of earlier Pillow releases.
// 2. Cut the centre crop_size x crop_size square, its top-left corner at
//    int(round((size - crop_size) / 2.0)) on each axis (Python rounds
//    halves to even).
//
// Normalization is not part of it: ImageSet.mean/std carry it.
//
// Thread-safety: all functions are pure; concurrent calls are safe.
#ifndef TRANSAXX_LIBS_DATA_TRANSFORM_H_
#define TRANSAXX_LIBS_DATA_TRANSFORM_H_

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace transaxx::data {

struct EvalTransform {
  int64_t crop_size = 224;
  // The share of the resized shorter side the crop keeps: timm's default is
  // 0.875, its ViT configurations use 0.9.
  double crop_pct = 0.875;

  friend bool operator==(const EvalTransform&, const EvalTransform&) = default;
};

// OK when crop_size >= 1, 0 < crop_pct <= 1 and the resized shorter side is
// at most kMaxImageDimension; INVALID_ARGUMENT naming the parameter
// otherwise.
absl::Status ValidateEvalTransform(const EvalTransform& transform);

// floor(crop_size / crop_pct): the shorter side after resizing.
// REQUIRES: ValidateEvalTransform(transform).ok().
int64_t ResizeShortSide(const EvalTransform& transform);

// The (height, width) an image of height x width is resized to when its
// shorter side becomes `short_side`. REQUIRES: all arguments >= 1.
std::pair<int64_t, int64_t> ResizedSize(int64_t height, int64_t width, int64_t short_side);

// The offset of a centred `crop` within `size`. REQUIRES: size >= crop.
int64_t CenterCropOffset(int64_t size, int64_t crop);

// Pillow's bicubic resize of one plane of height x width bytes to
// out_height x out_width. REQUIRES: all sizes >= 1 and plane.size() ==
// height * width.
std::vector<uint8_t> ResizeBicubic(std::span<const uint8_t> plane, int64_t height, int64_t width,
                                   int64_t out_height, int64_t out_width);

// The whole transform of an image of `channels` planes of height x width:
// `channels` planes of crop_size x crop_size. Only the cropped part of the
// resized image is computed, with the same result as resizing it all.
// REQUIRES: ValidateEvalTransform(transform).ok(), all sizes >= 1 and
// planes.size() == channels * height * width.
std::vector<uint8_t> ApplyEvalTransform(std::span<const uint8_t> planes, int64_t channels,
                                        int64_t height, int64_t width,
                                        const EvalTransform& transform);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_TRANSFORM_H_
