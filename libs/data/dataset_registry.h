// Datasets addressed as "NAME:SPLIT" (fashion-mnist:test, cifar10:train,
// imagenette:val): NAME is a folder under one of the dataset roots, which
// are searched in order: the caller's roots, then kBuiltinDatasetRoot
// (where Debian's dataset-fashion-mnist package installs fashion-mnist/).
// The first root holding a folder NAME in a known format wins.
//
// A folder's format is told by its files:
// - IDX: {train,t10k}-images-idx3-ubyte and {train,t10k}-labels-idx1-ubyte
//   (also with ".idx3-ubyte" for "-idx3-ubyte", each optionally .gz);
//   splits "train" and "test" (t10k). Folders whose name contains
//   "fashion" get Fashion-MNIST's classes, others the digits (idx.h).
// - CIFAR-10: data_batch_1.bin (train) and/or test_batch.bin (test), in the
//   folder or its cifar-10-batches-bin subfolder (cifar.h).
// - CIFAR-100: train.bin and/or test.bin, in the folder or its
//   cifar-100-binary subfolder.
// - Image folder: SPLIT/CLASS_NAME/IMAGE files (image_folder.h); every
//   subfolder holding class folders is a split. They are transformed and
//   cached in shards as DatasetOptions say.
//
// Thread-safety: no shared state; concurrent calls are safe.
#ifndef TRANSAXX_LIBS_DATA_DATASET_REGISTRY_H_
#define TRANSAXX_LIBS_DATA_DATASET_REGISTRY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/data/cifar.h"
#include "libs/data/image_set.h"
#include "libs/data/transform.h"

namespace transaxx::data {

inline constexpr char kBuiltinDatasetRoot[] = "/usr/share/datasets";

struct DatasetSpec {
  std::string name;
  std::string split;
};

// Parses "NAME:SPLIT". Both parts are non-empty, made of letters, digits,
// '.', '_' and '-', and do not start with '.'. INVALID_ARGUMENT otherwise,
// quoting the spec and the expected form.
absl::StatusOr<DatasetSpec> ParseDatasetSpec(absl::string_view spec);

enum class DatasetFormat { kIdx, kCifar10, kCifar100, kImageFolder };

// "idx", "cifar10", "cifar100", "image-folder".
absl::string_view DatasetFormatName(DatasetFormat format);

struct DatasetInfo {
  std::string name;
  DatasetFormat format = DatasetFormat::kIdx;
  std::vector<std::string> splits;  // sorted
  // The folder holding the data: ROOT/NAME, or for CIFAR the batches
  // subfolder when the files are there.
  std::string directory;
};

// The format and splits of the dataset folder `directory`, named after its
// last component. NOT_FOUND, saying which files each format needs, when it
// is in none of them.
absl::StatusOr<DatasetInfo> DetectDataset(const std::string& directory);

// `roots` followed by kBuiltinDatasetRoot.
std::vector<std::string> DatasetRoots(const std::vector<std::string>& roots);

// Every dataset in DatasetRoots(roots), sorted by name; of two with one
// name, the one in the earlier root. Roots that do not exist are skipped.
std::vector<DatasetInfo> ListDatasets(const std::vector<std::string>& roots);

// The dataset `name` in DatasetRoots(roots). INVALID_ARGUMENT for a name
// ParseDatasetSpec would refuse; NOT_FOUND listing the roots searched and
// the datasets available (and, where a folder `name` exists in no known
// format, what it lacks).
absl::StatusOr<DatasetInfo> FindDataset(absl::string_view name,
                                        const std::vector<std::string>& roots);

// Where shards of image folders go when DatasetOptions.cache_dir is empty:
// $XDG_CACHE_HOME/transaxx/shards, else $HOME/.cache/transaxx/shards.
// FAILED_PRECONDITION when neither variable is set.
absl::StatusOr<std::string> DefaultShardCacheDir();

struct DatasetOptions {
  std::vector<std::string> roots;  // searched before kBuiltinDatasetRoot
  EvalTransform transform;         // image folders only
  std::string cache_dir;           // image folders' shards; empty: DefaultShardCacheDir()
  Cifar100Labels cifar100_labels = Cifar100Labels::kFine;
};

// The images of the dataset split `spec` ("NAME:SPLIT"). INVALID_ARGUMENT
// for a malformed spec; NOT_FOUND for an unknown name (see FindDataset) or
// split (naming the splits there are); the readers' errors otherwise. An
// image folder's shard is best effort: when it cannot be written the
// images are returned all the same (LoadImageFolder tells why).
absl::StatusOr<ImageSet> LoadDataset(absl::string_view spec, const DatasetOptions& options);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_DATASET_REGISTRY_H_
