#include "libs/data/dataset_hash.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/data/image_folder.h"
#include "libs/data/sha256.h"

namespace transaxx::data {
namespace {

absl::StatusOr<std::string> FileSha256(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path.string()));
  Sha256 sha;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    sha.Update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path.string()));
  return Sha256::Hex(sha.Finish());
}

}  // namespace

absl::StatusOr<std::string> DatasetContentHash(const DatasetInfo& info) {
  std::string text = "transaxx-dataset-v1\n";
  if (info.format == DatasetFormat::kImageFolder) {
    for (const std::string& split : info.splits) {
      absl::StatusOr<ImageFolderListing> listing =
          ListImageFolder((std::filesystem::path(info.directory) / split).string());
      if (!listing.ok()) return listing.status();
      absl::StrAppend(&text, split, "\t", FolderFingerprint(*listing), "\n");
    }
  } else {
    std::error_code error;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(info.directory, error)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (error) {
      return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot list ", info.directory));
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      absl::StatusOr<std::string> hash = FileSha256(file);
      if (!hash.ok()) return hash.status();
      absl::StrAppend(&text, file.filename().string(), "\t", *hash, "\n");
    }
  }
  Sha256 sha;
  sha.Update(text);
  return Sha256::Hex(sha.Finish());
}

}  // namespace transaxx::data
