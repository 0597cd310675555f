#include "libs/data/dataset_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <png.h>
#include <stdlib.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/data/test_files.h"

namespace transaxx::data {
namespace {

using test_files::Be32;
using test_files::EncodePng;
using test_files::Gzip;
using test_files::PngImage;
using test_files::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Writes an IDX pair of two 2x2 images labelled 3 and 7 as DIR/PREFIX-*.
void WriteIdx(const TempDir& dir, const std::string& folder, const std::string& prefix, bool gzip) {
  const std::string images = Be32(0x803) + Be32(2) + Be32(2) + Be32(2) + "abcdefgh";
  const std::string labels = Be32(0x801) + Be32(2) + "\x03\x07";
  const std::string suffix = gzip ? ".gz" : "";
  dir.Write(folder + "/" + prefix + "-images-idx3-ubyte" + suffix, gzip ? Gzip(images) : images);
  dir.Write(folder + "/" + prefix + "-labels-idx1-ubyte" + suffix, gzip ? Gzip(labels) : labels);
}

std::string CifarRecords(int label_bytes, int records) {
  std::string data;
  for (int r = 0; r < records; ++r)
    data += std::string(label_bytes, '\x01') + std::string(3072, 'p');
  return data;
}

std::string FlatPng() {
  PngImage png{.width = 6, .height = 4, .color_type = PNG_COLOR_TYPE_GRAY};
  png.rows.assign(24, 99);
  return EncodePng(png);
}

// The environment variable `name`, restored when the object goes.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_.has_value()) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(DatasetRegistryTest, ParsesSpecs) {
  absl::StatusOr<DatasetSpec> spec = ParseDatasetSpec("fashion-mnist:test");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "fashion-mnist");
  EXPECT_EQ(spec->split, "test");
  EXPECT_EQ(ParseDatasetSpec("ImageNet_1k.v2:val")->name, "ImageNet_1k.v2");
  for (const char* bad : {"", "fashion-mnist", ":test", "cifar10:", "a:b:c", "../etc:passwd",
                          ".hidden:train", "a/b:train", "cifar10:tr ain", "cifar10:.."}) {
    const absl::Status status = ParseDatasetSpec(bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(status.message()),
                AllOf(HasSubstr(absl::StrCat("\"", bad, "\"")), HasSubstr("expected NAME:SPLIT")));
  }
}

TEST(DatasetRegistryTest, DetectsFormats) {
  TempDir dir;
  WriteIdx(dir, "digits", "t10k", /*gzip=*/false);
  dir.Write("cifar10/cifar-10-batches-bin/data_batch_1.bin", CifarRecords(1, 1));
  dir.Write("cifar10/cifar-10-batches-bin/test_batch.bin", CifarRecords(1, 1));
  dir.Write("flat10/test_batch.bin", CifarRecords(1, 1));
  dir.Write("cifar100/cifar-100-binary/train.bin", CifarRecords(2, 1));
  dir.Write("imagenette/val/n01440764/a.png", FlatPng());
  dir.Write("imagenette/train/n01440764/a.png", FlatPng());
  dir.Write("imagenette/notes/readme.txt", "not a split");
  dir.Write("nothing/readme.txt", "no data");
  const auto detect = [&](const std::string& name) {
    return DetectDataset((dir.path() / name).string());
  };

  absl::StatusOr<DatasetInfo> info = detect("digits");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->name, "digits");
  EXPECT_EQ(info->format, DatasetFormat::kIdx);
  EXPECT_THAT(info->splits, ElementsAre("test"));

  info = detect("cifar10");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, DatasetFormat::kCifar10);
  EXPECT_THAT(info->splits, ElementsAre("test", "train"));
  EXPECT_EQ(info->directory, (dir.path() / "cifar10/cifar-10-batches-bin").string());
  EXPECT_EQ(detect("flat10")->directory, (dir.path() / "flat10").string());
  EXPECT_EQ(detect("flat10/")->name, "flat10");

  info = detect("cifar100");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, DatasetFormat::kCifar100);
  EXPECT_THAT(info->splits, ElementsAre("train"));

  info = detect("imagenette");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->format, DatasetFormat::kImageFolder);
  EXPECT_THAT(info->splits, ElementsAre("train", "val"));
  EXPECT_EQ(DatasetFormatName(info->format), "image-folder");

  const absl::Status nothing = detect("nothing").status();
  EXPECT_EQ(nothing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(nothing.message()), HasSubstr("holds no dataset: expected IDX"));
}

