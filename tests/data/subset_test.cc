#include "libs/data/subset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "libs/data/idx.h"
#include "libs/data/random.h"
#include "tests/data/test_files.h"

namespace transaxx::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kFashionDir = TRANSAXX_FASHION_MNIST_DIR;

// Image i of 40 has label (7i mod 5), or 0 when i is a multiple of 4:
// classes of 16, 6, 6, 6 and 6 images.
std::vector<int32_t> UnevenLabels() {
  std::vector<int32_t> labels;
  for (int i = 0; i < 40; ++i) labels.push_back(i % 4 == 0 ? 0 : (i * 7) % 5);
  return labels;
}

TEST(RandomTest, SplitMix64MatchesTheReferenceSequence) {
  // The first outputs of the reference implementation (splitmix64.c) for
  // seed 1234567.
  SplitMix64 rng(1234567);
  EXPECT_EQ(rng.Next(), 6457827717110365317u);
  EXPECT_EQ(rng.Next(), 3203168211198807973u);
  EXPECT_EQ(rng.Next(), 9817491932198370423u);
  EXPECT_EQ(rng.Next(), 4593380528125082431u);
  EXPECT_EQ(rng.Next(), 16408922859458223821u);
}

TEST(RandomTest, UniformBelowStaysInRangeAndSpreads) {
  SplitMix64 rng(7);
  EXPECT_EQ(UniformBelow(rng, 1), 0u);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) ++counts[UniformBelow(rng, 6)];
  for (int count : counts) EXPECT_NEAR(count, 10000, 400);
  const uint64_t huge = (uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 100; ++i) EXPECT_LT(UniformBelow(rng, huge), huge);
}

