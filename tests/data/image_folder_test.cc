#include "libs/data/image_folder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/data/test_files.h"

namespace transaxx::data {
namespace {

namespace fs = std::filesystem;
using test_files::EncodeJpeg;
using test_files::EncodePng;
using test_files::PngImage;
using test_files::ReadFile;
using test_files::TempDir;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A width x height PNG of one gray value.
std::string FlatGrayPng(int width, int height, uint8_t value) {
  PngImage png{.width = width, .height = height, .color_type = PNG_COLOR_TYPE_GRAY};
  png.rows.assign(static_cast<size_t>(width * height), value);
  return EncodePng(png);
}

std::string FlatRgbJpeg(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> samples;
  for (int i = 0; i < width * height; ++i) samples.insert(samples.end(), {r, g, b});
  return EncodeJpeg(samples, width, height, 3);
}

// The plane c of image i.
std::vector<uint8_t> Plane(const ImageSet& set, int64_t i, int64_t c) {
  const std::span<const uint8_t> image = set.image(i);
  const auto plane = static_cast<size_t>(set.height * set.width);
  return {image.begin() + static_cast<ptrdiff_t>(c * plane),
          image.begin() + static_cast<ptrdiff_t>((c + 1) * plane)};
}

// root/cat: a gray PNG, an RGB JPEG, a palette PNG with alpha; root/dog:
// an RGBA PNG. Each image is flat, so any transform keeps its colour.
std::string WriteFolder(const TempDir& dir) {
  dir.Write("root/cat/1_gray.png", FlatGrayPng(40, 30, 50));
  dir.Write("root/cat/2_rgb.JPG", FlatRgbJpeg(33, 47, 200, 100, 30));
  PngImage palette{.width = 20, .height = 20, .color_type = PNG_COLOR_TYPE_PALETTE};
  palette.palette = {{9, 8, 7}, {10, 20, 30}};
  palette.transparency = {255, 0};
  palette.rows.assign(400, 1);
  dir.Write("root/cat/3_palette.png", EncodePng(palette));
  PngImage rgba{.width = 9, .height = 50, .color_type = PNG_COLOR_TYPE_RGBA};
  for (int i = 0; i < 9 * 50; ++i) rgba.rows.insert(rgba.rows.end(), {70, 80, 90, 12});
  dir.Write("root/dog/a.png", EncodePng(rgba));
  return (dir.path() / "root").string();
}

TEST(ImageFolderTest, ListsLikeTorchvision) {
  TempDir dir;
  dir.Write("root/cat/b.jpg", "x");
  dir.Write("root/cat/a.PNG", "xy");
  dir.Write("root/cat/notes.txt", "ignored");
  dir.Write("root/cat/.hidden.jpg", "ignored");
  dir.Write("root/cat/sub/deeper.jpg", "not read");
  dir.Write("root/dog/x.jpeg", "xyz");
  dir.Write("root/.ipynb_checkpoints/y.jpg", "ignored");
  dir.Write("root/README", "ignored");
  absl::StatusOr<ImageFolderListing> listing = ListImageFolder((dir.path() / "root").string());
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_THAT(listing->class_names, ElementsAre("cat", "dog"));
  ASSERT_EQ(listing->files.size(), 3u);
  EXPECT_EQ(listing->files[0].relative_path, "cat/a.PNG");
  EXPECT_EQ(listing->files[0].size, 2);
  EXPECT_EQ(listing->files[1].relative_path, "cat/b.jpg");
  EXPECT_EQ(listing->files[1].label, 0);
  EXPECT_EQ(listing->files[2].relative_path, "dog/x.jpeg");
  EXPECT_EQ(listing->files[2].label, 1);
}

TEST(ImageFolderTest, ListingErrorsNameTheFolderOrFile) {
  TempDir dir;
  const std::string missing = (dir.path() / "none").string();
  EXPECT_EQ(ListImageFolder(missing).status().code(), absl::StatusCode::kNotFound);

  const std::string flat = (dir.path() / "flat").string();
  dir.Write("flat/image.jpg", "x");
  EXPECT_THAT(std::string(ListImageFolder(flat).status().message()),
              AllOf(HasSubstr(flat), HasSubstr("no class folders")));

  dir.Write("root/cat/a.jpg", "x");
  dir.Write("root/empty/notes.txt", "x");
  const std::string root = (dir.path() / "root").string();
  EXPECT_THAT(std::string(ListImageFolder(root).status().message()),
              AllOf(HasSubstr(root + "/empty"), HasSubstr("no .jpg, .jpeg or .png images")));

  dir.Write("root/empty/photo.WEBP", "x");
  const absl::Status webp = ListImageFolder(root).status();
  EXPECT_EQ(webp.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(webp.message()), AllOf(HasSubstr(root + "/empty/photo.WEBP"),
                                                 HasSubstr(".WEBP images are not supported")));
}

TEST(ImageFolderTest, DecodesAndTransformsEveryImage) {
  TempDir dir;
  const std::string root = WriteFolder(dir);
  absl::StatusOr<ImageSet> set = ReadImageFolder(root, {.crop_size = 16, .crop_pct = 0.875});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(ValidateImageSet(*set).ok());
  EXPECT_EQ(set->size(), 4);
  EXPECT_EQ(set->channels, 3);
  EXPECT_EQ(set->height, 16);
  EXPECT_EQ(set->width, 16);
  EXPECT_THAT(set->labels, ElementsAre(0, 0, 0, 1));
  EXPECT_THAT(set->class_names, ElementsAre("cat", "dog"));
  EXPECT_THAT(set->mean, ElementsAre(0.485f, 0.456f, 0.406f));
  EXPECT_THAT(set->std, ElementsAre(0.229f, 0.224f, 0.225f));
  for (int c = 0; c < 3; ++c) EXPECT_THAT(Plane(*set, 0, c), Each(50));
  for (int c = 0; c < 3; ++c) {
    const int expected = c == 0 ? 200 : c == 1 ? 100 : 30;
    for (uint8_t v : Plane(*set, 1, c)) ASSERT_LE(std::abs(v - expected), 2);
  }
  EXPECT_THAT(Plane(*set, 2, 0), Each(10));
  EXPECT_THAT(Plane(*set, 2, 2), Each(30));
  EXPECT_THAT(Plane(*set, 3, 1), Each(80));
}

TEST(ImageFolderTest, ManyImagesLandInListingOrder) {
  TempDir dir;
  for (int i = 0; i < 40; ++i) {
    dir.Write(absl::StrCat("root/class", i % 3, "/img", 10 + i, ".png"),
              FlatGrayPng(7 + i, 5 + i % 4, static_cast<uint8_t>(i)));
  }
  absl::StatusOr<ImageSet> set =
      ReadImageFolder((dir.path() / "root").string(), {.crop_size = 4, .crop_pct = 1.0});
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->size(), 40);
  // Class 0 holds images 0, 3, 6, ...; then class 1, then class 2.
  int64_t index = 0;
  for (int k = 0; k < 3; ++k) {
    for (int i = k; i < 40; i += 3, ++index) {
      EXPECT_EQ(set->labels[index], k);
      EXPECT_THAT(Plane(*set, index, 0), Each(i)) << "image " << index;
    }
  }
}

TEST(ImageFolderTest, UnreadableImageIsAnErrorNamingIt) {
  TempDir dir;
  const std::string root = WriteFolder(dir);
  const std::string jpeg = ReadFile(root + "/cat/2_rgb.JPG");
  const std::string broken = dir.Write("root/dog/b_broken.jpg", jpeg.substr(0, jpeg.size() / 3));
  const absl::Status status = ReadImageFolder(root, {.crop_size = 8}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(broken), HasSubstr("corrupt JPEG")));
  dir.Write("root/dog/b_broken.jpg", "not an image");
  EXPECT_THAT(std::string(ReadImageFolder(root, {.crop_size = 8}).status().message()),
              AllOf(HasSubstr(broken), HasSubstr("neither a JPEG nor a PNG")));
}

