#include "tests/support/search_cluster.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace transaxx::testing {

absl::StatusOr<std::unique_ptr<SearchCluster>> SearchCluster::Start(const SearchClusterOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove_all(o.root, ec);
  fs::create_directories(o.root + "/models", ec);
  fs::create_directory_symlink(fs::absolute(o.model_dir), o.root + "/models/" + o.model_id, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot prepare ", o.root, ": ", ec.message()));
  std::unique_ptr<SearchCluster> cluster(new SearchCluster());
  absl::StatusOr<std::unique_ptr<ServiceProcess>> power =
      ServiceProcess::Start({o.power_model_binary, "--listen=127.0.0.1:0",
                             "--metrics_listen=", "--multipliers_dir=" + o.multipliers_dir,
                             "--state_dir=" + o.root + "/power", "--warm_builtins=false"});
  if (!power.ok()) return power.status();
  cluster->power_model_ = *std::move(power);
  std::vector<std::string> targets;
  for (int i = 0; i < o.evaluators; ++i) {
    absl::StatusOr<std::unique_ptr<ServiceProcess>> evaluator =
        ServiceProcess::Start({o.evaluator_binary, "--listen=127.0.0.1:0",
                               "--metrics_listen=", "--models_dir=" + o.root + "/models",
                               "--multipliers_dir=" + o.multipliers_dir,
                               absl::StrCat("--state_dir=", o.root, "/evaluator", i),
                               absl::StrCat("--threads=", o.evaluator_threads),
                               absl::StrCat("--max_concurrent=", o.evaluator_max_concurrent)});
    if (!evaluator.ok()) return evaluator.status();
    targets.push_back((*evaluator)->target());
    cluster->evaluators_.push_back(*std::move(evaluator));
  }
  absl::StatusOr<std::unique_ptr<ServiceProcess>> coordinator =
      ServiceProcess::Start({o.coordinator_binary, "--listen=127.0.0.1:0",
                             "--metrics_listen=127.0.0.1:0",
                             "--state_dir=" + o.root + "/coordinator",
                             "--evaluators=" + absl::StrJoin(targets, ","),
                             "--power_model=" + cluster->power_model_->target()});
  if (!coordinator.ok()) return coordinator.status();
  cluster->coordinator_ = *std::move(coordinator);
  return cluster;
}

}  // namespace transaxx::testing
