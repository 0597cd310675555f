#include "libs/data/shard.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/data/byte_reader.h"
#include "libs/data/sha256.h"
#include "nlohmann/json.hpp"

namespace transaxx::data {
namespace {

using Json = nlohmann::json;

constexpr char kMagic[8] = {'T', 'X', 'X', 'S', 'H', 'A', 'R', 'D'};
constexpr int64_t kPreambleBytes = 16;  // magic, version, header length
constexpr int64_t kChecksumBytes = 32;
// Class names of even 100,000 classes fit; a larger header is not a shard's.
constexpr int64_t kMaxHeaderBytes = int64_t{64} << 20;
// The transform of transform.h; a shard of any other is not current.
constexpr char kTransformName[] = "timm-eval-center-bicubic";

void AppendLe32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(value >> shift));
}

uint32_t Le32(const unsigned char* bytes) {
  return uint32_t{bytes[0]} | uint32_t{bytes[1]} << 8 | uint32_t{bytes[2]} << 16 |
         uint32_t{bytes[3]} << 24;
}

std::string HeaderText(const ImageSet& images, const ShardSource& source) {
  Json header = {
      {"count", images.size()},
      {"channels", images.channels},
      {"height", images.height},
      {"width", images.width},
      {"num_classes", images.num_classes},
      {"class_names", images.class_names},
      {"mean", images.mean},
      {"std", images.std},
      {"source",
       {{"fingerprint", source.fingerprint},
        {"files", source.files},
        {"transform",
         {{"name", kTransformName},
          {"crop_size", source.transform.crop_size},
          {"crop_pct", source.transform.crop_pct}}}}},
  };
  return header.dump();
}

// Writes all of `data` to `fd`, adding it to `hash` unless null.
absl::Status WriteHashed(int fd, const void* data, size_t size, Sha256* hash,
                         const std::string& path) {
  if (hash != nullptr) hash->Update(data, size);
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, path);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteShardFile(int fd, const std::string& temporary, const ImageSet& images,
                            const ShardSource& source) {
  const std::string header = HeaderText(images, source);
  std::string preamble(kMagic, sizeof kMagic);
  AppendLe32(preamble, kShardVersion);
  AppendLe32(preamble, static_cast<uint32_t>(header.size()));
  std::string labels;
  labels.reserve(4 * images.labels.size());
  for (int32_t label : images.labels) AppendLe32(labels, static_cast<uint32_t>(label));
  Sha256 hash;
  for (const std::string* part :
       std::initializer_list<const std::string*>{&preamble, &header, &labels}) {
    absl::Status s = WriteHashed(fd, part->data(), part->size(), &hash, temporary);
    if (!s.ok()) return s;
  }
  absl::Status s = WriteHashed(fd, images.pixels.data(), images.pixels.size(), &hash, temporary);
  if (!s.ok()) return s;
  const Sha256::Digest digest = hash.Finish();
  s = WriteHashed(fd, digest.data(), digest.size(), nullptr, temporary);
  if (!s.ok()) return s;
  // Durable before the rename makes it visible.
  if (fsync(fd) != 0) return absl::ErrnoToStatus(errno, temporary);
  return absl::OkStatus();
}

// --- Reading ----------------------------------------------------------------

absl::Status DataLoss(const std::string& path, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(path, ": damaged shard: ", what));
}

// Reads exactly `size` bytes, adding them to `hash`; DATA_LOSS naming `what`
// when the file ends first.
absl::Status ReadHashed(ByteReader& reader, void* dst, size_t size, Sha256* hash,
                        absl::string_view what) {
  absl::StatusOr<size_t> n = reader.Read(dst, size);
  if (!n.ok()) return n.status();
  if (*n < size) {
    return DataLoss(reader.path(),
                    absl::StrFormat("truncated in the %s, at byte %d", what, reader.offset()));
  }
  if (hash != nullptr) hash->Update(dst, size);
  return absl::OkStatus();
}

// An open shard whose header is read, parsed and checked against the
// file's size.
struct Header {
  std::unique_ptr<ByteReader> reader;  // at the labels
  ImageSet images;                     // without labels and pixels
  ShardSource source;
  int64_t count = 0;
};