TEST(ImageFolderTest, FingerprintFollowsTheFiles) {
  TempDir dir;
  const std::string root = WriteFolder(dir);
  const std::string before = FolderFingerprint(*ListImageFolder(root));
  EXPECT_EQ(FolderFingerprint(*ListImageFolder(root)), before);
  fs::last_write_time(root + "/dog/a.png",
                      fs::last_write_time(root + "/dog/a.png") + std::chrono::seconds(1));
  EXPECT_NE(FolderFingerprint(*ListImageFolder(root)), before);
}

class ShardCacheTest : public ::testing::Test {
 protected:
  ShardCacheTest() : root_(WriteFolder(dir_)), cache_((dir_.path() / "cache").string()) {}

  absl::StatusOr<LoadedImageFolder> Load(const EvalTransform& transform = {.crop_size = 12}) {
    return LoadImageFolder(root_, transform, cache_);
  }

  TempDir dir_;
  std::string root_;
  std::string cache_;
};

TEST_F(ShardCacheTest, SecondLoadReusesTheShard) {
  absl::StatusOr<LoadedImageFolder> first = Load();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->from_shard);
  EXPECT_EQ(first->rebuild_reason, "no shard yet");
  EXPECT_TRUE(first->write_status.ok()) << first->write_status;
  EXPECT_THAT(first->shard_path, AllOf(StartsWith(cache_ + "/"), HasSubstr("-root-12-")));
  const auto written = fs::last_write_time(first->shard_path);

  absl::StatusOr<LoadedImageFolder> second = Load();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->from_shard);
  EXPECT_EQ(second->rebuild_reason, "");
  EXPECT_EQ(second->shard_path, first->shard_path);
  EXPECT_EQ(fs::last_write_time(second->shard_path), written);
  EXPECT_EQ(second->images.pixels, first->images.pixels);
  EXPECT_EQ(second->images.labels, first->images.labels);
  EXPECT_EQ(second->images.class_names, first->images.class_names);
  EXPECT_EQ(second->images.mean, first->images.mean);

  // Another transform has a shard of its own.
  absl::StatusOr<LoadedImageFolder> other = Load({.crop_size = 12, .crop_pct = 0.9});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->from_shard);
  EXPECT_NE(other->shard_path, first->shard_path);
  EXPECT_TRUE(Load()->from_shard);
}

