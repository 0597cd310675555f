// Decoding JPEG (libjpeg-turbo) and PNG (libpng) files to 8-bit RGB, the
// way torchvision's image folders load them with PIL (Image.open(f)
// .convert("RGB")):
//
// - The format is told by the first bytes, not the file name.
// - JPEG: libjpeg's default decoding (integer DCT, fancy upsampling);
//   grayscale is replicated to the three channels; CMYK/YCCK is taken as
//   Adobe's inverted CMYK and converted with PIL's formula. Warnings about
//   corrupt data are tolerated as PIL tolerates them, but data that ends
//   before the image does is an error (PIL: "image file is truncated").
// - PNG: palette, grayscale (including 1, 2 and 4 bits) and their alpha or
//   tRNS variants become RGB; alpha is dropped, not composited (as
//   convert("RGB") does); 16-bit samples keep their high byte; gamma and
//   colour profiles are ignored.
//
// A corrupt file is an INVALID_ARGUMENT naming it and what the decoder said;
// decoding never exits or crashes. Images with more than kMaxDecodedPixels
// pixels are refused before their pixels are allocated.
//
// Thread-safety: no shared state; concurrent calls are safe.
#ifndef TRANSAXX_LIBS_DATA_IMAGE_DECODE_H_
#define TRANSAXX_LIBS_DATA_IMAGE_DECODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace transaxx::data {

inline constexpr int64_t kMaxDecodedPixels = int64_t{1} << 28;

// A decoded image: 3 channels, planar (CHW): the red plane, then green,
// then blue, each height * width bytes in row-major order.
struct RgbImage {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;
};

// Decodes the JPEG or PNG file whose contents are `bytes`; `name` (its path)
// names it in errors.
absl::StatusOr<RgbImage> DecodeImage(absl::string_view bytes, const std::string& name);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_IMAGE_DECODE_H_
