#include "libs/data/image_set.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace transaxx::data {

absl::Status ValidateImageSet(const ImageSet& images) {
  for (const int64_t dimension : {images.channels, images.height, images.width}) {
    if (dimension < 1 || dimension > kMaxImageDimension) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "image set: dimensions %dx%dx%d (channels x height x width); each must be in [1, %d]",
          images.channels, images.height, images.width, kMaxImageDimension));
    }
  }
  // Divides rather than multiplies: the product could overflow.
  if (images.pixels.size() % static_cast<size_t>(images.image_bytes()) != 0 ||
      static_cast<int64_t>(images.pixels.size()) / images.image_bytes() != images.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("image set: %d pixel bytes for %d images of %d bytes each",
                        images.pixels.size(), images.size(), images.image_bytes()));
  }
  if (images.num_classes < 1 ||
      static_cast<int64_t>(images.class_names.size()) != images.num_classes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("image set: num_classes is %d with %d class names; expected at least one "
                        "class and one name per class",
                        images.num_classes, images.class_names.size()));
  }
  for (int64_t i = 0; i < images.size(); ++i) {
    const int32_t label = images.labels[static_cast<size_t>(i)];
    if (label < 0 || label >= images.num_classes) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "image set: label %d of image %d is outside [0, %d)", label, i, images.num_classes));
    }
  }
  if (static_cast<int64_t>(images.mean.size()) != images.channels ||
      static_cast<int64_t>(images.std.size()) != images.channels) {
    return absl::InvalidArgumentError(
        absl::StrFormat("image set: %d mean and %d std values for %d channels; expected one each "
                        "per channel",
                        images.mean.size(), images.std.size(), images.channels));
  }
  for (size_t c = 0; c < images.std.size(); ++c) {
    if (!std::isfinite(images.mean[c]) || !(images.std[c] > 0) || !std::isfinite(images.std[c])) {
      return absl::InvalidArgumentError(
          absl::StrFormat("image set: channel %d has mean %g and std %g; expected finite values "
                          "and std > 0",
                          c, images.mean[c], images.std[c]));
    }
  }
  return absl::OkStatus();
}

}  // namespace transaxx::data
