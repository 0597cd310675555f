#include "libs/data/cifar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/data/test_files.h"

namespace transaxx::data {
namespace {

using test_files::ExpectError;
using test_files::TempDir;
using ::testing::ElementsAre;

constexpr size_t kPixels = 3072;

// A record: the label bytes, then pixel p = (seed + p) mod 256.
std::string Record(const std::vector<uint8_t>& labels, int seed) {
  std::string record(labels.begin(), labels.end());
  for (size_t p = 0; p < kPixels; ++p) record.push_back(static_cast<char>(seed + p));
  return record;
}

// Five training batches of two records (labels 2b, 2b + 1 for batch b,
// mod 10) and a test batch of three.
void WriteCifar10(const TempDir& dir) {
  for (int b = 1; b <= 5; ++b) {
    dir.Write(absl::StrCat("data_batch_", b, ".bin"),
              Record({static_cast<uint8_t>((2 * b) % 10)}, b) +
                  Record({static_cast<uint8_t>((2 * b + 1) % 10)}, 100 + b));
  }
  dir.Write("test_batch.bin", Record({3}, 7) + Record({0}, 8) + Record({9}, 9));
}

TEST(CifarTest, ReadsCifar10Splits) {
  TempDir dir;
  WriteCifar10(dir);
  absl::StatusOr<ImageSet> train = ReadCifar10(dir.path().string(), CifarSplit::kTrain);
  ASSERT_TRUE(train.ok()) << train.status();
  EXPECT_TRUE(ValidateImageSet(*train).ok());
  EXPECT_THAT(train->labels, ElementsAre(2, 3, 4, 5, 6, 7, 8, 9, 0, 1));
  EXPECT_EQ(train->channels, 3);
  EXPECT_EQ(train->height, 32);
  EXPECT_EQ(train->width, 32);
  // Image 3 is batch 2's second record; its pixels are stored CHW as read.
  EXPECT_EQ(train->image(3)[0], 102);
  EXPECT_EQ(train->image(3)[1024], static_cast<uint8_t>(102 + 1024));
  EXPECT_EQ(train->class_names.front(), "airplane");
  EXPECT_EQ(train->class_names.back(), "truck");
  EXPECT_THAT(train->mean, ElementsAre(0.4914f, 0.4822f, 0.4465f));
  EXPECT_THAT(train->std, ElementsAre(0.2470f, 0.2435f, 0.2616f));

  absl::StatusOr<ImageSet> test = ReadCifar10(dir.path().string(), CifarSplit::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_THAT(test->labels, ElementsAre(3, 0, 9));
  EXPECT_EQ(test->image(2)[5], 14);
}

TEST(CifarTest, Cifar10ClassNamesFromTheMetaFile) {
  TempDir dir;
  WriteCifar10(dir);
  dir.Write("batches.meta.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\n  j  \n\n\n");
  absl::StatusOr<ImageSet> test = ReadCifar10(dir.path().string(), CifarSplit::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_THAT(test->class_names, ElementsAre("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"));

  const std::string meta = dir.Write("batches.meta.txt", "a\nb\n");
  ExpectError(ReadCifar10(dir.path().string(), CifarSplit::kTest).status(),
              absl::StatusCode::kInvalidArgument, meta, "2 class names; expected 10, one a line");
}

TEST(CifarTest, ReadsCifar100FineOrCoarse) {
  TempDir dir;
  dir.Write("train.bin", Record({19, 99}, 1) + Record({0, 4}, 2));
  dir.Write("test.bin", Record({4, 0}, 3));
  absl::StatusOr<ImageSet> fine = ReadCifar100(dir.path().string(), CifarSplit::kTrain);
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_TRUE(ValidateImageSet(*fine).ok());
  EXPECT_THAT(fine->labels, ElementsAre(99, 4));
  EXPECT_EQ(fine->num_classes, 100);
  EXPECT_EQ(fine->class_names[4], "beaver");
  EXPECT_EQ(fine->class_names[99], "worm");
  EXPECT_EQ(fine->image(1)[0], 2);
  EXPECT_THAT(fine->mean, ElementsAre(0.5071f, 0.4865f, 0.4409f));

  absl::StatusOr<ImageSet> coarse =
      ReadCifar100(dir.path().string(), CifarSplit::kTrain, Cifar100Labels::kCoarse);
  ASSERT_TRUE(coarse.ok()) << coarse.status();
  EXPECT_THAT(coarse->labels, ElementsAre(19, 0));
  EXPECT_EQ(coarse->num_classes, 20);
  EXPECT_EQ(coarse->class_names[0], "aquatic_mammals");
  EXPECT_EQ(coarse->class_names[19], "vehicles_2");
  EXPECT_EQ(coarse->pixels, fine->pixels);

  std::string names;
  for (int i = 0; i < 20; ++i) absl::StrAppend(&names, "super", i, "\n");
  dir.Write("coarse_label_names.txt", names);
  coarse = ReadCifar100(dir.path().string(), CifarSplit::kTest, Cifar100Labels::kCoarse);
  ASSERT_TRUE(coarse.ok()) << coarse.status();
  EXPECT_EQ(coarse->class_names[4], "super4");
}

TEST(CifarTest, TruncatedRecordNamesFileAndRecord) {
  TempDir dir;
  WriteCifar10(dir);
  const std::string two = Record({1}, 0) + Record({2}, 0);
  for (size_t cut : {size_t{1}, size_t{3073} + 1, size_t{3073} + 2000, 2 * size_t{3073} - 1}) {
    SCOPED_TRACE(cut);
    const std::string path = dir.Write("data_batch_3.bin", two.substr(0, cut));
    const int record = cut > 3073 ? 1 : 0;
    ExpectError(ReadCifar10(dir.path().string(), CifarSplit::kTrain).status(),
                absl::StatusCode::kInvalidArgument, path,
                absl::StrCat("truncated: the file ends ", cut - record * 3073,
                             " bytes into record ", record, " (at byte ", record * 3073, ")"));
  }
  const std::string empty = dir.Write("test_batch.bin", "");
  ExpectError(ReadCifar10(dir.path().string(), CifarSplit::kTest).status(),
              absl::StatusCode::kInvalidArgument, empty, "empty");

  const std::string cifar100 = dir.Write("train.bin", Record({1, 2}, 0).substr(0, 3000));
  ExpectError(ReadCifar100(dir.path().string(), CifarSplit::kTrain).status(),
              absl::StatusCode::kInvalidArgument, cifar100,
              "whose 3074 bytes are 2 label bytes and 3072 pixel bytes");
}

TEST(CifarTest, LabelsOutOfRangeNameTheRecord) {
  TempDir dir;
  WriteCifar10(dir);
  const std::string path = dir.Write("test_batch.bin", Record({3}, 0) + Record({10}, 0));
  ExpectError(ReadCifar10(dir.path().string(), CifarSplit::kTest).status(),
              absl::StatusCode::kInvalidArgument, path,
              "record 1 has label 10, outside the 10 classes [0, 10)");
  // Both CIFAR-100 labels are checked, whichever is used.
  const std::string fine = dir.Write("test.bin", Record({3, 100}, 0));
  ExpectError(
      ReadCifar100(dir.path().string(), CifarSplit::kTest, Cifar100Labels::kCoarse).status(),
      absl::StatusCode::kInvalidArgument, fine, "record 0 has fine label 100");
  const std::string coarse = dir.Write("test.bin", Record({20, 3}, 0));
  ExpectError(ReadCifar100(dir.path().string(), CifarSplit::kTest).status(),
              absl::StatusCode::kInvalidArgument, coarse, "record 0 has coarse label 20");
}

TEST(CifarTest, MissingBatchIsNotFound) {
  TempDir dir;
  WriteCifar10(dir);
  std::filesystem::remove(dir.path() / "data_batch_4.bin");
  ExpectError(ReadCifar10(dir.path().string(), CifarSplit::kTrain).status(),
              absl::StatusCode::kNotFound, "data_batch_4.bin", "No such file");
}

}  // namespace
}  // namespace transaxx::data
