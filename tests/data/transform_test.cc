#include "libs/data/transform.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

namespace transaxx::data {
namespace {

using ::testing::Each;
using ::testing::Pair;

int MaxAbsDifference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, std::abs(int{a[i]} - int{b[i]}));
  }
  return worst;
}

// Fixtures made with Pillow 13 (PIL.Image.fromarray(a, "L").resize((w, h),
// Image.BICUBIC)) and timm 1.0 (create_transform(5, interpolation="bicubic",
// crop_pct=0.875) without ToTensor and Normalize) from random pixels.
TEST(TransformTest, DownscaleMatchesPillow) {
  const std::vector<uint8_t> image = {232, 202, 212, 61,  86,  72,  3,   173,  //
                                      217, 208, 163, 23,  164, 226, 221, 54,   //
                                      225, 96,  81,  81,  144, 63,  56,  79,   //
                                      228, 59,  159, 232, 99,  207, 169, 204,  //
                                      114, 165, 83,  234, 231, 226, 236, 254,  //
                                      8,   236, 26,  20,  227, 77,  105, 36};
  const std::vector<uint8_t> pillow = {224, 176, 79,  119, 111,  //
                                       189, 103, 106, 136, 89,   //
                                       149, 134, 193, 186, 209,  //
                                       114, 95,  160, 159, 129};
  EXPECT_LE(MaxAbsDifference(ResizeBicubic(image, 6, 8, 4, 5), pillow), 1);
}

TEST(TransformTest, UpscaleMatchesPillow) {
  const std::vector<uint8_t> image = {103, 166, 48, 222, 72,  //
                                      91,  39,  20, 70,  46,  //
                                      126, 42,  46, 120, 74};
  const std::vector<uint8_t> pillow = {98,  129, 178, 118, 51, 161, 232, 125, 62,  //
                                       97,  119, 154, 102, 45, 141, 204, 113, 58,  //
                                       94,  96,  97,  62,  31, 91,  132, 80,  49,  //
                                       95,  77,  44,  25,  20, 49,  70,  54,  44,  //
                                       112, 85,  38,  23,  30, 61,  82,  65,  54,  //
                                       129, 100, 47,  32,  43, 87,  114, 85,  67,  //
                                       137, 105, 48,  35,  48, 96,  125, 92,  72};
  EXPECT_LE(MaxAbsDifference(ResizeBicubic(image, 3, 5, 7, 9), pillow), 1);
}

TEST(TransformTest, EvalTransformMatchesTimm) {
  // 3 planes of 7 rows x 12 columns: resized to 5 x 8, cropped at column
  // int(round(1.5)) = 2.
  const std::vector<uint8_t> image = {
      196, 233, 17,  96,  202, 43,  95,  238, 28,  204, 231, 183,  //
      79,  26,  214, 192, 96,  176, 47,  56,  70,  119, 243, 96,   //
      65,  164, 167, 97,  194, 152, 93,  29,  106, 33,  210, 207,  //
      119, 113, 117, 184, 241, 184, 253, 211, 212, 54,  40,  235,  //
      117, 204, 163, 171, 10,  68,  156, 196, 24,  38,  37,  21,   //
      47,  119, 56,  247, 9,   98,  145, 210, 44,  73,  25,  150,  //
      171, 93,  188, 111, 164, 119, 180, 170, 206, 61,  242, 1,    //
      226, 149, 92,  138, 42,  40,  117, 184, 145, 227, 157, 106,  //
      142, 244, 124, 211, 8,   134, 1,   221, 13,  153, 16,  194,  //
      55,  150, 204, 248, 89,  91,  88,  74,  208, 95,  52,  75,   //
      118, 223, 211, 45,  194, 172, 223, 93,  122, 34,  94,  52,   //
      127, 137, 206, 98,  151, 128, 16,  159, 36,  1,   18,  101,  //
      255, 224, 248, 162, 96,  149, 227, 206, 40,  76,  95,  21,   //
      216, 71,  124, 62,  24,  147, 124, 5,   161, 1,   229, 24,   //
      239, 209, 200, 67,  108, 84,  53,  150, 217, 24,  95,  252,  //
      250, 154, 10,  144, 4,   104, 68,  51,  18,  175, 88,  249,  //
      59,  87,  147, 131, 201, 75,  112, 83,  43,  244, 241, 196,  //
      86,  247, 158, 71,  142, 60,  38,  212, 145, 218, 172, 70,   //
      189, 122, 154, 113, 179, 19,  170, 68,  145, 79,  13,  200,  //
      154, 0,   187, 67,  133, 180, 117, 157, 76,  154, 242, 198,  //
      22,  20,  39,  125, 208, 0,   135, 247, 200, 58,  125, 50};
  const std::vector<uint8_t> timm = {139, 108, 116, 96,  192,  //
                                     151, 161, 60,  63,  127,  //
                                     176, 182, 203, 166, 50,   //
                                     130, 45,  177, 91,  32,   //
                                     145, 117, 172, 159, 112,  //
                                     106, 45,  125, 146, 166,  //
                                     170, 78,  83,  135, 85,   //
                                     121, 168, 139, 108, 53,   //
                                     134, 130, 144, 85,  30,   //
                                     77,  115, 134, 90,  97,   //
                                     82,  78,  78,  143, 70,   //
                                     128, 97,  83,  47,  196,  //
                                     121, 87,  99,  156, 183,  //
                                     122, 121, 127, 108, 108,  //
                                     139, 104, 155, 180, 121};
  const EvalTransform transform{.crop_size = 5, .crop_pct = 0.875};
  EXPECT_LE(MaxAbsDifference(ApplyEvalTransform(image, 3, 7, 12, transform), timm), 1);
}

