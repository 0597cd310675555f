// Helpers of the libs/data tests: a temporary folder per test, files in it,
// and encoders that make the JPEG, PNG and gzip files the readers are
// tested on (with the same libraries the readers decode with).
#ifndef TRANSAXX_TESTS_DATA_TEST_FILES_H_
#define TRANSAXX_TESTS_DATA_TEST_FILES_H_

#include <png.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/data/image_set.h"

namespace transaxx::data::test_files {

// A folder unique to the running test, created empty and removed with
// everything in it when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // Writes `contents` to `relative` (creating its folders); returns the path.
  std::string Write(const std::string& relative, absl::string_view contents) const;

 private:
  std::filesystem::path path_;
};

std::string ReadFile(const std::string& path);

// `value` as 4 big-endian bytes, as IDX headers store sizes.
std::string Be32(uint32_t value);

// Expects `status` to have `code` and a message naming `path` and `problem`.
void ExpectError(const absl::Status& status, absl::StatusCode code, const std::string& path,
                 const std::string& problem);

// A valid ImageSet of one image per label, of channels x height x width,
// whose pixel byte i is (13 i) mod 256, normalized by 0.5 / 0.25.
ImageSet PatternImageSet(int64_t channels, int64_t height, int64_t width,
                         std::vector<int32_t> labels, std::vector<std::string> class_names);

// `data` compressed as one gzip member.
std::string Gzip(absl::string_view data);

// A JPEG of `width` x `height` interleaved samples with `components` of 1
// (grayscale), 3 (RGB) or 4 (CMYK, stored as Adobe's inverted CMYK).
std::string EncodeJpeg(const std::vector<uint8_t>& samples, int width, int height, int components,
                       int quality = 95);

// A PNG of `width` x `height` with libpng's color type and bit depth; `rows`
// holds the packed rows as PNG stores them (big-endian 16-bit samples).
struct PngImage {
  int width = 0, height = 0;
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  std::vector<uint8_t> rows;
  std::vector<png_color> palette;     // PNG_COLOR_TYPE_PALETTE
  std::vector<uint8_t> transparency;  // tRNS alphas of palette entries
  bool interlaced = false;
};
std::string EncodePng(const PngImage& image);

}  // namespace transaxx::data::test_files

#endif  // TRANSAXX_TESTS_DATA_TEST_FILES_H_
