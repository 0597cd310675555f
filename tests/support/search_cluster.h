// A whole transaxx cluster on loopback for tests: transaxx-power-model with
// the EvoApproxLib tables, N transaxx-evaluator processes serving one model
// (a symlink to a model directory) with Fashion-MNIST from the system's
// datasets, and transaxx-coordinator with a SQLite store, all under one
// scratch folder. Stopped (SIGTERM) in reverse order when destroyed.
//
// Thread-safety: one thread per SearchCluster.
#ifndef TRANSAXX_TESTS_SUPPORT_SEARCH_CLUSTER_H_
#define TRANSAXX_TESTS_SUPPORT_SEARCH_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/service_process.h"

namespace transaxx::testing {

struct SearchClusterOptions {
  // Paths of the service binaries.
  std::string power_model_binary, evaluator_binary, coordinator_binary;
  // EvoApproxLib-style tables (shared/data/evoapprox) for every service.
  std::string multipliers_dir;
  // A model directory, served as `model_id`.
  std::string model_dir;
  std::string model_id = "fashion-vit";
  // Scratch folder (emptied first): models/, state of every service.
  std::string root;
  int evaluators = 1;
  // Per evaluator.
  int evaluator_threads = 1;
  int evaluator_max_concurrent = 1;
};

class SearchCluster {
 public:
  // Errors: a service that does not start, with its output.
  static absl::StatusOr<std::unique_ptr<SearchCluster>> Start(const SearchClusterOptions& options);

  ServiceProcess& power_model() { return *power_model_; }
  ServiceProcess& evaluator(int i) { return *evaluators_[i]; }
  ServiceProcess& coordinator() { return *coordinator_; }

 private:
  SearchCluster() = default;
  // Members are destroyed in reverse: the coordinator first.
  std::unique_ptr<ServiceProcess> power_model_;
  std::vector<std::unique_ptr<ServiceProcess>> evaluators_;
  std::unique_ptr<ServiceProcess> coordinator_;
};

}  // namespace transaxx::testing

#endif  // TRANSAXX_TESTS_SUPPORT_SEARCH_CLUSTER_H_
