// One search job while it is queued or running: its thread, its live state
// (the SearchJob record, the Pareto front), and the event stream watchers
// follow.
//
// The run, in phases, each evaluation persisted as it completes:
//   1. resolve the spec against the cluster (retried while it is
//      UNAVAILABLE, e.g. evaluators still starting after a restart);
//   2. baseline: the all-exact configuration (and the FP32 model for an FP32
//      baseline) on the search subset;
//   3. sensitivity analysis (JOB_KIND_SENSITIVITY, GREEDY, and MCTS with a
//      prior) on its own subset, against the all-exact accuracy there;
//   4. the search: the strategy proposes, the evaluator pool evaluates up to
//      the job's parallelism at once, the power model costs each
//      configuration, results go to the store, the Pareto archive and the
//      strategy — until the budget is spent or the strategy is done;
//   5. validation: the baseline and the front re-evaluated on the validation
//      subset.
// Every evaluation goes through the cross-job evaluation cache (keyed by
// model, subset, calibration and configuration hash).
//
// Resuming: a job found RUNNING at start-up runs again; every phase first
// replays the job's stored evaluations (the strategy rebuilds its tree or
// population from them), and a configuration the job already has is never
// evaluated nor counted again.
//
// Stop() (coordinator shutdown) ends the run without changing the job's
// state, so it resumes on the next start; Cancel() makes it CANCELLED.
//
// Thread-safety: thread-safe.
#ifndef TRANSAXX_SERVICES_SEARCH_COORDINATOR_JOB_RUN_H_
#define TRANSAXX_SERVICES_SEARCH_COORDINATOR_JOB_RUN_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/search/pareto_archive.h"
#include "libs/search/strategy.h"
#include "services/search_coordinator/call_canceller.h"
#include "services/search_coordinator/coordinator_metrics.h"
#include "services/search_coordinator/evaluator_pool.h"
#include "services/search_coordinator/job_store.h"
#include "services/search_coordinator/run_slots.h"
#include "services/search_coordinator/spec_resolver.h"
#include "transaxx/v1/power_model.grpc.pb.h"
#include "transaxx/v1/search.pb.h"

namespace transaxx::coordinator {

// What every run uses; owned by the service, outliving every run.
struct RunEnvironment {
  JobStore* store;
  EvaluatorPool* pool;
  v1::PowerModel::Stub* power;
  CoordinatorMetrics* metrics;
  RunSlots* slots;
  // Called after every state change (to refresh the jobs-by-state gauge).
  std::function<void()> on_state_change;
};

// A watcher's queue of events.
struct Watcher {
  std::deque<v1::SearchEvent> events;
  bool closed = false;  // the job reached a terminal state; nothing follows
};

class JobRun {
 public:
  // `record` is the job as stored (QUEUED or RUNNING).
  JobRun(v1::SearchJob record, RunEnvironment env);
  ~JobRun();  // Stop() and join

  // Starts the thread. Call once.
  void Start();
  // Makes the job CANCELLED (from QUEUED or RUNNING); in-flight evaluations
  // are abandoned. Returns the record after the change.
  v1::SearchJob Cancel();
  // Ends the run, leaving the stored state as it is.
  void Stop();
  // True once the thread has finished.
  bool done() const;

  v1::SearchJob Record() const;

  // Registers a watcher and fills it with the opening snapshot, atomically
  // with respect to later events.
  std::shared_ptr<Watcher> Watch(bool include_logs);
  void Unwatch(const std::shared_ptr<Watcher>& watcher);
  // Waits up to `timeout` for events of `watcher`; returns and clears them.
  std::vector<v1::SearchEvent> NextEvents(const std::shared_ptr<Watcher>& watcher,
                                          absl::Duration timeout);

 private:
  struct Completed;
  // Why a phase stopped.
  enum class PhaseEnd { kDone, kBudget, kInterrupted };

  void Run();
  absl::Status RunPhases();
  absl::StatusOr<ResolvedSpec> ResolveWithRetries();
  // Evaluates one configuration on `subset` through the cache; fills the
  // response and whether it came from the cache.
  absl::StatusOr<v1::EvaluateResponse> EvaluateCached(const v1::Configuration& config,
                                                      const v1::DatasetSubset& subset,
                                                      v1::Precision precision, bool* cached,
                                                      AttemptReport* report);
  absl::StatusOr<v1::PowerFigures> EstimatePower(const v1::Configuration& config);
  // Evaluates a single configuration outside the budget (baselines),
  // reusing the stored evaluation of `phase` when there is one.
  absl::StatusOr<v1::SearchPoint> EvaluateFixed(const std::string& phase,
                                                const search::Assignment& assignment,
                                                const v1::DatasetSubset& subset,
                                                v1::Precision precision);
  // Drives `strategy` in `phase` on `subset`, drops against `reference_top1`.
  absl::StatusOr<PhaseEnd> RunStrategy(search::Strategy& strategy, const std::string& phase,
                                   const v1::DatasetSubset& subset, double reference_top1);
  absl::Status Validate();
  absl::Status RunSensitivity(search::Sensitivity* table);

  bool ShouldStop() const;
  bool BudgetSpent() const;
  void SetState(v1::JobState state, const std::string& message);
  void Persist() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Publish(v1::SearchEvent event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishProgress(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Log(v1::LogSeverity severity, const std::string& message);
  v1::SearchProgress ProgressLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddToFront(const v1::SearchPoint& point) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RunEnvironment env_;
  CallCanceller canceller_;
  std::thread thread_;
  std::optional<ResolvedSpec> resolved_;  // set by the run thread before use
  double threshold_pp_ = 1.0;

  mutable absl::Mutex mu_;
  v1::SearchJob record_ ABSL_GUARDED_BY(mu_);
  bool cancel_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time run_start_ ABSL_GUARDED_BY(mu_);
  absl::Time last_progress_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  search::ParetoArchive archive_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::SearchPoint> front_points_ ABSL_GUARDED_BY(mu_);
  std::optional<double> best_saving_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::shared_ptr<Watcher>, bool>> watchers_ ABSL_GUARDED_BY(mu_);
};

// Rebuilds an assignment from search::AssignmentKey's text; nullopt when
// malformed.
std::optional<search::Assignment> ParseAssignmentKey(const std::string& key);

// True for SUCCEEDED, FAILED and CANCELLED.
bool IsTerminal(v1::JobState state);

}  // namespace transaxx::coordinator

#endif  // TRANSAXX_SERVICES_SEARCH_COORDINATOR_JOB_RUN_H_
