// Image folders: ImageNet-style trees ROOT/CLASS_NAME/IMAGE, read as
// torchvision's ImageFolder reads them and transformed with timm's
// evaluation transform (transform.h), with the result cached in a shard
// file (shard.h) so that a folder is decoded only once.
//
// Classes are the subfolders of ROOT, sorted by name (byte order, as Python
// sorts them); label i is the i-th. A class's images are the files directly
// in its folder named *.jpg, *.jpeg or *.png (in any case), sorted by name.
// Names starting with '.' (hidden files, editor and notebook folders) are
// ignored, as are other files; subfolders of a class folder are not read.
// Files of the other image formats torchvision reads (.bmp, .gif, .pgm,
// .ppm, .tif, .tiff, .webp) are refused, so that a set is never silently
// smaller than the one timm would evaluate. An ImageSet of a folder has 3
// channels of crop_size x crop_size, the folder names as class names, and
// the ImageNet normalization (mean 0.485, 0.456, 0.406; std 0.229, 0.224,
// 0.225).
//
// The fingerprint of a folder is the SHA-256 of its listing: each image's
// path relative to ROOT, size and modification time, in label order. A
// shard is current while its fingerprint and transform match.
//
// Errors: NOT_FOUND when ROOT does not exist; INVALID_ARGUMENT naming the
// folder or file for a ROOT without class folders, a class folder without
// images, an unsupported image format, or an image that cannot be decoded;
// the errno status of a file that cannot be read.
//
// Thread-safety: no shared state; concurrent calls are safe, also on the
// same folder and cache (each writes its shard whole; the last one wins).
#ifndef TRANSAXX_LIBS_DATA_IMAGE_FOLDER_H_
#define TRANSAXX_LIBS_DATA_IMAGE_FOLDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/data/image_set.h"
#include "libs/data/transform.h"

namespace transaxx::data {

struct ImageFile {
  std::string relative_path;  // CLASS_NAME/FILE_NAME
  int32_t label = 0;
  int64_t size = 0;      // bytes
  int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
};

struct ImageFolderListing {
  std::vector<std::string> class_names;
  std::vector<ImageFile> files;  // in label order, then by name
};

// The classes and images of the folder `root`.
absl::StatusOr<ImageFolderListing> ListImageFolder(const std::string& root);

// The fingerprint of `listing`: lower-case hex SHA-256.
std::string FolderFingerprint(const ImageFolderListing& listing);

// Decodes and transforms every image of `root`, without any cache, on all
// cores. INVALID_ARGUMENT for an invalid transform (see transform.h).
absl::StatusOr<ImageSet> ReadImageFolder(const std::string& root, const EvalTransform& transform);

struct LoadedImageFolder {
  ImageSet images;
  std::string shard_path;
  // True when the images came from a current shard, without decoding.
  bool from_shard = false;
  // Why the images were decoded: there was no shard yet, it was made from
  // another listing or transform, or it could not be read (the error).
  // Empty when from_shard.
  std::string rebuild_reason;
  // OK, or why the new shard could not be written; the images are
  // returned all the same.
  absl::Status write_status;
};

// The images of `root` under `transform`, from the shard for them in
// `cache_dir` when it is current, else decoded and written to a new shard
// there (creating `cache_dir` if needed). The shard's name is derived from
// the folder's absolute path and the transform, so every folder and
// transform has its own. A damaged or stale shard is rebuilt, never an
// error. INVALID_ARGUMENT for an empty cache_dir or an invalid transform.
absl::StatusOr<LoadedImageFolder> LoadImageFolder(const std::string& root,
                                                  const EvalTransform& transform,
                                                  const std::string& cache_dir);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_IMAGE_FOLDER_H_
