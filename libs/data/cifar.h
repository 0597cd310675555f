// Reading the binary versions of CIFAR-10 and CIFAR-100.
//
// CIFAR-10 ("cifar-10-batches-bin"): data_batch_1.bin .. data_batch_5.bin
// are the training split, test_batch.bin the test split. Each file is a run
// of 3073-byte records: <label byte><3072 pixel bytes>, the pixels 32x32
// red, then green, then blue (CHW). Class names come from batches.meta.txt
// (one per line) when the folder has it, else the standard ten.
//
// CIFAR-100 ("cifar-100-binary"): train.bin and test.bin, 3074-byte records
// <coarse label><fine label><3072 pixel bytes>. The labels are the 100 fine
// classes by default, or the 20 coarse superclasses; names come from
// fine_label_names.txt / coarse_label_names.txt when present, else the
// standard ones.
//
// Every error names the file: NOT_FOUND when a split's file is missing;
// INVALID_ARGUMENT for an empty file, a record cut short (with its index and
// how much of it is there), a label outside the classes (with the record),
// or a names file without exactly one name per class.
//
// Thread-safety: no shared state; concurrent calls are safe.
#ifndef TRANSAXX_LIBS_DATA_CIFAR_H_
#define TRANSAXX_LIBS_DATA_CIFAR_H_

#include <string>

#include "absl/status/statusor.h"
#include "libs/data/image_set.h"

namespace transaxx::data {

enum class CifarSplit { kTrain, kTest };

// Which of CIFAR-100's two labels an ImageSet gets.
enum class Cifar100Labels { kFine, kCoarse };

// The split of the CIFAR-10 batches in `dir` (the folder holding the .bin
// files).
absl::StatusOr<ImageSet> ReadCifar10(const std::string& dir, CifarSplit split);

// The split of the CIFAR-100 files in `dir`, labelled by `labels`.
absl::StatusOr<ImageSet> ReadCifar100(const std::string& dir, CifarSplit split,
                                      Cifar100Labels labels = Cifar100Labels::kFine);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_CIFAR_H_