TEST(TransformTest, SizesFollowTimmAndTorchvision) {
  EXPECT_EQ(ResizeShortSide({.crop_size = 224, .crop_pct = 0.875}), 256);
  EXPECT_EQ(ResizeShortSide({.crop_size = 224, .crop_pct = 0.9}), 248);
  EXPECT_EQ(ResizeShortSide({.crop_size = 384, .crop_pct = 1.0}), 384);
  EXPECT_THAT(ResizedSize(375, 500, 256), Pair(256, 341));
  EXPECT_THAT(ResizedSize(500, 375, 256), Pair(341, 256));
  EXPECT_THAT(ResizedSize(100, 100, 256), Pair(256, 256));
  EXPECT_THAT(ResizedSize(3, 1000, 10), Pair(10, 3333));
  // int(round((size - crop) / 2.0)), halves to even as Python rounds.
  EXPECT_EQ(CenterCropOffset(256, 224), 16);
  EXPECT_EQ(CenterCropOffset(224, 224), 0);
  EXPECT_EQ(CenterCropOffset(6, 5), 0);   // 0.5 -> 0
  EXPECT_EQ(CenterCropOffset(8, 5), 2);   // 1.5 -> 2
  EXPECT_EQ(CenterCropOffset(10, 5), 2);  // 2.5 -> 2
  EXPECT_EQ(CenterCropOffset(12, 5), 4);  // 3.5 -> 4
  EXPECT_EQ(CenterCropOffset(341, 224), 58);
}

TEST(TransformTest, ConstantImagesStayConstant) {
  for (const auto& [in, out] : std::vector<std::pair<std::pair<int, int>, std::pair<int, int>>>{
           {{37, 53}, {5, 9}}, {{7, 3}, {30, 41}}, {{100, 1}, {3, 17}}, {{1, 1}, {4, 4}}}) {
    for (uint8_t value : {uint8_t{0}, uint8_t{1}, uint8_t{128}, uint8_t{254}, uint8_t{255}}) {
      const std::vector<uint8_t> image(static_cast<size_t>(in.first * in.second), value);
      EXPECT_THAT(ResizeBicubic(image, in.first, in.second, out.first, out.second), Each(value));
    }
  }
  const std::vector<uint8_t> planes = [] {
    std::vector<uint8_t> p(3 * 300 * 200, 10);
    std::fill(p.begin() + 300 * 200, p.end(), 200);
    return p;
  }();
  const std::vector<uint8_t> out = ApplyEvalTransform(planes, 3, 300, 200, {});
  ASSERT_EQ(out.size(), size_t{3 * 224 * 224});
  EXPECT_THAT(std::vector<uint8_t>(out.begin(), out.begin() + 224 * 224), Each(10));
  EXPECT_THAT(std::vector<uint8_t>(out.begin() + 224 * 224, out.end()), Each(200));
}

// Output pixels whose filter support lies inside one flat block keep the
// block's value exactly: a 2x downscale reads input [2o - 3, 2o + 5) on
// each axis, inside a 16-pixel block b for o mod 8 in 2..5.
TEST(TransformTest, IntegerDownscaleOfFlatBlocksKeepsBlockInteriors) {
  std::vector<uint8_t> image(64 * 64);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x)
      image[y * 64 + x] = static_cast<uint8_t>(37 * (y / 16) + 91 * (x / 16));
  }
  const std::vector<uint8_t> out = ResizeBicubic(image, 64, 64, 32, 32);
  int checked = 0;
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      if (y % 8 < 2 || y % 8 > 5 || x % 8 < 2 || x % 8 > 5) continue;
      ASSERT_EQ(out[y * 32 + x], image[(2 * y) * 64 + 2 * x]) << y << "," << x;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 16 * 16);
}

TEST(TransformTest, CropIsTheCentreOfTheFullResize) {
  std::vector<uint8_t> image(3 * 41 * 67);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i * 7919 % 251);
  const EvalTransform transform{.crop_size = 24, .crop_pct = 0.9};
  const std::vector<uint8_t> out = ApplyEvalTransform(image, 3, 41, 67, transform);
  const int64_t short_side = ResizeShortSide(transform);  // 26
  const auto [height, width] = ResizedSize(41, 67, short_side);
  const int64_t top = CenterCropOffset(height, 24), left = CenterCropOffset(width, 24);
  for (int64_t c = 0; c < 3; ++c) {
    const std::vector<uint8_t> full = ResizeBicubic(
        std::span<const uint8_t>(image).subspan(static_cast<size_t>(c * 41 * 67), 41 * 67), 41, 67,
        height, width);
    for (int64_t y = 0; y < 24; ++y) {
      for (int64_t x = 0; x < 24; ++x) {
        ASSERT_EQ(out[static_cast<size_t>((c * 24 + y) * 24 + x)],
                  full[static_cast<size_t>((top + y) * width + left + x)]);
      }
    }
  }
}

TEST(TransformTest, ValidatesParameters) {
  EXPECT_TRUE(ValidateEvalTransform({}).ok());
  EXPECT_TRUE(ValidateEvalTransform({.crop_size = 384, .crop_pct = 1.0}).ok());
  for (const EvalTransform& bad : {EvalTransform{.crop_size = 0}, EvalTransform{.crop_pct = 0.0},
                                   EvalTransform{.crop_pct = 1.5}, EvalTransform{.crop_pct = -0.5},
                                   EvalTransform{.crop_size = 224, .crop_pct = 0.001}}) {
    EXPECT_EQ(ValidateEvalTransform(bad).code(), absl::StatusCode::kInvalidArgument)
        << bad.crop_size << " " << bad.crop_pct;
  }
}

}  // namespace
}  // namespace transaxx::data
