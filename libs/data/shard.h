// Shard files: an ImageSet stored once it has been decoded and transformed,
// with what it was made from, so that an image folder is processed again
// only when it or the transform changes.
//
// Layout (integers little-endian):
//   offset 0    8 bytes   magic "TXXSHARD"
//          8    uint32    format version, kShardVersion
//          12   uint32    J, the length of the header
//          16   J bytes   header, a JSON object: count, channels, height,
//                         width, num_classes, class_names, mean, std, and
//                         source {fingerprint, files, transform {name,
//                         crop_size, crop_pct}}
//          16+J           count int32 labels
//          ...            count * channels * height * width pixel bytes
//          end-32         SHA-256 of every byte before it
//
// Reading verifies all of it: the file's size against the header's before
// anything is allocated, the checksum, and the ImageSet's invariants.
// Errors name the file: INVALID_ARGUMENT for a file that is not a shard,
// FAILED_PRECONDITION for another format version, DATA_LOSS for a shard that
// is truncated, has a header that does not add up, or fails its checksum.
// Writing goes to a temporary file beside `path`, renamed over it once
// complete, so a reader never sees half a shard.
//
// Thread-safety: no shared state; concurrent calls are safe, also on the
// same path (the last complete write wins).
#ifndef TRANSAXX_LIBS_DATA_SHARD_H_
#define TRANSAXX_LIBS_DATA_SHARD_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/data/image_set.h"
#include "libs/data/transform.h"

namespace transaxx::data {

inline constexpr uint32_t kShardVersion = 1;

// What a shard was made from. A cached shard stands for its source only
// while all of this matches.
struct ShardSource {
  std::string fingerprint;  // of the source files (see image_folder.h)
  int64_t files = 0;        // how many source files
  EvalTransform transform;

  friend bool operator==(const ShardSource&, const ShardSource&) = default;
};

struct Shard {
  ImageSet images;
  ShardSource source;
};

// Writes `images`, made from `source`, to a shard at `path`.
// INVALID_ARGUMENT when `images` breaks an ImageSet invariant; errors of the
// file system naming the file.
absl::Status WriteShard(const std::string& path, const ImageSet& images, const ShardSource& source);

// The source recorded in the header of the shard at `path`, read without
// its pixels: enough to tell whether the shard is current. Verifies the
// header only; ReadShard verifies the rest.
absl::StatusOr<ShardSource> ReadShardSource(const std::string& path);

// The whole shard at `path`, verified.
absl::StatusOr<Shard> ReadShard(const std::string& path);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_SHARD_H_
