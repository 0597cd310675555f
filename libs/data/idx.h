// Reading MNIST-style IDX files: an images file (idx3, unsigned bytes,
// N x rows x cols) and its labels file (idx1, unsigned bytes, N), each plain
// or gzip-compressed (told apart by their first bytes, not their names).
//
// An IDX file is a big-endian header, the magic 00 00 08 D (type 08 =
// unsigned byte, D dimensions) and D 32-bit sizes, followed by the data in
// row-major order. The images become a 1-channel ImageSet (CHW = row-major).
//
// Every error names the file: NOT_FOUND / PERMISSION_DENIED when it cannot
// be opened; INVALID_ARGUMENT for a wrong magic, data type or number of
// dimensions, a size of 0 or over kMaxImageDimension rows or columns,
// image and label counts that differ, a label outside the classes (with the
// image index), a file cut short (saying what it declares and where the data
// ends) and bytes after the declared data; DATA_LOSS for corrupt gzip data.
//
// Thread-safety: no shared state; concurrent calls are safe.
#ifndef TRANSAXX_LIBS_DATA_IDX_H_
#define TRANSAXX_LIBS_DATA_IDX_H_

#include <string>

#include "absl/status/statusor.h"
#include "libs/data/image_set.h"

namespace transaxx::data {

// What the labels of an IDX pair mean, which IDX files do not record: the
// class names and the published normalization of the set.
enum class IdxClasses {
  kDigits,   // MNIST: classes "0".."9", mean 0.1307, std 0.3081
  kFashion,  // Fashion-MNIST: "T-shirt/top" .. "Ankle boot", mean 0.2860, std 0.3530
};

// The images of `images_path` with the labels of `labels_path`.
absl::StatusOr<ImageSet> ReadIdx(const std::string& images_path, const std::string& labels_path,
                                 IdxClasses classes);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_IDX_H_
