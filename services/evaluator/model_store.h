// The models an evaluator serves: every directory under --models_dir that
// holds a model (model_dir.h), by directory name. Listing reads only the
// descriptions; content hashes and parameter counts are computed once per
// version of the files (size and modification time) and remembered.
// Weights are loaded on first use and kept while the shared memory budget
// allows (cache_budget.h; least recently used idle models are dropped first).
//
// A model is used by one evaluation at a time: ApplyConfiguration changes
// its arithmetic, so Acquire hands out an exclusive Lease.
//
// Thread-safety: every method may be called concurrently.
#ifndef TRANSAXX_SERVICES_EVALUATOR_MODEL_STORE_H_
#define TRANSAXX_SERVICES_EVALUATOR_MODEL_STORE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/nn/model_dir.h"
#include "services/evaluator/cache_budget.h"

namespace transaxx::evaluator {

struct ModelListing {
  std::string id;
  std::filesystem::path dir;
  nn::ModelDescription description;
  std::string content_hash;
  int64_t parameter_count = 0;
  absl::Time create_time;  // modification time of the weights
  bool loaded = false;
};

class ModelStore {
 public:
  // Models are loaded onto `device`; `budget` (which must outlive the
  // store) counts their parameters. A model larger than the budget still
  // loads.
  ModelStore(std::filesystem::path root, at::Device device, CacheBudget* budget);

  // Whether `id` can name a model: a directory name of [A-Za-z0-9._-], 1..128
  // characters, not starting with '.' (hidden directories are staging
  // areas, fine_tune.h).
  static bool IsModelId(const std::string& id);

  const std::filesystem::path& root() const { return root_; }

  // Every model under the root, in id order. Directories that hold no
  // model.json are skipped; a malformed one is skipped too (and logged), so
  // one broken model does not hide the others.
  std::vector<ModelListing> List();

  // The model `id`. NOT_FOUND naming it and the ids there are;
  // INVALID_ARGUMENT for an id that is not a plain directory name; the
  // model's own errors for a malformed one.
  absl::StatusOr<ModelListing> Find(const std::string& id);

  // Exclusive use of a loaded model until the Lease is destroyed (it keeps
  // the model alive even if the store drops it meanwhile).
  class Lease {
   public:
    nn::LoadedModel& model() { return *model_; }

   private:
    friend class ModelStore;
    Lease(std::shared_ptr<nn::LoadedModel> model, std::shared_ptr<std::timed_mutex> in_use)
        : model_(std::move(model)), in_use_(std::move(in_use)), lock_(*in_use_, std::adopt_lock) {}
    std::shared_ptr<nn::LoadedModel> model_;
    std::shared_ptr<std::timed_mutex> in_use_;
    std::unique_lock<std::timed_mutex> lock_;
  };
  // Loads the model if needed and waits until no other lease holds it,
  // polling `interrupted` meanwhile (a non-OK status ends the wait with it).
  // Errors as Find, plus the weights' errors; FAILED_PRECONDITION when the
  // model's content hash is not a non-empty `expected_hash`.
  absl::StatusOr<Lease> Acquire(const std::string& id, const std::string& expected_hash,
                                const std::function<absl::Status()>& interrupted);

  // (id, content hash) of the loaded models, in id order.
  std::vector<std::pair<std::string, std::string>> Loaded();
  // Bytes of the loaded models' parameters.
  int64_t loaded_bytes();

 private:
  struct Resident {
    std::shared_ptr<nn::LoadedModel> model;
    std::shared_ptr<std::timed_mutex> in_use;
    int64_t bytes = 0;
    uint64_t last_use = 0;
  };
  struct HashEntry {
    std::string version;  // sizes and modification times of both files
    std::string content_hash;
    int64_t parameter_count = 0;
  };
  absl::StatusOr<ModelListing> Describe(const std::string& id);
  void EvictLocked(const std::string& keep);

  const std::filesystem::path root_;
  const at::Device device_;
  CacheBudget* const budget_;
  std::mutex mu_;
  std::map<std::string, HashEntry> hashes_;
  std::map<std::string, Resident> loaded_;
  uint64_t clock_ = 0;
};

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_MODEL_STORE_H_
