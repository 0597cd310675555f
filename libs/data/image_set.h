// ImageSet: a labelled set of images held in memory, the value every dataset
// reader of libs/data returns.
//
// Pixels are uint8, image-major, each image in CHW (planar) order: byte
// (c * height + y) * width + x of image i is channel c of pixel (y, x).
// Normalization is not applied to the pixels; `mean` and `std` say how the
// source is normalized (in [0, 1] pixel units, i.e. after dividing by 255),
// so a consumer computes (pixel / 255 - mean[c]) / std[c].
//
// Invariants (checked by ValidateImageSet, kept by every reader):
// channels, height and width are in [1, kMaxImageDimension], so that
// image_bytes() cannot overflow; pixels.size() == size() *
// image_bytes(); num_classes >= 1 and class_names has num_classes entries;
// every label is in [0, num_classes); mean and std have one entry per
// channel and every std is > 0.
//
// Thread-safety: a plain value; concurrent reads are safe.
#ifndef TRANSAXX_LIBS_DATA_IMAGE_SET_H_
#define TRANSAXX_LIBS_DATA_IMAGE_SET_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace transaxx::data {

inline constexpr int64_t kMaxImageDimension = int64_t{1} << 16;

struct ImageSet {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // size() * image_bytes() bytes
  std::vector<int32_t> labels;  // one per image, each in [0, num_classes)
  int32_t num_classes = 0;
  std::vector<std::string> class_names;  // num_classes names
  std::vector<float> mean, std;          // one per channel, [0, 1] pixel units

  // The number of images.
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  // The bytes of one image: channels * height * width.
  int64_t image_bytes() const { return channels * height * width; }
  // The pixels of image i. REQUIRES: 0 <= i < size() and the invariants hold.
  std::span<const uint8_t> image(int64_t i) const {
    return std::span<const uint8_t>(pixels).subspan(static_cast<size_t>(i * image_bytes()),
                                                    static_cast<size_t>(image_bytes()));
  }
};

// OK when `images` keeps the invariants above; otherwise INVALID_ARGUMENT
// naming the first field that breaks one (for a label, its image index).
absl::Status ValidateImageSet(const ImageSet& images);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_IMAGE_SET_H_
