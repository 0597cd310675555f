#include "libs/approx/structure_cache.h"

#include <map>
#include <mutex>
#include <string>

namespace transaxx::approx {

absl::StatusOr<std::shared_ptr<const Structure>> CachedStructure(const Multiplier& multiplier) {
  static std::mutex mutex;
  static auto* cache = new std::map<std::string, std::shared_ptr<const Structure>>();
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache->find(multiplier.cache_key());
    if (it != cache->end()) return it->second;
  }
  // Analyzed outside the lock: other multipliers' GEMMs need not wait.
  absl::StatusOr<Structure> structure = AnalyzeStructure(multiplier);
  if (!structure.ok()) return structure.status();
  std::lock_guard<std::mutex> lock(mutex);
  auto [it, inserted] = cache->try_emplace(multiplier.cache_key(),
                                           std::make_shared<const Structure>(*std::move(structure)));
  return it->second;
}

}  // namespace transaxx::approx
