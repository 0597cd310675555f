// The content hash of a dataset folder (DatasetRef.content_hash of the v1
// contract): SHA-256, lower-case hex, of "transaxx-dataset-v1\n" followed by
// - IDX and CIFAR folders: for each regular file directly in the folder, in
//   byte order of names, "<name>\t<SHA-256 of its bytes>\n" (the files are
//   tens of MB: hashing them takes a fraction of a second);
// - image folders: for each split, in order, "<split>\t<FolderFingerprint>\n"
//   (image_folder.h: every image's path, size and modification time), since
//   reading every image of an ImageNet-sized folder for a listing is too slow.
// Two servers holding the same files therefore agree on the hash, and any
// change of the data changes it.
//
// Thread-safety: reentrant.
#ifndef TRANSAXX_LIBS_DATA_DATASET_HASH_H_
#define TRANSAXX_LIBS_DATA_DATASET_HASH_H_

#include <string>

#include "absl/status/statusor.h"
#include "libs/data/dataset_registry.h"

namespace transaxx::data {

// The hash of `info`'s folder as described above; the errno status of a
// file that cannot be read, or ListImageFolder's errors.
absl::StatusOr<std::string> DatasetContentHash(const DatasetInfo& info);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_DATASET_HASH_H_
