#include "libs/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/data/test_files.h"

namespace transaxx::data {
namespace {

using test_files::Be32;
using test_files::ExpectError;
using test_files::Gzip;
using test_files::ReadFile;
using test_files::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kFashionDir = TRANSAXX_FASHION_MNIST_DIR;

// An idx3 images file of n images of rows x cols, pixel i of the data = i.
std::string IdxImages(uint32_t n, uint32_t rows, uint32_t cols) {
  std::string file = Be32(0x00000803) + Be32(n) + Be32(rows) + Be32(cols);
  for (uint32_t i = 0; i < n * rows * cols; ++i) file.push_back(static_cast<char>(i));
  return file;
}

std::string IdxLabels(const std::vector<uint8_t>& labels) {
  std::string file = Be32(0x00000801) + Be32(static_cast<uint32_t>(labels.size()));
  file.append(labels.begin(), labels.end());
  return file;
}

std::array<int, 10> Histogram(const ImageSet& set) {
  std::array<int, 10> counts{};
  for (int32_t label : set.labels) ++counts[static_cast<size_t>(label)];
  return counts;
}

int64_t FirstImageSum(const ImageSet& set) {
  int64_t sum = 0;
  for (uint8_t p : set.image(0)) sum += p;
  return sum;
}

// The facts below were checked against the files with an independent reader.
TEST(IdxTest, ReadsFashionMnistTrain) {
  absl::StatusOr<ImageSet> train =
      ReadIdx(kFashionDir + "/train-images-idx3-ubyte.gz",
              kFashionDir + "/train-labels-idx1-ubyte.gz", IdxClasses::kFashion);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_TRUE(ValidateImageSet(*train).ok());
  EXPECT_EQ(train->size(), 60000);
  EXPECT_EQ(train->channels, 1);
  EXPECT_EQ(train->height, 28);
  EXPECT_EQ(train->width, 28);
  std::array<int, 10> per_class;
  per_class.fill(6000);
  EXPECT_EQ(Histogram(*train), per_class);
  EXPECT_THAT(std::vector<int32_t>(train->labels.begin(), train->labels.begin() + 10),
              ElementsAre(9, 0, 0, 3, 0, 2, 7, 2, 5, 5));
  EXPECT_EQ(FirstImageSum(*train), 76247);
  EXPECT_EQ(train->image(0)[14 * 28 + 14], 217);
  EXPECT_EQ(train->class_names.front(), "T-shirt/top");
  EXPECT_EQ(train->class_names.back(), "Ankle boot");
  EXPECT_FLOAT_EQ(train->mean[0], 0.2860f);
  EXPECT_FLOAT_EQ(train->std[0], 0.3530f);
}

TEST(IdxTest, ReadsFashionMnistTest) {
  absl::StatusOr<ImageSet> test =
      ReadIdx(kFashionDir + "/t10k-images-idx3-ubyte.gz",
              kFashionDir + "/t10k-labels-idx1-ubyte.gz", IdxClasses::kFashion);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->size(), 10000);
  std::array<int, 10> per_class;
  per_class.fill(1000);
  EXPECT_EQ(Histogram(*test), per_class);
  EXPECT_THAT(std::vector<int32_t>(test->labels.begin(), test->labels.begin() + 10),
              ElementsAre(9, 2, 1, 1, 6, 1, 4, 6, 5, 7));
  EXPECT_EQ(FirstImageSum(*test), 33456);
}

TEST(IdxTest, PlainAndGzipReadAlikeWhateverTheirNames) {
  TempDir dir;
  const std::string images = IdxImages(5, 4, 3);
  const std::string labels = IdxLabels({0, 1, 2, 3, 9});
  // The gzip files are named like plain ones and the other way round.
  absl::StatusOr<ImageSet> plain =
      ReadIdx(dir.Write("images.gz", images), dir.Write("labels.gz", labels), IdxClasses::kDigits);
  absl::StatusOr<ImageSet> gzipped =
      ReadIdx(dir.Write("images.idx", Gzip(images)), dir.Write("labels.idx", Gzip(labels)),
              IdxClasses::kDigits);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(gzipped.ok()) << gzipped.status();
  EXPECT_EQ(plain->pixels, gzipped->pixels);
  EXPECT_EQ(plain->labels, gzipped->labels);
  EXPECT_THAT(plain->labels, ElementsAre(0, 1, 2, 3, 9));
  EXPECT_EQ(plain->height, 4);
  EXPECT_EQ(plain->width, 3);
  EXPECT_EQ(plain->image(1)[0], 12);  // pixels are row-major, image-major
  EXPECT_EQ(plain->class_names[3], "3");
  EXPECT_FLOAT_EQ(plain->mean[0], 0.1307f);
}

TEST(IdxTest, GzipMembersReadAsOneStream) {
  TempDir dir;
  const std::string images = IdxImages(5, 4, 3);
  const std::string labels = IdxLabels({0, 1, 2, 3, 4});
  const std::string two_members = Gzip(images.substr(0, 30)) + Gzip(images.substr(30));
  absl::StatusOr<ImageSet> set =
      ReadIdx(dir.Write("images", two_members), dir.Write("labels", labels), IdxClasses::kDigits);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(std::string(set->pixels.begin(), set->pixels.end()), images.substr(16));
}

TEST(IdxTest, TruncatedFilesNameFileAndWhatIsMissing) {
  TempDir dir;
  const std::string images = IdxImages(5, 4, 3);  // 16 + 60 bytes
  const std::string labels = dir.Write("labels", IdxLabels({0, 1, 2, 3, 4}));
  const struct {
    size_t cut;
    const char* problem;
  } cases[] = {{0, "0 bytes, too short for the 4-byte IDX magic"},
               {3, "too short for the 4-byte IDX magic"},
               {9, "in the IDX header, after 9 of its 16 bytes"},
               {16,
                "declares 5 images of 4x3 after the 16-byte header, but the data ends in image 0, "
                "after 0 bytes"},
               {16 + 12 * 2 + 5, "ends in image 2, after 29 bytes"},
               {75, "ends in image 4, after 59 bytes"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.cut);
    const std::string path = dir.Write("images", images.substr(0, c.cut));
    ExpectError(ReadIdx(path, labels, IdxClasses::kDigits).status(),
                absl::StatusCode::kInvalidArgument, path, c.problem);
  }
}

TEST(IdxTest, TruncatedGzipIsAnErrorAtEveryCut) {
  TempDir dir;
  // A real file, cut inside its gzip header, its deflate data and its
  // trailer.
  const std::string labels = ReadFile(kFashionDir + "/t10k-labels-idx1-ubyte.gz");
  const std::string images = dir.Write("images", IdxImages(10000, 1, 1));
  for (size_t cut : {size_t{1}, size_t{2}, size_t{5}, size_t{10}, size_t{100}, labels.size() / 2,
                     labels.size() - 8, labels.size() - 1}) {
    SCOPED_TRACE(cut);
    const std::string path = dir.Write("labels.gz", labels.substr(0, cut));
    const absl::Status status = ReadIdx(images, path, IdxClasses::kFashion).status();
    EXPECT_FALSE(status.ok());
    EXPECT_THAT(std::string(status.message()), HasSubstr(path));
  }
  const std::string path = dir.Write("labels.gz", labels.substr(0, labels.size() / 2));
  ExpectError(ReadIdx(images, path, IdxClasses::kFashion).status(), absl::StatusCode::kDataLoss,
              path, "the gzip data ends early: the file is truncated");
}

TEST(IdxTest, CorruptGzipIsDataLoss) {
  TempDir dir;
  const std::string images = dir.Write("images", IdxImages(4, 2, 2));
  const std::string labels = Gzip(IdxLabels({1, 2, 3, 4}));

  std::string bad_crc = labels;
  bad_crc[bad_crc.size() - 6] ^= 0x55;  // the CRC-32 of the trailer
  std::string path = dir.Write("crc.gz", bad_crc);
  ExpectError(ReadIdx(images, path, IdxClasses::kDigits).status(), absl::StatusCode::kDataLoss,
              path, "corrupt gzip data: incorrect data check");

  std::string bad_block = labels;
  bad_block[10] = static_cast<char>(0xff);  // the first deflate block header: invalid type
  path = dir.Write("block.gz", bad_block);
  ExpectError(ReadIdx(images, path, IdxClasses::kDigits).status(), absl::StatusCode::kDataLoss,
              path, "corrupt gzip data");

  path = dir.Write("trailing.gz", labels + "junk");
  ExpectError(ReadIdx(images, path, IdxClasses::kDigits).status(), absl::StatusCode::kDataLoss,
              path, "bytes follow the gzip data that do not start another gzip member");
}

TEST(IdxTest, BadMagicSaysWhatItFound) {
  TempDir dir;
  const std::string images = dir.Write("images", IdxImages(2, 2, 2));
  const std::string labels = dir.Write("labels", IdxLabels({0, 1}));
  // The files swapped.
  ExpectError(ReadIdx(labels, images, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, labels,
              "magic 0x00000801: an IDX file with 1 dimensions; an IDX image file starts with "
              "0x00000803");
  const std::string floats = dir.Write("floats", Be32(0x00000d03) + Be32(0) + Be32(1) + Be32(1));
  ExpectError(ReadIdx(floats, labels, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, floats,
              "data type 0x0d; only unsigned bytes (0x08) are read");
  const std::string text = dir.Write("text", "hello, world, not IDX");
  ExpectError(ReadIdx(text, labels, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, text, "not an IDX file");
}

TEST(IdxTest, LyingSizesAreRefused) {
  TempDir dir;
  const std::string labels = dir.Write("labels", IdxLabels({0, 1, 2}));
  std::string images = IdxImages(3, 4, 4);

  // Says 4x4 but holds 3 images of 4x3: the data ends early.
  std::string path = dir.Write("short", images.substr(0, 16 + 3 * 12));
  ExpectError(ReadIdx(path, labels, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, path, "truncated");

  // Says 4x3 but holds 4x4: bytes follow the declared data.
  path = dir.Write("long", Be32(0x803) + Be32(3) + Be32(4) + Be32(3) + images.substr(16));
  ExpectError(ReadIdx(path, labels, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, path,
              "bytes follow the data: its header declares 3 images of 4x3");

  // Sizes no file of this length can hold are refused before allocating.
  const std::string many_labels = dir.Write("many", Be32(0x801) + Be32(0xffffffff) + "abc");
  path = dir.Write("huge", Be32(0x803) + Be32(0xffffffff) + Be32(60000) + Be32(60000));
  ExpectError(ReadIdx(path, many_labels, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, path,
              "declares 4294967295 images of 60000x60000 after the 16-byte header, but the data "
              "ends in image 0, after 0 bytes");
  path = dir.Write("huge.gz", Gzip(Be32(0x803) + Be32(0xffffffff) + Be32(600) + Be32(600)));
  ExpectError(ReadIdx(path, many_labels, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, path, "gzip file can hold");
  path = dir.Write("one_each", Be32(0x803) + Be32(0xffffffff) + Be32(1) + Be32(1) + "abcd");
  ExpectError(ReadIdx(path, many_labels, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, path,
              "truncated: its header declares 4294967295 images of 1x1");

  path = dir.Write("empty_rows", Be32(0x803) + Be32(3) + Be32(0) + Be32(3));
  ExpectError(ReadIdx(path, labels, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, path, "rows and columns must be in [1, 65536]");
}

TEST(IdxTest, CountsMustMatchAndLabelsBeClasses) {
  TempDir dir;
  const std::string images = dir.Write("images", IdxImages(3, 2, 2));
  const std::string two = dir.Write("two", IdxLabels({0, 1}));
  ExpectError(ReadIdx(images, two, IdxClasses::kDigits).status(),
              absl::StatusCode::kInvalidArgument, images,
              "declares 3 images but " + two + " declares 2 labels");
  const std::string ten = dir.Write("ten", IdxLabels({0, 10, 1}));
  ExpectError(ReadIdx(images, ten, IdxClasses::kFashion).status(),
              absl::StatusCode::kInvalidArgument, ten,
              "label 10 of image 1 is outside the 10 classes [0, 10)");
}

TEST(IdxTest, MissingFileIsNotFound) {
  TempDir dir;
  const std::string images = (dir.path() / "none").string();
  ExpectError(ReadIdx(images, images, IdxClasses::kDigits).status(), absl::StatusCode::kNotFound,
              images, "No such file");
}

}  // namespace
}  // namespace transaxx::data
