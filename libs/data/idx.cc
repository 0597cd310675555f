#include "libs/data/idx.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/data/byte_reader.h"

namespace transaxx::data {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;

// One IDX file being read: its header's sizes, and what an item (the slice
// along the first dimension) is called in messages.
struct IdxFile {
  std::unique_ptr<ByteReader> reader;
  std::vector<int64_t> dims;
  const char* item;  // "image", "label"
};

absl::Status Truncated(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": truncated: ", what));
}

// Opens an IDX file of unsigned bytes with `rank` dimensions and reads its
// header.
absl::StatusOr<IdxFile> OpenIdx(const std::string& path, int rank, const char* item) {
  absl::StatusOr<std::unique_ptr<ByteReader>> reader = ByteReader::Open(path);
  if (!reader.ok()) return reader.status();
  IdxFile file{*std::move(reader), {}, item};
  const size_t header_bytes = 4 + 4 * static_cast<size_t>(rank);
  std::vector<unsigned char> bytes(header_bytes);
  absl::StatusOr<size_t> n = file.reader->Read(bytes.data(), header_bytes);
  if (!n.ok()) return n.status();
  if (*n < 4) {
    return Truncated(path, absl::StrFormat("%d bytes, too short for the 4-byte IDX magic", *n));
  }
  const uint32_t magic = uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 |
                         uint32_t{bytes[2]} << 8 | uint32_t{bytes[3]};
  const uint32_t expected = uint32_t{kUnsignedByteType} << 8 | static_cast<uint32_t>(rank);
  if (magic != expected) {
    std::string found = "not an IDX file";
    if (bytes[0] == 0 && bytes[1] == 0 && bytes[2] != kUnsignedByteType) {
      found = absl::StrFormat(
          "an IDX file of data type 0x%02x; only unsigned bytes (0x08) are read", bytes[2]);
    } else if (bytes[0] == 0 && bytes[1] == 0) {
      found = absl::StrFormat("an IDX file with %d dimensions", bytes[3]);
    }
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: magic 0x%08x: %s; an IDX %s file starts with 0x%08x (unsigned bytes, %d dimensions)",
        path, magic, found, item, expected, rank));
  }
  if (*n < header_bytes) {
    return Truncated(
        path, absl::StrFormat("in the IDX header, after %d of its %d bytes", *n, header_bytes));
  }
  for (int d = 0; d < rank; ++d) {
    const unsigned char* p = &bytes[4 + 4 * static_cast<size_t>(d)];
    file.dims.push_back(int64_t{p[0]} << 24 | int64_t{p[1]} << 16 | int64_t{p[2]} << 8 | p[3]);
  }
  return file;
}

// Reads the data of `file`, `item_bytes` bytes per item, and checks that
// nothing follows it. REQUIRES: item_bytes >= 1.
absl::StatusOr<std::vector<uint8_t>> ReadData(IdxFile& file, int64_t item_bytes) {
  ByteReader& reader = *file.reader;
  const int64_t items = file.dims[0];
  const int64_t header_bytes = reader.offset();
  const std::string shape =
      file.dims.size() > 1
          ? absl::StrCat(" of ", absl::StrJoin(file.dims.begin() + 1, file.dims.end(), "x"))
          : "";
  const std::string declared =
      absl::StrFormat("its header declares %d %ss%s after the %d-byte header", items, file.item,
                      shape, header_bytes);
  const auto ends_early = [&](int64_t bytes) {
    return Truncated(reader.path(),
                     absl::StrFormat("%s, but the data ends in %s %d, after %d bytes", declared,
                                     file.item, bytes / item_bytes, bytes));
  };
  // Refuses sizes the file cannot hold before allocating for them.
  if (reader.gzipped() && items > reader.max_data_bytes() / item_bytes) {
    return Truncated(reader.path(), absl::StrFormat("%s, more than a %d-byte gzip file can hold",
                                                    declared, reader.file_bytes()));
  }
  const int64_t available = reader.file_bytes() - header_bytes;
  if (!reader.gzipped() && items > available / item_bytes) return ends_early(available);
  std::vector<uint8_t> data(static_cast<size_t>(items * item_bytes));
  absl::StatusOr<size_t> n = reader.Read(data.data(), data.size());
  if (!n.ok()) return n.status();
  if (*n < data.size()) return ends_early(static_cast<int64_t>(*n));
  absl::StatusOr<bool> at_end = reader.AtEnd();
  if (!at_end.ok()) return at_end.status();
  if (!*at_end) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: bytes follow the data: %s", reader.path(), declared));
  }
  return data;
}

std::vector<std::string> ClassNames(IdxClasses classes) {
  if (classes == IdxClasses::kFashion) {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  }
  return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

}  // namespace

absl::StatusOr<ImageSet> ReadIdx(const std::string& images_path, const std::string& labels_path,
                                 IdxClasses classes) {
  absl::StatusOr<IdxFile> images = OpenIdx(images_path, 3, "image");
  if (!images.ok()) return images.status();
  absl::StatusOr<IdxFile> labels = OpenIdx(labels_path, 1, "label");
  if (!labels.ok()) return labels.status();
  const int64_t rows = images->dims[1], cols = images->dims[2];
  if (rows < 1 || cols < 1 || rows > kMaxImageDimension || cols > kMaxImageDimension) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: images of %dx%d pixels; rows and columns must be in [1, %d]",
                        images_path, rows, cols, kMaxImageDimension));
  }
  if (images->dims[0] != labels->dims[0]) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s declares %d images but %s declares %d labels; an IDX pair has one label per image",
        images_path, images->dims[0], labels_path, labels->dims[0]));
  }

  ImageSet set;
  set.channels = 1;
  set.height = rows;
  set.width = cols;
  set.class_names = ClassNames(classes);
  set.num_classes = static_cast<int32_t>(set.class_names.size());
  set.mean = {classes == IdxClasses::kFashion ? 0.2860f : 0.1307f};
  set.std = {classes == IdxClasses::kFashion ? 0.3530f : 0.3081f};
  absl::StatusOr<std::vector<uint8_t>> pixels = ReadData(*images, rows * cols);
  if (!pixels.ok()) return pixels.status();
  set.pixels = *std::move(pixels);
  absl::StatusOr<std::vector<uint8_t>> label_bytes = ReadData(*labels, 1);
  if (!label_bytes.ok()) return label_bytes.status();
  set.labels.assign(label_bytes->begin(), label_bytes->end());
  for (size_t i = 0; i < set.labels.size(); ++i) {
    if (set.labels[i] >= set.num_classes) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: label %d of image %d is outside the %d classes [0, %d)", labels_path,
                          set.labels[i], i, set.num_classes, set.num_classes));
    }
  }
  return set;
}

}  // namespace transaxx::data