TEST(SubsetTest, OffsetLimit) {
  EXPECT_THAT(*OffsetLimitSubset(5, 0, 0), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_THAT(*OffsetLimitSubset(10, 3, 4), ElementsAre(3, 4, 5, 6));
  EXPECT_THAT(*OffsetLimitSubset(10, 8, 5), ElementsAre(8, 9));
  EXPECT_THAT(*OffsetLimitSubset(10, 9, 0), ElementsAre(9));
  EXPECT_THAT(*OffsetLimitSubset(10, 10, 0), IsEmpty());
  EXPECT_THAT(*OffsetLimitSubset(10, 2, INT64_MAX), ElementsAre(2, 3, 4, 5, 6, 7, 8, 9));
  EXPECT_THAT(*OffsetLimitSubset(0, 0, 3), IsEmpty());
  const absl::Status beyond = OffsetLimitSubset(10, 11, 0).status();
  EXPECT_EQ(beyond.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(beyond.message()),
              HasSubstr("offset 11 is beyond the end of the 10 images"));
  EXPECT_EQ(OffsetLimitSubset(10, -1, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OffsetLimitSubset(10, 0, -1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SubsetTest, QuotasUseLargestRemainders) {
  const auto quotas = [](std::vector<int64_t> counts, int64_t n) {
    return *StratifiedQuotas(counts, n);
  };
  EXPECT_THAT(quotas({16, 6, 6, 6, 6}, 13), ElementsAre(5, 2, 2, 2, 2));
  EXPECT_THAT(quotas({5, 3, 2}, 5), ElementsAre(3, 1, 1));  // 2.5 1.5 1: tie to class 0
  EXPECT_THAT(quotas({1, 1, 1}, 2), ElementsAre(1, 1, 0));
  EXPECT_THAT(quotas({10, 0, 10}, 3), ElementsAre(2, 0, 1));
  EXPECT_THAT(quotas({3, 3, 3, 1}, 5), ElementsAre(2, 2, 1, 0));
  EXPECT_THAT(quotas({1, 8, 1}, 5), ElementsAre(1, 4, 0));  // 0.5 4 0.5: tie to class 0
  EXPECT_THAT(quotas({4, 4}, 8), ElementsAre(4, 4));
  EXPECT_THAT(quotas({0, 0}, 0), ElementsAre(0, 0));
  EXPECT_EQ(StratifiedQuotas(std::vector<int64_t>{3, 4}, 8).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StratifiedQuotas(std::vector<int64_t>{3, -4}, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The indices below come from an independent implementation of the
// algorithm subset.h specifies, so they pin it down across machines.
TEST(SubsetTest, StratifiedSampleIsReproducible) {
  const std::vector<int32_t> labels = UnevenLabels();
  EXPECT_THAT(*StratifiedSample(labels, 5, 13, 42),
              ElementsAre(2, 3, 4, 5, 6, 11, 12, 13, 15, 19, 27, 29, 35));
  EXPECT_THAT(*StratifiedSample(labels, 5, 13, 7),
              ElementsAre(1, 5, 6, 7, 16, 23, 25, 27, 28, 33, 34, 35, 39));
  EXPECT_EQ(*StratifiedSample(labels, 5, 13, 42), *StratifiedSample(labels, 5, 13, 42));
  EXPECT_NE(*StratifiedSample(labels, 5, 13, 42), *StratifiedSample(labels, 5, 13, 43));
}

TEST(SubsetTest, StratifiedSampleKeepsEachClassShare) {
  absl::StatusOr<ImageSet> test =
      ReadIdx(kFashionDir + "/t10k-images-idx3-ubyte.gz",
              kFashionDir + "/t10k-labels-idx1-ubyte.gz", IdxClasses::kFashion);
  ASSERT_TRUE(test.ok()) << test.status();
  for (uint64_t seed : {0u, 1u, 2024u}) {
    absl::StatusOr<std::vector<int64_t>> sample = StratifiedSample(test->labels, 10, 1000, seed);
    ASSERT_TRUE(sample.ok()) << sample.status();
    ASSERT_EQ(sample->size(), 1000u);
    EXPECT_TRUE(std::is_sorted(sample->begin(), sample->end()));
    EXPECT_EQ(std::adjacent_find(sample->begin(), sample->end()), sample->end());
    std::vector<int> per_class(10, 0);
    for (int64_t i : *sample) ++per_class[static_cast<size_t>(test->labels[i])];
    EXPECT_THAT(per_class, ::testing::Each(100));
  }
  const std::vector<int32_t> labels = UnevenLabels();
  const std::vector<int64_t> sample = *StratifiedSample(labels, 5, 13, 3);
  std::vector<int> per_class(5, 0);
  for (int64_t i : sample) ++per_class[labels[i]];
  EXPECT_THAT(per_class, ElementsAre(5, 2, 2, 2, 2));
}

TEST(SubsetTest, StratifiedSampleEdges) {
  const std::vector<int32_t> labels = UnevenLabels();
  std::vector<int64_t> all(40);
  for (int i = 0; i < 40; ++i) all[i] = i;
  EXPECT_EQ(*StratifiedSample(labels, 5, 40, 9), all);
  EXPECT_THAT(*StratifiedSample(labels, 5, 0, 9), IsEmpty());
  EXPECT_THAT(*StratifiedSample({}, 3, 0, 9), IsEmpty());
  const absl::Status too_many = StratifiedSample(labels, 5, 41, 9).status();
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_many.message()), HasSubstr("a sample of 41 images from 40"));
  const absl::Status bad_label = StratifiedSample(labels, 4, 3, 9).status();
  EXPECT_EQ(bad_label.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_label.message()), HasSubstr("label 4 of image 2 is outside [0, 4)"));
  EXPECT_EQ(StratifiedSample(labels, 0, 3, 9).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SubsetTest, SelectImagesCopiesPixelsAndLabels) {
  const ImageSet set = test_files::PatternImageSet(1, 1, 2, {0, 1, 2, 1}, {"a", "b", "c"});
  absl::StatusOr<ImageSet> subset = SelectImages(set, std::vector<int64_t>{3, 0});
  ASSERT_TRUE(subset.ok()) << subset.status();
  EXPECT_TRUE(ValidateImageSet(*subset).ok());
  EXPECT_THAT(subset->labels, ElementsAre(1, 0));
  EXPECT_THAT(subset->pixels, ElementsAre(78, 91, 0, 13));
  EXPECT_EQ(subset->class_names, set.class_names);
  EXPECT_EQ(subset->mean, set.mean);
  const absl::Status bad = SelectImages(set, std::vector<int64_t>{1, 4}).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("index 4 (entry 1 of the subset)"));
}

}  // namespace
}  // namespace transaxx::data
