#include "libs/data/folder_listing.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"

namespace transaxx::data {

absl::StatusOr<FolderListing> ListFolder(const std::string& dir) {
  namespace fs = std::filesystem;
  FolderListing listing;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (absl::StartsWith(name, ".")) continue;
    std::error_code type_error;  // a broken link: not a folder
    (it->is_directory(type_error) ? listing.folders : listing.files).push_back(name);
  }
  if (error) return absl::ErrnoToStatus(error.value(), dir);
  std::sort(listing.folders.begin(), listing.folders.end());
  std::sort(listing.files.begin(), listing.files.end());
  return listing;
}

}  // namespace transaxx::data
