#include "libs/data/image_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "tests/data/test_files.h"

namespace transaxx::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ImageSet TwoImages() { return test_files::PatternImageSet(2, 1, 3, {1, 0}, {"no", "yes"}); }

TEST(ImageSetTest, SizesAndImages) {
  const ImageSet set = TwoImages();
  EXPECT_TRUE(ValidateImageSet(set).ok());
  EXPECT_EQ(set.size(), 2);
  EXPECT_EQ(set.image_bytes(), 6);
  EXPECT_THAT(set.image(1), ElementsAre(78, 91, 104, 117, 130, 143));
}

TEST(ImageSetTest, ValidationNamesTheBrokenField) {
  const std::pair<std::function<void(ImageSet&)>, std::string> cases[] = {
      {[](ImageSet& s) { s.height = 0; }, "dimensions 2x0x3"},
      {[](ImageSet& s) { s.width = kMaxImageDimension + 1; }, "each must be in [1, 65536]"},
      {[](ImageSet& s) { s.pixels.pop_back(); }, "11 pixel bytes for 2 images of 6 bytes each"},
      {[](ImageSet& s) { s.labels.push_back(0); }, "12 pixel bytes for 3 images"},
      {[](ImageSet& s) { s.class_names.pop_back(); }, "num_classes is 2 with 1 class names"},
      {[](ImageSet& s) { s.labels[1] = 2; }, "label 2 of image 1 is outside [0, 2)"},
      {[](ImageSet& s) { s.labels[0] = -1; }, "label -1 of image 0"},
      {[](ImageSet& s) { s.mean.pop_back(); }, "1 mean and 2 std values for 2 channels"},
      {[](ImageSet& s) { s.std[1] = 0; }, "channel 1 has mean 0.5 and std 0;"},
  };
  for (const auto& [breaks, message] : cases) {
    ImageSet set = TwoImages();
    breaks(set);
    const absl::Status status = ValidateImageSet(set);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(std::string(status.message()), HasSubstr(message));
  }
}

}  // namespace
}  // namespace transaxx::data
