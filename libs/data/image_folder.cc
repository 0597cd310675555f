#include "libs/data/image_folder.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "libs/data/folder_listing.h"
#include "libs/data/image_decode.h"
#include "libs/data/sha256.h"
#include "libs/data/shard.h"

namespace transaxx::data {
namespace {

namespace fs = std::filesystem;

enum class FileKind { kImage, kUnsupportedImage, kOther };

FileKind KindOf(const std::string& name) {
  const std::string extension = absl::AsciiStrToLower(fs::path(name).extension().string());
  for (const char* e : {".jpg", ".jpeg", ".png"}) {
    if (extension == e) return FileKind::kImage;
  }
  for (const char* e : {".bmp", ".gif", ".pgm", ".ppm", ".tif", ".tiff", ".webp"}) {
    if (extension == e) return FileKind::kUnsupportedImage;
  }
  return FileKind::kOther;
}

absl::StatusOr<std::string> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return std::move(bytes).str();
}

// Decodes and transforms image i of `listing` into its slot of `images`.
absl::Status DecodeInto(const std::string& root, const ImageFolderListing& listing, size_t i,
                        const EvalTransform& transform, ImageSet& images) {
  const std::string path = (fs::path(root) / listing.files[i].relative_path).string();
  absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<RgbImage> image = DecodeImage(*bytes, path);
  if (!image.ok()) return image.status();
  const std::vector<uint8_t> pixels =
      ApplyEvalTransform(image->pixels, 3, image->height, image->width, transform);
  std::copy(pixels.begin(), pixels.end(),
            images.pixels.begin() + static_cast<ptrdiff_t>(i * pixels.size()));
  return absl::OkStatus();
}

absl::StatusOr<ImageSet> DecodeListing(const std::string& root, const ImageFolderListing& listing,
                                       const EvalTransform& transform) {
  ImageSet images;
  images.channels = 3;
  images.height = images.width = transform.crop_size;
  images.class_names = listing.class_names;
  images.num_classes = static_cast<int32_t>(listing.class_names.size());
  images.mean = {0.485f, 0.456f, 0.406f};
  images.std = {0.229f, 0.224f, 0.225f};
  const size_t count = listing.files.size();
  for (const ImageFile& file : listing.files) images.labels.push_back(file.label);
  images.pixels.resize(count * static_cast<size_t>(images.image_bytes()));

  // Workers take images in turn; after an error they stop taking more, and
  // the error of the first failed image in listing order is reported.
  std::vector<absl::Status> errors(count);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  const auto work = [&] {
    for (size_t i; !failed && (i = next++) < count;) {
      errors[i] = DecodeInto(root, listing, i, transform, images);
      if (!errors[i].ok()) failed = true;
    }
  };
  const size_t workers =
      std::clamp<size_t>(std::thread::hardware_concurrency(), 1, std::max<size_t>(count, 1));
  {
    std::vector<std::jthread> threads;
    for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
    work();
  }
  for (const absl::Status& error : errors) {
    if (!error.ok()) return error;
  }
  return images;
}

// A file name part made of `text`'s safe characters.
std::string FileNamePart(const std::string& text) {
  std::string part;
  for (char c : text) part.push_back(absl::ascii_isalnum(c) || c == '-' || c == '_' ? c : '_');
  return part;
}

// The shard of `root` under `transform` in `cache_dir`: named after the
// folder for people browsing the cache, and a hash of its absolute path and
// the transform so that no two collide.
std::string ShardPath(const std::string& root, const EvalTransform& transform,
                      const std::string& cache_dir) {
  std::error_code error;
  fs::path absolute = fs::weakly_canonical(fs::absolute(root), error);
  if (error) absolute = fs::absolute(root);
  Sha256 hash;
  hash.Update(absl::StrFormat("%s\n%d\n%.17g\n", absolute.string(), transform.crop_size,
                              transform.crop_pct));
  const std::string key = Sha256::Hex(hash.Finish()).substr(0, 16);
  const std::string name = absl::StrCat(FileNamePart(absolute.parent_path().filename().string()),
                                        "-", FileNamePart(absolute.filename().string()), "-",
                                        transform.crop_size, "-", key, ".txshard");
  return (fs::path(cache_dir) / name).string();
}

}  // namespace

