#include "services/evaluator/model_store.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/nn/safetensors.h"
#include "libs/rpc/log.h"

namespace transaxx::evaluator {
namespace {

namespace fs = std::filesystem;

// Size and modification time of a file, "" when it cannot be read.
std::string FileVersion(const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error) return "";
  const auto time = fs::last_write_time(path, error);
  if (error) return "";
  return absl::StrCat(size, "@", time.time_since_epoch().count());
}

absl::Time ModificationTime(const fs::path& path) {
  std::error_code error;
  const auto time = fs::last_write_time(path, error);
  if (error) return absl::UnixEpoch();
  return absl::FromChrono(std::chrono::file_clock::to_sys(time));
}

}  // namespace

bool ModelStore::IsModelId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

ModelStore::ModelStore(fs::path root, at::Device device, CacheBudget* budget)
    : root_(std::move(root)), device_(device), budget_(budget) {}

absl::StatusOr<ModelListing> ModelStore::Describe(const std::string& id) {
  const fs::path dir = root_ / id;
  absl::StatusOr<nn::ModelDescription> description = nn::ReadModelDescription(dir);
  if (!description.ok()) return description.status();
  const std::string version = absl::StrCat(FileVersion(dir / nn::kModelJson), "|",
                                           FileVersion(dir / nn::kModelWeights));
  ModelListing listing;
  listing.id = id;
  listing.dir = dir;
  listing.description = *std::move(description);
  listing.create_time = ModificationTime(dir / nn::kModelWeights);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = hashes_.find(id);
    if (it != hashes_.end() && it->second.version == version) {
      listing.content_hash = it->second.content_hash;
      listing.parameter_count = it->second.parameter_count;
      listing.loaded = loaded_.count(id) > 0;
      return listing;
    }
  }
  // Hashing and counting read the files: done outside the lock.
  absl::StatusOr<std::string> hash = nn::ModelContentHash(dir);
  if (!hash.ok()) return hash.status();
  absl::StatusOr<nn::Safetensors> weights = nn::ReadSafetensors(dir / nn::kModelWeights);
  if (!weights.ok()) return weights.status();
  HashEntry entry{version, *hash, 0};
  for (const auto& [name, tensor] : weights->tensors) entry.parameter_count += tensor.num_elements();
  std::lock_guard<std::mutex> lock(mu_);
  hashes_[id] = entry;
  listing.content_hash = entry.content_hash;
  listing.parameter_count = entry.parameter_count;
  listing.loaded = loaded_.count(id) > 0;
  return listing;
}

std::vector<ModelListing> ModelStore::List() {
  std::vector<std::string> ids;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_, error)) {
    const std::string id = entry.path().filename().string();
    if (entry.is_directory() && IsModelId(id) && fs::exists(entry.path() / nn::kModelJson)) {
      ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  std::vector<ModelListing> out;
  for (const std::string& id : ids) {
    absl::StatusOr<ModelListing> listing = Describe(id);
    if (listing.ok()) {
      out.push_back(*std::move(listing));
    } else {
      rpc::LogWarning("skipping a malformed model",
                      {{"model", id}, {"error", std::string(listing.status().message())}});
    }
  }
  return out;
}

absl::StatusOr<ModelListing> ModelStore::Find(const std::string& id) {
  if (!IsModelId(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model id '", id, "' is not a directory name ([A-Za-z0-9._-], 1..128 characters)"));
  }
  if (!fs::exists(root_ / id / nn::kModelJson)) {
    std::vector<std::string> ids;
    for (const ModelListing& m : List()) ids.push_back(m.id);
    return absl::NotFoundError(absl::StrCat("no model '", id, "' in ", root_.string(),
                                            "; models: ", ids.empty() ? "none" : absl::StrJoin(ids, ", ")));
  }
  return Describe(id);
}

absl::StatusOr<ModelStore::Lease> ModelStore::Acquire(
    const std::string& id, const std::string& expected_hash,
    const std::function<absl::Status()>& interrupted) {
  absl::StatusOr<ModelListing> listing = Find(id);
  if (!listing.ok()) return listing.status();
  if (!expected_hash.empty() && expected_hash != listing->content_hash) {
    return absl::FailedPreconditionError(
        absl::StrCat("model '", id, "' has content hash ", listing->content_hash, ", not ",
                     expected_hash));
  }
  std::shared_ptr<nn::LoadedModel> model;
  std::shared_ptr<std::timed_mutex> in_use;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = loaded_.find(id);
    if (it != loaded_.end() && it->second.model->content_hash == listing->content_hash) {
      it->second.last_use = ++clock_;
      model = it->second.model;
      in_use = it->second.in_use;
    }
  }
  if (model == nullptr) {
    absl::StatusOr<nn::LoadedModel> fresh = nn::LoadModelDir(listing->dir);
    if (!fresh.ok()) return fresh.status();
    fresh->module->to(device_);
    int64_t bytes = 0;
    for (const auto& p : fresh->module->parameters()) bytes += p.numel() * p.element_size();
    std::lock_guard<std::mutex> lock(mu_);
    Resident& slot = loaded_[id];  // a newer version replaces an older one
    budget_->Add(bytes - slot.bytes);
    slot.model = std::make_shared<nn::LoadedModel>(*std::move(fresh));
    slot.in_use = std::make_shared<std::timed_mutex>();
    slot.bytes = bytes;
    slot.last_use = ++clock_;
    model = slot.model;
    in_use = slot.in_use;
    EvictLocked(id);
  }
  while (!in_use->try_lock_for(std::chrono::milliseconds(50))) {
    if (absl::Status s = interrupted(); !s.ok()) return s;
  }
  return Lease(std::move(model), std::move(in_use));
}

void ModelStore::EvictLocked(const std::string& keep) {
  while (budget_->over()) {
    auto victim = loaded_.end();
    for (auto it = loaded_.begin(); it != loaded_.end(); ++it) {
      if (it->first == keep || !it->second.in_use->try_lock()) continue;
      it->second.in_use->unlock();
      if (victim == loaded_.end() || it->second.last_use < victim->second.last_use) victim = it;
    }
    if (victim == loaded_.end()) return;
    budget_->Add(-victim->second.bytes);
    loaded_.erase(victim);
  }
}

std::vector<std::pair<std::string, std::string>> ModelStore::Loaded() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [id, slot] : loaded_) out.emplace_back(id, slot.model->content_hash);
  return out;
}

int64_t ModelStore::loaded_bytes() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t total = 0;
  for (const auto& [id, slot] : loaded_) total += slot.bytes;
  return total;
}

}  // namespace transaxx::evaluator
