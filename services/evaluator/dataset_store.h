// The datasets an evaluator serves: those of the dataset registry
// (libs/data/dataset_registry.h) under --datasets_dir and the built-in root.
// Splits are loaded on first use and kept; content hashes
// (libs/data/dataset_hash.h) are computed once per version of the files.
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
  // holds image-folder shards.
  explicit DatasetStore(data::DatasetOptions options);

  // Every dataset, in id order. One that cannot be read is logged and left out.
  std::vector<DatasetListing> List();
  // The dataset `id` (errors of data::FindDataset, and of its files).
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
  absl::StatusOr<DatasetListing> Describe(const data::DatasetInfo& info);

  const data::DatasetOptions options_;
  std::mutex mu_;
  std::map<std::string, HashEntry> hashes_;
  // By (dataset, split, crop size).
  std::map<std::tuple<std::string, std::string, int64_t>, std::shared_ptr<const data::ImageSet>>
      splits_;
};

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_DATASET_STORE_H_
