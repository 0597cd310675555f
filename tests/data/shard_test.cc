#include "libs/data/shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/data/test_files.h"

namespace transaxx::data {
namespace {

using test_files::ExpectError;
using test_files::ReadFile;
using test_files::TempDir;
using ::testing::HasSubstr;

ImageSet SmallSet() {
  return test_files::PatternImageSet(3, 4, 5, {2, 0, 1, 2},
                                     {"n01440764", "tench \"fish\"", "caf\xc3\xa9"});
}

const ShardSource kSource{
    .fingerprint = "abc123", .files = 4, .transform = {.crop_size = 5, .crop_pct = 0.9}};

TEST(ShardTest, RoundTrip) {
  TempDir dir;
  const std::string path = (dir.path() / "set.txshard").string();
  const ImageSet set = SmallSet();
  ASSERT_TRUE(WriteShard(path, set, kSource).ok());
  absl::StatusOr<Shard> shard = ReadShard(path);
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_EQ(shard->source, kSource);
  const ImageSet& read = shard->images;
  EXPECT_EQ(read.channels, 3);
  EXPECT_EQ(read.height, 4);
  EXPECT_EQ(read.width, 5);
  EXPECT_EQ(read.labels, set.labels);
  EXPECT_EQ(read.pixels, set.pixels);
  EXPECT_EQ(read.class_names, set.class_names);
  EXPECT_EQ(read.num_classes, 3);
  EXPECT_EQ(read.mean, set.mean);
  EXPECT_EQ(read.std, set.std);
  absl::StatusOr<ShardSource> source = ReadShardSource(path);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(*source, kSource);
  // Only the shard is left: the temporary file was renamed.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);

  ImageSet empty = set;
  empty.labels.clear();
  empty.pixels.clear();
  ASSERT_TRUE(WriteShard(path, empty, kSource).ok());
  shard = ReadShard(path);
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_EQ(shard->images.size(), 0);
}

TEST(ShardTest, TruncatedShardsAreRefused) {
  TempDir dir;
  const std::string good = (dir.path() / "good").string();
  ASSERT_TRUE(WriteShard(good, SmallSet(), kSource).ok());
  const std::string bytes = ReadFile(good);
  const std::string path = (dir.path() / "cut").string();
  for (size_t cut : {size_t{0}, size_t{5}, size_t{12}, size_t{20}, size_t{200}, bytes.size() - 250,
                     bytes.size() - 32, bytes.size() - 1}) {
    SCOPED_TRACE(cut);
    dir.Write("cut", bytes.substr(0, cut));
    const absl::StatusOr<Shard> shard = ReadShard(path);
    EXPECT_FALSE(shard.ok());
    EXPECT_THAT(std::string(shard.status().message()), HasSubstr(path));
  }
  dir.Write("cut", bytes.substr(0, 5));
  ExpectError(ReadShard(path).status(), absl::StatusCode::kInvalidArgument, path,
              "not a shard file");
  dir.Write("cut", bytes.substr(0, bytes.size() - 1));
  ExpectError(ReadShard(path).status(), absl::StatusCode::kDataLoss, path,
              "its header declares 4 images of 3x4x5, 64 bytes each with the label, but 287 bytes "
              "follow the header");
  dir.Write("cut", bytes + "x");
  ExpectError(ReadShard(path).status(), absl::StatusCode::kDataLoss, path,
              "but 289 bytes follow the header");
}

TEST(ShardTest, ChangedBytesFailTheChecksum) {
  TempDir dir;
  const std::string path = (dir.path() / "set").string();
  ASSERT_TRUE(WriteShard(path, SmallSet(), kSource).ok());
  const std::string bytes = ReadFile(path);
  for (size_t at : {bytes.size() - 100, bytes.size() - 33, bytes.size() - 1}) {
    std::string changed = bytes;
    changed[at] ^= 0x01;
    dir.Write("set", changed);
    ExpectError(ReadShard(path).status(), absl::StatusCode::kDataLoss, path,
                "its SHA-256 checksum does not match its contents");
  }
}

TEST(ShardTest, LyingHeadersAreRefused) {
  TempDir dir;
  const std::string path = (dir.path() / "set").string();
  ASSERT_TRUE(WriteShard(path, SmallSet(), kSource).ok());
  const std::string bytes = ReadFile(path);

  std::string count = bytes;
  const size_t at = count.find("\"count\":4");
  ASSERT_NE(at, std::string::npos);
  count[at + 8] = '5';
  dir.Write("set", count);
  ExpectError(ReadShard(path).status(), absl::StatusCode::kDataLoss, path,
              "its header declares 5 images");

  std::string length = bytes;
  length[13] = 0x7f;  // header length 2^15 + its own, past the end of the file
  dir.Write("set", length);
  ExpectError(ReadShard(path).status(), absl::StatusCode::kDataLoss, path,
              absl::StrCat("does not fit in the ", bytes.size(), "-byte file"));

  std::string json = bytes;
  json[16] = '[';
  dir.Write("set", json);
  ExpectError(ReadShard(path).status(), absl::StatusCode::kDataLoss, path,
              "its header is not the JSON object of a shard");

  std::string version = bytes;
  version[8] = 2;
  dir.Write("set", version);
  ExpectError(ReadShardSource(path).status(), absl::StatusCode::kFailedPrecondition, path,
              "shard format version 2; this build reads version 1");
}

TEST(ShardTest, WriteErrors) {
  TempDir dir;
  ImageSet invalid = SmallSet();
  invalid.labels[0] = 3;
  EXPECT_EQ(WriteShard((dir.path() / "x").string(), invalid, kSource).code(),
            absl::StatusCode::kInvalidArgument);
  const std::string missing = (dir.path() / "no" / "such" / "x").string();
  ExpectError(WriteShard(missing, SmallSet(), kSource), absl::StatusCode::kNotFound, missing,
              "No such file");
  ExpectError(ReadShard(missing).status(), absl::StatusCode::kNotFound, missing, "No such file");
}

}  // namespace
}  // namespace transaxx::data