absl::StatusOr<ImageFolderListing> ListImageFolder(const std::string& root) {
  std::error_code error;
  if (!fs::exists(root, error)) {
    return absl::NotFoundError(absl::StrCat(root, ": no such image folder"));
  }
  if (!fs::is_directory(root, error)) {
    return absl::InvalidArgumentError(absl::StrCat(root, ": not a folder"));
  }
  absl::StatusOr<FolderListing> top = ListFolder(root);
  if (!top.ok()) return top.status();
  ImageFolderListing listing;
  listing.class_names = std::move(top->folders);
  if (listing.class_names.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        root, ": no class folders; an image folder holds ROOT/CLASS_NAME/IMAGE.jpg files"));
  }
  for (size_t label = 0; label < listing.class_names.size(); ++label) {
    const fs::path class_dir = fs::path(root) / listing.class_names[label];
    absl::StatusOr<FolderListing> entries = ListFolder(class_dir.string());
    if (!entries.ok()) return entries.status();
    const size_t first = listing.files.size();
    for (const std::string& name : entries->files) {
      const fs::path path = class_dir / name;
      const FileKind kind = KindOf(name);
      if (kind == FileKind::kUnsupportedImage) {
        return absl::InvalidArgumentError(absl::StrCat(
            path.string(), ": ", fs::path(name).extension().string(),
            " images are not supported, only .jpg, .jpeg and .png; convert or remove it"));
      }
      if (kind == FileKind::kOther) continue;
      struct stat st;
      if (stat(path.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, path.string());
      listing.files.push_back({absl::StrCat(listing.class_names[label], "/", name),
                               static_cast<int32_t>(label), static_cast<int64_t>(st.st_size),
                               int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec});
    }
    if (listing.files.size() == first) {
      return absl::InvalidArgumentError(
          absl::StrCat(class_dir.string(), ": no .jpg, .jpeg or .png images in this class folder"));
    }
  }
  return listing;
}

std::string FolderFingerprint(const ImageFolderListing& listing) {
  Sha256 hash;
  for (const ImageFile& file : listing.files) {
    hash.Update(absl::StrCat(file.relative_path, "\t", file.size, "\t", file.mtime_ns, "\n"));
  }
  return Sha256::Hex(hash.Finish());
}

absl::StatusOr<ImageSet> ReadImageFolder(const std::string& root, const EvalTransform& transform) {
  if (absl::Status s = ValidateEvalTransform(transform); !s.ok()) return s;
  absl::StatusOr<ImageFolderListing> listing = ListImageFolder(root);
  if (!listing.ok()) return listing.status();
  return DecodeListing(root, *listing, transform);
}

absl::StatusOr<LoadedImageFolder> LoadImageFolder(const std::string& root,
                                                  const EvalTransform& transform,
                                                  const std::string& cache_dir) {
  if (cache_dir.empty()) {
    return absl::InvalidArgumentError(
        "no cache folder given for the shards of image folders (cache_dir is empty)");
  }
  if (absl::Status s = ValidateEvalTransform(transform); !s.ok()) return s;
  absl::StatusOr<ImageFolderListing> listing = ListImageFolder(root);
  if (!listing.ok()) return listing.status();
  const ShardSource source{FolderFingerprint(*listing), static_cast<int64_t>(listing->files.size()),
                           transform};
  LoadedImageFolder loaded;
  loaded.shard_path = ShardPath(root, transform, cache_dir);

  absl::StatusOr<ShardSource> cached = ReadShardSource(loaded.shard_path);
  if (absl::IsNotFound(cached.status())) {
    loaded.rebuild_reason = "no shard yet";
  } else if (!cached.ok()) {
    loaded.rebuild_reason = cached.status().ToString();
  } else if (*cached != source) {
    loaded.rebuild_reason = "the shard was made from another listing of the folder or transform";
  } else {
    absl::StatusOr<Shard> shard = ReadShard(loaded.shard_path);
    if (shard.ok()) {
      loaded.images = std::move(shard->images);
      loaded.from_shard = true;
      return loaded;
    }
    loaded.rebuild_reason = shard.status().ToString();
  }

  absl::StatusOr<ImageSet> images = DecodeListing(root, *listing, transform);
  if (!images.ok()) return images.status();
  loaded.images = *std::move(images);
  std::error_code error;
  fs::create_directories(cache_dir, error);
  loaded.write_status = error ? absl::ErrnoToStatus(error.value(), cache_dir)
                              : WriteShard(loaded.shard_path, loaded.images, source);
  return loaded;
}

}  // namespace transaxx::data
