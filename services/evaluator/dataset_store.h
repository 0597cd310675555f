// The datasets an evaluator serves: those of the dataset registry
// (libs/data/dataset_registry.h) under --datasets_dir and the built-in root.
// Splits are loaded on first use and kept while the shared memory budget
// allows (cache_budget.h; least recently used splits nobody holds are
// dropped first); content hashes (libs/data/dataset_hash.h) are computed
// once per version of the files.
//
// Thread-safety: every method may be called concurrently; returned image
// sets are immutable and shared.
#ifndef TRANSAXX_SERVICES_EVALUATOR_DATASET_STORE_H_
#define TRANSAXX_SERVICES_EVALUATOR_DATASET_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/data/dataset_registry.h"
#include "libs/data/image_set.h"
#include "services/evaluator/cache_budget.h"

namespace transaxx::evaluator {

struct DatasetListing {
  data::DatasetInfo info;
  std::string content_hash;
  std::vector<std::pair<std::string, int64_t>> split_sizes;  // in split order
  int32_t num_classes = 0;
  std::vector<int64_t> image_shape;  // [channels, height, width]
  bool loaded = false;
};

struct LoadedSplitInfo {
  std::string dataset, content_hash, split;
  int64_t bytes = 0;
};

class DatasetStore {
 public:
  // `options.roots` are searched before the built-in root; `options.cache_dir`
  // holds image-folder shards. `budget` (which must outlive the store)
  // counts the splits' pixels.
  DatasetStore(data::DatasetOptions options, CacheBudget* budget);

  // Every dataset, in id order. One that cannot be read is logged and left out.
  std::vector<DatasetListing> List();
  // The dataset `id` without its split sizes, num_classes and image shape
  // (which need the images): its format, splits and content hash. Errors of
  // data::FindDataset, and of its files.
  absl::StatusOr<DatasetListing> Find(const std::string& id);
  // The images of a split, transformed for a model taking crop_size images
  // (image folders only; other formats are stored at their own size).
  // NOT_FOUND naming the splits there are for an unknown split.
  absl::StatusOr<std::shared_ptr<const data::ImageSet>> Split(const std::string& id,
                                                              const std::string& split,
                                                              int64_t crop_size);

  std::vector<LoadedSplitInfo> Loaded();
  int64_t loaded_bytes();

 private:
  struct HashEntry {
    std::string version;
    std::string hash;
  };
  // `with_sizes`: also split sizes, classes and image shape (loading the
  // splits of IDX and CIFAR datasets).
  absl::StatusOr<DatasetListing> Describe(const data::DatasetInfo& info, bool with_sizes);

  struct Resident {
    std::shared_ptr<const data::ImageSet> images;
    uint64_t last_use = 0;
  };
  using Key = std::tuple<std::string, std::string, int64_t>;  // dataset, split, crop size
  void EvictLocked(const Key& keep);

  const data::DatasetOptions options_;
  CacheBudget* const budget_;
  std::mutex mu_;
  std::map<std::string, HashEntry> hashes_;
  std::map<Key, Resident> splits_;
  uint64_t clock_ = 0;
};

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_DATASET_STORE_H_
