#include "libs/approx/cuda/gpu_multiplier_cache.h"

#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace transaxx::approx {

absl::StatusOr<std::shared_ptr<const GpuMultiplier>> CachedGpuMultiplier(
    const Multiplier& multiplier, int device) {
  using Key = std::pair<std::string, int>;
  static std::mutex mutex;
  // Never destroyed: see the header.
  static auto* cache = new std::map<Key, std::shared_ptr<const GpuMultiplier>>();
  const Key key(multiplier.cache_key(), device);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache->find(key);
    if (it != cache->end()) return it->second;
  }
  // Created outside the lock: GEMMs of other multipliers need not wait for
  // the analysis and the upload.
  absl::StatusOr<std::unique_ptr<GpuMultiplier>> created =
      GpuMultiplier::Create(multiplier, device);
  if (!created.ok()) return created.status();
  std::lock_guard<std::mutex> lock(mutex);
  auto [it, inserted] = cache->try_emplace(key, *std::move(created));
  return it->second;
}

}  // namespace transaxx::approx
