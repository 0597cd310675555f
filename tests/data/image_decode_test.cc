#include "libs/data/image_decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/data/test_files.h"

namespace transaxx::data {
namespace {

using test_files::EncodeJpeg;
using test_files::EncodePng;
using test_files::PngImage;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Interleaved samples of a width x height image: sample c of pixel (x, y) is
// f(x, y, c) mod 256.
template <typename F>
std::vector<uint8_t> Samples(int width, int height, int components, F f) {
  std::vector<uint8_t> samples;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < components; ++c) samples.push_back(static_cast<uint8_t>(f(x, y, c)));
    }
  }
  return samples;
}

// The planes of `image` as one vector per channel.
std::vector<std::vector<uint8_t>> Planes(const RgbImage& image) {
  const auto plane = static_cast<ptrdiff_t>(image.height * image.width);
  return {{image.pixels.begin(), image.pixels.begin() + plane},
          {image.pixels.begin() + plane, image.pixels.begin() + 2 * plane},
          {image.pixels.begin() + 2 * plane, image.pixels.end()}};
}

void ExpectCorrupt(const absl::StatusOr<RgbImage>& image, const std::string& problem) {
  EXPECT_EQ(image.status().code(), absl::StatusCode::kInvalidArgument) << image.status();
  EXPECT_THAT(std::string(image.status().message()),
              AllOf(HasSubstr("picture.img"), HasSubstr(problem)));
}