// Opens the shard at `path` and reads its header, adding it to `hash`.
absl::StatusOr<Header> OpenShard(const std::string& path, Sha256& hash) {
  absl::StatusOr<std::unique_ptr<ByteReader>> opened = ByteReader::Open(path);
  if (!opened.ok()) return opened.status();
  Header header{.reader = *std::move(opened)};
  ByteReader& reader = *header.reader;
  unsigned char preamble[kPreambleBytes];
  absl::StatusOr<size_t> n = reader.Read(preamble, sizeof preamble);
  if (!n.ok()) return n.status();
  if (*n < sizeof kMagic || std::memcmp(preamble, kMagic, sizeof kMagic) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a shard file (it does not start with \"TXXSHARD\")"));
  }
  if (*n < sizeof preamble) return DataLoss(path, "truncated in the preamble");
  hash.Update(preamble, sizeof preamble);
  const uint32_t version = Le32(preamble + 8);
  if (version != kShardVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: shard format version %d; this build reads version %d", path, version, kShardVersion));
  }
  const int64_t header_bytes = Le32(preamble + 12);
  if (header_bytes > kMaxHeaderBytes ||
      kPreambleBytes + header_bytes + kChecksumBytes > reader.file_bytes()) {
    return DataLoss(path, absl::StrFormat("a header of %d bytes does not fit in the %d-byte file",
                                          header_bytes, reader.file_bytes()));
  }
  std::string text(static_cast<size_t>(header_bytes), '\0');
  if (absl::Status s = ReadHashed(reader, text.data(), text.size(), &hash, "header"); !s.ok()) {
    return s;
  }
  ImageSet& images = header.images;
  try {
    const Json json = Json::parse(text);
    header.count = json.at("count").get<int64_t>();
    images.channels = json.at("channels").get<int64_t>();
    images.height = json.at("height").get<int64_t>();
    images.width = json.at("width").get<int64_t>();
    images.num_classes = json.at("num_classes").get<int32_t>();
    images.class_names = json.at("class_names").get<std::vector<std::string>>();
    images.mean = json.at("mean").get<std::vector<float>>();
    images.std = json.at("std").get<std::vector<float>>();
    const Json& source = json.at("source");
    header.source.fingerprint = source.at("fingerprint").get<std::string>();
    header.source.files = source.at("files").get<int64_t>();
    const Json& transform = source.at("transform");
    const std::string name = transform.at("name").get<std::string>();
    if (name != kTransformName) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: shard of the transform \"%s\"; this build makes \"%s\"", path, name,
                          kTransformName));
    }
    header.source.transform.crop_size = transform.at("crop_size").get<int64_t>();
    header.source.transform.crop_pct = transform.at("crop_pct").get<double>();
  } catch (const Json::exception& e) {
    return DataLoss(path, absl::StrCat("its header is not the JSON object of a shard: ", e.what()));
  }
  const auto valid_dimension = [](int64_t d) { return d >= 1 && d <= kMaxImageDimension; };
  if (header.count < 0 || !valid_dimension(images.channels) || !valid_dimension(images.height) ||
      !valid_dimension(images.width)) {
    return DataLoss(path, absl::StrFormat("its header declares %d images of %dx%dx%d", header.count,
                                          images.channels, images.height, images.width));
  }
  // Divides rather than multiplies: a lying count could overflow.
  const int64_t record_bytes = 4 + images.image_bytes();
  const int64_t payload = reader.file_bytes() - kPreambleBytes - header_bytes - kChecksumBytes;
  if (payload % record_bytes != 0 || payload / record_bytes != header.count) {
    return DataLoss(path,
                    absl::StrFormat("its header declares %d images of %dx%dx%d, %d bytes each with "
                                    "the label, but %d bytes follow the header",
                                    header.count, images.channels, images.height, images.width,
                                    record_bytes, payload + kChecksumBytes));
  }
  return header;
}

// Creates a file beside `path` that no other writer uses, with the
// permissions of any file made here; returns its descriptor.
absl::StatusOr<int> CreateTemporary(const std::string& path, std::string& temporary) {
  static std::atomic<uint64_t> counter{0};
  for (;;) {
    temporary = absl::StrCat(path, ".tmp.", getpid(), ".", counter++);
    const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    // EEXIST: left by a crashed process whose ID this one reuses.
    if (fd >= 0 || errno != EEXIST) {
      if (fd < 0) return absl::ErrnoToStatus(errno, temporary);
      return fd;
    }
  }
}

}  // namespace

absl::Status WriteShard(const std::string& path, const ImageSet& images,
                        const ShardSource& source) {
  if (absl::Status s = ValidateImageSet(images); !s.ok()) return s;
  std::string temporary;
  absl::StatusOr<int> fd = CreateTemporary(path, temporary);
  if (!fd.ok()) return fd.status();
  absl::Cleanup remove = [&temporary] { unlink(temporary.c_str()); };
  absl::Status s = WriteShardFile(*fd, temporary, images, source);
  if (close(*fd) != 0 && s.ok()) s = absl::ErrnoToStatus(errno, temporary);
  if (!s.ok()) return s;
  if (rename(temporary.c_str(), path.c_str()) != 0) return absl::ErrnoToStatus(errno, path);
  std::move(remove).Cancel();
  return absl::OkStatus();
}

absl::StatusOr<ShardSource> ReadShardSource(const std::string& path) {
  Sha256 hash;
  absl::StatusOr<Header> header = OpenShard(path, hash);
  if (!header.ok()) return header.status();
  return std::move(header->source);
}

absl::StatusOr<Shard> ReadShard(const std::string& path) {
  Sha256 hash;
  absl::StatusOr<Header> header = OpenShard(path, hash);
  if (!header.ok()) return header.status();
  ByteReader& reader = *header->reader;
  Shard shard{std::move(header->images), std::move(header->source)};
  ImageSet& images = shard.images;
  std::vector<unsigned char> labels(static_cast<size_t>(4 * header->count));
  absl::Status s = ReadHashed(reader, labels.data(), labels.size(), &hash, "labels");
  if (!s.ok()) return s;
  images.labels.resize(static_cast<size_t>(header->count));
  for (size_t i = 0; i < images.labels.size(); ++i) {
    images.labels[i] = static_cast<int32_t>(Le32(&labels[4 * i]));
  }
  images.pixels.resize(static_cast<size_t>(header->count * images.image_bytes()));
  s = ReadHashed(reader, images.pixels.data(), images.pixels.size(), &hash, "pixels");
  if (!s.ok()) return s;
  Sha256::Digest stored;
  s = ReadHashed(reader, stored.data(), stored.size(), nullptr, "checksum");
  if (!s.ok()) return s;
  if (stored != hash.Finish()) {
    return DataLoss(path, "its SHA-256 checksum does not match its contents");
  }
  if (absl::Status valid = ValidateImageSet(images); !valid.ok()) {
    return DataLoss(path, valid.message());
  }
  return shard;
}

}  // namespace transaxx::data