TEST(DatasetRegistryTest, ListsDatasetsOfAllRootsFirstRootWins) {
  TempDir dir;
  WriteIdx(dir, "a/digits", "train", /*gzip=*/true);
  dir.Write("a/cifar10/test_batch.bin", CifarRecords(1, 1));
  dir.Write("b/cifar10/cifar-10-batches-bin/data_batch_1.bin", CifarRecords(1, 1));
  dir.Write("b/empty/nothing.txt", "");
  const std::vector<std::string> roots = {(dir.path() / "a").string(), (dir.path() / "b").string(),
                                          (dir.path() / "missing").string()};
  const std::vector<DatasetInfo> datasets = ListDatasets(roots);
  std::vector<std::string> names;
  for (const DatasetInfo& info : datasets) names.push_back(info.name);
  EXPECT_THAT(names, ElementsAre("cifar10", "digits", "fashion-mnist"));
  EXPECT_THAT(datasets[0].splits, ElementsAre("test"));  // a's, not b's
  EXPECT_EQ(datasets[2].directory, std::string(kBuiltinDatasetRoot) + "/fashion-mnist");
  EXPECT_THAT(datasets[2].splits, ElementsAre("test", "train"));
  EXPECT_THAT(DatasetRoots(roots).back(), kBuiltinDatasetRoot);
}

TEST(DatasetRegistryTest, UnknownNamesAndSplitsAreNotFound) {
  TempDir dir;
  dir.Write("root/cifar10/test_batch.bin", CifarRecords(1, 2));
  dir.Write("root/junk/readme.txt", "");
  const std::string root = (dir.path() / "root").string();
  DatasetOptions options{.roots = {root}};

  absl::Status status = LoadDataset("imagenet:val", options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr("no dataset \"imagenet\" in the dataset roots " + root +
                              ", /usr/share/datasets"),
                    HasSubstr("available: cifar10, fashion-mnist")));

  status = LoadDataset("junk:train", options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(root + "/junk exists but holds no known format: expected IDX"));

  status = LoadDataset("cifar10:train", options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("dataset \"cifar10\" (cifar10, " + root +
                        "/cifar10) has no split \"train\"; its splits: test"));

  status = LoadDataset("fashion-mnist:val", options).status();
  EXPECT_THAT(std::string(status.message()), HasSubstr("its splits: test, train"));

  EXPECT_EQ(LoadDataset("cifar10", options).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FindDataset("../cifar10", options.roots).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DatasetRegistryTest, LoadsFashionMnistFromTheBuiltinRoot) {
  absl::StatusOr<ImageSet> test = LoadDataset("fashion-mnist:test", {});
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->size(), 10000);
  EXPECT_EQ(test->labels[0], 9);
  EXPECT_EQ(test->class_names[9], "Ankle boot");
}

TEST(DatasetRegistryTest, LoadsEachFormat) {
  TempDir dir;
  WriteIdx(dir, "root/mnist", "train", /*gzip=*/true);
  WriteIdx(dir, "root/my-fashion", "t10k", /*gzip=*/false);
  dir.Write("root/cifar10/cifar-10-batches-bin/test_batch.bin", CifarRecords(1, 3));
  dir.Write("root/cifar100/cifar-100-binary/test.bin", CifarRecords(2, 2));
  dir.Write("root/pets/val/cat/a.png", FlatPng());
  dir.Write("root/pets/val/dog/b.png", FlatPng());
  DatasetOptions options{.roots = {(dir.path() / "root").string()},
                         .transform = {.crop_size = 4},
                         .cache_dir = (dir.path() / "cache").string()};

  absl::StatusOr<ImageSet> set = LoadDataset("mnist:train", options);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(set->labels, ElementsAre(3, 7));
  EXPECT_EQ(set->class_names[3], "3");
  set = LoadDataset("my-fashion:test", options);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->class_names[3], "Dress");

  set = LoadDataset("cifar10:test", options);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 3);

  set = LoadDataset("cifar100:test", options);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->num_classes, 100);
  options.cifar100_labels = Cifar100Labels::kCoarse;
  EXPECT_EQ(LoadDataset("cifar100:test", options)->num_classes, 20);

  set = LoadDataset("pets:val", options);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(set->class_names, ElementsAre("cat", "dog"));
  EXPECT_EQ(set->height, 4);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(options.cache_dir), {}), 1);
}

TEST(DatasetRegistryTest, DefaultShardCacheDirFollowsXdgThenHome) {
  {
    ScopedEnv xdg("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(*DefaultShardCacheDir(), "/xdg/transaxx/shards");
  }
  ScopedEnv xdg("XDG_CACHE_HOME", nullptr);
  {
    ScopedEnv home("HOME", "/home/someone");
    EXPECT_EQ(*DefaultShardCacheDir(), "/home/someone/.cache/transaxx/shards");
  }
  ScopedEnv home("HOME", nullptr);
  EXPECT_EQ(DefaultShardCacheDir().status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace transaxx::data