TEST(ImageDecodeTest, JpegColorAndGray) {
  const std::string rgb = EncodeJpeg(
      Samples(24, 16, 3, [](int, int, int c) { return c == 0   ? 200
                                                      : c == 1 ? 100
                                                               : 30; }), 24, 16,
      3);
  absl::StatusOr<RgbImage> image = DecodeImage(rgb, "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, 24);
  EXPECT_EQ(image->height, 16);
  // A flat colour survives JPEG within a unit or two.
  const std::vector<std::vector<uint8_t>> planes = Planes(*image);
  for (int c = 0; c < 3; ++c) {
    const int expected = c == 0 ? 200 : c == 1 ? 100 : 30;
    for (uint8_t v : planes[c]) ASSERT_LE(std::abs(v - expected), 2) << "channel " << c;
  }

  const std::string gray =
      EncodeJpeg(Samples(9, 7, 1, [](int x, int y, int) { return 20 * x + y; }), 9, 7, 1);
  image = DecodeImage(gray, "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(Planes(*image)[0], Planes(*image)[1]);
  EXPECT_EQ(Planes(*image)[0], Planes(*image)[2]);
}

TEST(ImageDecodeTest, CmykJpegIsInvertedAdobeCmyk) {
  // Stored inverted: 255 is no ink. Left half no ink (white), right half full
  // black (k' = 0).
  const std::string cmyk = EncodeJpeg(
      Samples(16, 8, 4, [](int x, int, int c) { return x < 8 || c < 3 ? 255 : 0; }), 16, 8, 4);
  absl::StatusOr<RgbImage> image = DecodeImage(cmyk, "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  for (const std::vector<uint8_t>& plane : Planes(*image)) {
    EXPECT_GE(plane[8 * 2 + 1], 250);  // row 2, column 1
    EXPECT_LE(plane[8 * 2 + 14], 5);
  }
}

TEST(ImageDecodeTest, PngColorTypesBecomeRgb) {
  // RGB, 8 bits.
  PngImage rgb{.width = 2, .height = 1, .color_type = PNG_COLOR_TYPE_RGB};
  rgb.rows = {1, 2, 3, 4, 5, 6};
  absl::StatusOr<RgbImage> image = DecodeImage(EncodePng(rgb), "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(image->pixels, ElementsAre(1, 4, 2, 5, 3, 6));  // planar

  // RGBA: alpha is dropped, not composited.
  PngImage rgba{.width = 2, .height = 1, .color_type = PNG_COLOR_TYPE_RGBA};
  rgba.rows = {10, 20, 30, 0, 40, 50, 60, 128};
  image = DecodeImage(EncodePng(rgba), "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(image->pixels, ElementsAre(10, 40, 20, 50, 30, 60));

  // Gray with alpha, 8 bits.
  PngImage gray_alpha{.width = 2, .height = 1, .color_type = PNG_COLOR_TYPE_GRAY_ALPHA};
  gray_alpha.rows = {7, 0, 9, 255};
  image = DecodeImage(EncodePng(gray_alpha), "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(image->pixels, ElementsAre(7, 9, 7, 9, 7, 9));

  // 1-bit gray: 0 and 255.
  PngImage bits{.width = 8, .height = 1, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 1};
  bits.rows = {0b10100000};
  image = DecodeImage(EncodePng(bits), "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(Planes(*image)[2], ElementsAre(255, 0, 255, 0, 0, 0, 0, 0));

  // Palette with transparency: the palette's colours, transparency ignored.
  PngImage palette{.width = 3, .height = 1, .color_type = PNG_COLOR_TYPE_PALETTE};
  palette.palette = {{1, 2, 3}, {200, 150, 100}};
  palette.transparency = {0, 255};
  palette.rows = {1, 0, 1};
  image = DecodeImage(EncodePng(palette), "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(image->pixels, ElementsAre(200, 1, 200, 150, 2, 150, 100, 3, 100));

  // 16-bit RGB: the high byte of each sample.
  PngImage deep{.width = 1, .height = 1, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 16};
  deep.rows = {0x12, 0x34, 0xab, 0xcd, 0xff, 0x01};
  image = DecodeImage(EncodePng(deep), "picture.img");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_THAT(image->pixels, ElementsAre(0x12, 0xab, 0xff));
}

TEST(ImageDecodeTest, InterlacedPngDecodesLikePlain) {
  PngImage png{.width = 13, .height = 11, .color_type = PNG_COLOR_TYPE_RGB};
  png.rows = Samples(13, 11, 3, [](int x, int y, int c) { return x * 17 + y * 5 + c; });
  absl::StatusOr<RgbImage> plain = DecodeImage(EncodePng(png), "picture.img");
  png.interlaced = true;
  absl::StatusOr<RgbImage> interlaced = DecodeImage(EncodePng(png), "picture.img");
  ASSERT_TRUE(plain.ok() && interlaced.ok());
  EXPECT_EQ(plain->pixels, interlaced->pixels);
}

TEST(ImageDecodeTest, CorruptJpegIsAnError) {
  const std::string jpeg =
      EncodeJpeg(Samples(32, 32, 3, [](int x, int y, int c) { return x * 8 + y + c; }), 32, 32, 3);
  ExpectCorrupt(DecodeImage(jpeg.substr(0, jpeg.size() / 2), "picture.img"),
                "corrupt JPEG: Premature end of JPEG file");
  ExpectCorrupt(DecodeImage(jpeg.substr(0, 40), "picture.img"), "corrupt JPEG");
  ExpectCorrupt(DecodeImage(std::string("\xff\xd8\xff") + std::string(100, 'x'), "picture.img"),
                "corrupt JPEG");
  // Damage inside the entropy-coded data: an error or a picture, never a
  // crash.
  for (size_t at = jpeg.size() / 2; at < jpeg.size() - 2; at += 7) {
    std::string damaged = jpeg;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
    (void)DecodeImage(damaged, "picture.img");
  }
}

TEST(ImageDecodeTest, HugeDimensionsAreRefusedBeforeDecoding) {
  std::string jpeg = EncodeJpeg(std::vector<uint8_t>(8 * 8, 0), 8, 8, 1);
  const size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 5] = jpeg[sof + 7] = static_cast<char>(0xea);  // 60000 x 60000
  jpeg[sof + 6] = jpeg[sof + 8] = static_cast<char>(0x60);
  ExpectCorrupt(DecodeImage(jpeg, "picture.img"), "60000x60000 pixels, more than the 268435456");

  // A PNG signature, an IHDR of 100000 x 100000 and the start of an IDAT.
  std::string png = "\x89PNG\r\n\x1a\n";
  const std::string ihdr_type_and_data =
      std::string("IHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x02\0\0\0", 17);
  png += std::string("\0\0\0\x0d", 4) + ihdr_type_and_data;
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(ihdr_type_and_data.data()),
                          static_cast<uInt>(ihdr_type_and_data.size()));
  for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<char>(crc >> shift));
  png += std::string("\0\0\0\x10IDAT", 8);
  ExpectCorrupt(DecodeImage(png, "picture.img"), "100000x100000 pixels, more than");
}

TEST(ImageDecodeTest, CorruptPngIsAnError) {
  PngImage png{.width = 16, .height = 16, .color_type = PNG_COLOR_TYPE_GRAY};
  png.rows = Samples(16, 16, 1, [](int x, int y, int) { return x ^ y; });
  const std::string file = EncodePng(png);
  ExpectCorrupt(DecodeImage(file.substr(0, file.size() - 30), "picture.img"), "corrupt PNG");
  ExpectCorrupt(DecodeImage(file.substr(0, 20), "picture.img"), "truncated");
  std::string bad_crc = file;
  bad_crc[file.find("IDAT") + 6] ^= 0x01;  // data no longer matches its CRC
  ExpectCorrupt(DecodeImage(bad_crc, "picture.img"), "corrupt PNG");
}

TEST(ImageDecodeTest, OtherFormatsAreRefused) {
  ExpectCorrupt(
      DecodeImage("GIF89a......", "picture.img"),
      "neither a JPEG nor a PNG file: it starts with the bytes [47 49 46 38 39 61 2e 2e]");
  ExpectCorrupt(DecodeImage("", "picture.img"), "neither a JPEG nor a PNG file");
}

}  // namespace
}  // namespace transaxx::data