TEST_F(ShardCacheTest, ChangedSourceRebuilds) {
  ASSERT_TRUE(Load().ok());
  dir_.Write("root/dog/a.png", FlatGrayPng(9, 9, 111));
  absl::StatusOr<LoadedImageFolder> loaded = Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->from_shard);
  EXPECT_THAT(loaded->rebuild_reason, HasSubstr("another listing"));
  EXPECT_THAT(Plane(loaded->images, 3, 0), Each(111));
  EXPECT_TRUE(Load()->from_shard);
}

TEST_F(ShardCacheTest, DamagedShardIsRebuiltNotAnError) {
  const std::string path = Load()->shard_path;
  const std::string good = ReadFile(path);
  std::string flipped = good;
  flipped[good.size() - 100] ^= 0x10;
  for (const std::string& damaged :
       {flipped, good.substr(0, good.size() / 2), std::string("junk")}) {
    dir_.Write(fs::relative(path, dir_.path()).string(), damaged);
    absl::StatusOr<LoadedImageFolder> loaded = Load();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_FALSE(loaded->from_shard);
    EXPECT_THAT(loaded->rebuild_reason, HasSubstr(path));
    EXPECT_TRUE(loaded->write_status.ok());
    EXPECT_EQ(ReadFile(path), good);
  }
  EXPECT_TRUE(Load()->from_shard);
}

TEST_F(ShardCacheTest, UnwritableCacheStillReturnsTheImages) {
  dir_.Write("cache", "a file where the cache folder should be");
  absl::StatusOr<LoadedImageFolder> loaded = Load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->images.size(), 4);
  EXPECT_FALSE(loaded->write_status.ok());
}

TEST_F(ShardCacheTest, InvalidArgumentsAreRefused) {
  EXPECT_EQ(Load({.crop_size = 12, .crop_pct = 2.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadImageFolder(root_, {}, "").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace transaxx::data
