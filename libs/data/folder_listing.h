// Listing a folder the way the dataset readers see it: the entries whose
// names do not start with '.' (hidden files, editor and notebook folders),
// sorted by name in byte order (as Python sorts them), split into folders
// (and links to folders) and everything else.
//
// Thread-safety: no shared state; concurrent calls are safe.
#ifndef TRANSAXX_LIBS_DATA_FOLDER_LISTING_H_
#define TRANSAXX_LIBS_DATA_FOLDER_LISTING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace transaxx::data {

struct FolderListing {
  std::vector<std::string> folders;
  std::vector<std::string> files;
};

// The listing of `dir`; the errno status naming `dir` when it cannot be
// read.
absl::StatusOr<FolderListing> ListFolder(const std::string& dir);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_FOLDER_LISTING_H_
