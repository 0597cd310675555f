#include "services/evaluator/dataset_store.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/data/dataset_hash.h"
#include "libs/data/image_folder.h"
#include "libs/rpc/log.h"

namespace transaxx::evaluator {
namespace {

namespace fs = std::filesystem;

// Sizes and modification times of everything in the folder tree: a change
// of any file changes it, without reading the files.
std::string FolderVersion(const std::string& directory) {
  std::string version;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(directory, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::error_code e;
    if (!it->is_regular_file(e)) continue;
    absl::StrAppend(&version, it->path().string(), ":", it->file_size(e), ":",
                    it->last_write_time(e).time_since_epoch().count(), ";");
  }
  return version;
}

// The default crop of image folders in listings (timm's 224).
constexpr int64_t kListingCrop = 224;

}  // namespace

DatasetStore::DatasetStore(data::DatasetOptions options, CacheBudget* budget)
    : options_(std::move(options)), budget_(budget) {}

void DatasetStore::EvictLocked(const Key& keep) {
  while (budget_->over()) {
    auto victim = splits_.end();
    for (auto it = splits_.begin(); it != splits_.end(); ++it) {
      // Held by a caller (use_count > 1): in use, not a candidate.
      if (it->first == keep || it->second.images.use_count() > 1) continue;
      if (victim == splits_.end() || it->second.last_use < victim->second.last_use) victim = it;
    }
    if (victim == splits_.end()) return;
    budget_->Add(-static_cast<int64_t>(victim->second.images->pixels.size()));
    splits_.erase(victim);
  }
}

absl::StatusOr<DatasetListing> DatasetStore::Describe(const data::DatasetInfo& info,
                                                      bool with_sizes) {
  DatasetListing listing;
  listing.info = info;
  const std::string version = FolderVersion(info.directory);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = hashes_.find(info.name);
    if (it != hashes_.end() && it->second.version == version) listing.content_hash = it->second.hash;
  }
  if (listing.content_hash.empty()) {
    absl::StatusOr<std::string> hash = data::DatasetContentHash(info);
    if (!hash.ok()) return hash.status();
    listing.content_hash = *hash;
    std::lock_guard<std::mutex> lock(mu_);
    hashes_[info.name] = {version, *hash};
  }
  for (const std::string& split : with_sizes ? info.splits : std::vector<std::string>{}) {
    if (info.format == data::DatasetFormat::kImageFolder) {
      absl::StatusOr<data::ImageFolderListing> files =
          data::ListImageFolder((fs::path(info.directory) / split).string());
      if (!files.ok()) return files.status();
      listing.split_sizes.emplace_back(split, static_cast<int64_t>(files->files.size()));
      listing.num_classes = static_cast<int32_t>(files->class_names.size());
      listing.image_shape = {3, kListingCrop, kListingCrop};
      continue;
    }
    absl::StatusOr<std::shared_ptr<const data::ImageSet>> images = Split(info.name, split, 0);
    if (!images.ok()) return images.status();
    listing.split_sizes.emplace_back(split, (*images)->size());
    listing.num_classes = (*images)->num_classes;
    listing.image_shape = {(*images)->channels, (*images)->height, (*images)->width};
    listing.loaded = true;
  }
  return listing;
}

std::vector<DatasetListing> DatasetStore::List() {
  std::vector<DatasetListing> out;
  for (const data::DatasetInfo& info : data::ListDatasets(options_.roots)) {
    absl::StatusOr<DatasetListing> listing = Describe(info, /*with_sizes=*/true);
    if (listing.ok()) {
      out.push_back(*std::move(listing));
    } else {
      rpc::LogWarning("skipping an unreadable dataset",
                      {{"dataset", info.name}, {"error", std::string(listing.status().message())}});
    }
  }
  return out;
}

absl::StatusOr<DatasetListing> DatasetStore::Find(const std::string& id) {
  absl::StatusOr<data::DatasetInfo> info = data::FindDataset(id, options_.roots);
  if (!info.ok()) return info.status();
  return Describe(*info, /*with_sizes=*/false);
}

absl::StatusOr<std::shared_ptr<const data::ImageSet>> DatasetStore::Split(const std::string& id,
                                                                          const std::string& split,
                                                                          int64_t crop_size) {
  absl::StatusOr<data::DatasetInfo> info = data::FindDataset(id, options_.roots);
  if (!info.ok()) return info.status();
  if (std::find(info->splits.begin(), info->splits.end(), split) == info->splits.end()) {
    return absl::NotFoundError(absl::StrCat("dataset '", id, "' has no split '", split,
                                            "'; splits: ", absl::StrJoin(info->splits, ", ")));
  }
  const int64_t crop = info->format == data::DatasetFormat::kImageFolder ? crop_size : 0;
  const Key key = std::make_tuple(id, split, crop);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = splits_.find(key);
    if (it != splits_.end()) {
      it->second.last_use = ++clock_;
      return it->second.images;
    }
  }
  data::DatasetOptions options = options_;
  if (crop > 0) options.transform.crop_size = crop;
  absl::StatusOr<data::ImageSet> images = data::LoadDataset(absl::StrCat(id, ":", split), options);
  if (!images.ok()) return images.status();
  auto shared = std::make_shared<const data::ImageSet>(*std::move(images));
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = splits_.emplace(key, Resident{shared, ++clock_});
  if (added) {
    budget_->Add(static_cast<int64_t>(shared->pixels.size()));
    EvictLocked(key);
  }
  return it->second.images;
}

std::vector<LoadedSplitInfo> DatasetStore::Loaded() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<LoadedSplitInfo> out;
  for (const auto& [key, resident] : splits_) {
    auto hash = hashes_.find(std::get<0>(key));
    out.push_back({std::get<0>(key), hash == hashes_.end() ? "" : hash->second.hash,
                   std::get<1>(key), static_cast<int64_t>(resident.images->pixels.size())});
  }
  return out;
}

int64_t DatasetStore::loaded_bytes() {
  int64_t total = 0;
  for (const LoadedSplitInfo& s : Loaded()) total += s.bytes;
  return total;
}

}  // namespace transaxx::evaluator
