// The evaluators a coordinator dispatches to, one channel per evaluator so
// that each is tracked on its own: its capacity (GetStatus max_concurrent),
// the evaluations in flight on it, and its health.
//
// Evaluators come from a comma-separated list of HOST:PORT or from a
// `dns:///NAME:PORT` name (a Kubernetes headless Service) re-resolved
// periodically, so scaled-up evaluators join and removed ones leave.
//
// Evaluate() waits for a free slot on a healthy evaluator (the least loaded
// one), calls it with a deadline, and on a transient failure (UNAVAILABLE,
// DEADLINE_EXCEEDED of that call, RESOURCE_EXHAUSTED, ABORTED) retries with
// exponential backoff, preferring another evaluator. An evaluator failing
// `eject_after_failures` times in a row is ejected: it gets no calls until
// its grpc.health.v1 service answers SERVING again (probed in the
// background). Other errors (bad request, unknown model, ...) are returned
// at once: retrying cannot help.
//
// Thread-safety: thread-safe.
#ifndef TRANSAXX_SERVICES_SEARCH_COORDINATOR_EVALUATOR_POOL_H_
#define TRANSAXX_SERVICES_SEARCH_COORDINATOR_EVALUATOR_POOL_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/rpc/metrics.h"
#include "libs/rpc/security.h"
#include "services/search_coordinator/call_canceller.h"
#include "transaxx/v1/evaluator.grpc.pb.h"

namespace transaxx::coordinator {

struct EvaluatorPoolOptions {
  // "HOST:PORT[,HOST:PORT...]" or "dns:///NAME:PORT".
  std::string target;
  rpc::SecurityOptions security;
  // Deadline of one Evaluate call (one attempt).
  absl::Duration evaluate_deadline = absl::Minutes(30);
  // Deadline of the small calls (describe, list, status, health).
  absl::Duration small_call_deadline = absl::Seconds(20);
  // Attempts of one evaluation before it is given up, >= 1.
  int max_attempts = 5;
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // Consecutive transient failures that eject an evaluator, >= 1.
  int eject_after_failures = 2;
  // How often ejected evaluators are probed and DNS names re-resolved.
  absl::Duration probe_interval = absl::Seconds(1);
  absl::Duration resolve_interval = absl::Seconds(30);
};

// Pool metrics (the coordinator registers them once).
struct EvaluatorPoolMetrics {
  explicit EvaluatorPoolMetrics(rpc::MetricsRegistry& registry);
  rpc::Family<rpc::Counter>& attempts;      // by outcome code
  rpc::Counter& retries;
  rpc::Counter& ejections;
  rpc::Gauge& evaluators_healthy;
  rpc::Gauge& evaluators_total;
  rpc::Gauge& capacity;
  rpc::Family<rpc::Gauge>& in_flight;       // by evaluator ordinal ("0", "1", ...)
  rpc::Histogram& evaluate_seconds;         // one successful attempt
};

// What happened to one evaluation besides its result.
struct AttemptReport {
  int attempts = 0;
  int failed_attempts = 0;  // transient failures (each retried or given up)
  int retries = 0;          // attempts after the first
  std::string evaluator;    // address of the evaluator that answered
};

// One evaluator as the pool sees it.
struct EvaluatorState {
  std::string address;
  int capacity = 1;
  int in_flight = 0;
  bool healthy = true;
  int consecutive_failures = 0;
};

class EvaluatorPool {
 public:
  // INVALID_ARGUMENT for a malformed target or security options; NOT_FOUND
  // for a host that does not resolve. Connecting is lazy.
  static absl::StatusOr<std::unique_ptr<EvaluatorPool>> Create(
      const EvaluatorPoolOptions& options, EvaluatorPoolMetrics* metrics);
  ~EvaluatorPool();

  // Evaluates on some evaluator as described above. CANCELLED when
  // `canceller` is cancelled (while waiting or in flight); the last transient
  // error after max_attempts; a non-transient error at once.
  absl::StatusOr<v1::EvaluateResponse> Evaluate(const v1::EvaluateRequest& request,
                                                CallCanceller* canceller, AttemptReport* report);

  // Small calls on one healthy evaluator, retried like Evaluate.
  absl::StatusOr<v1::DescribeModelResponse> DescribeModel(const v1::DescribeModelRequest& request);
  absl::StatusOr<v1::ListDatasetsResponse> ListDatasets();
  absl::StatusOr<v1::ListEvaluatorMultipliersResponse> ListMultipliers(
      const v1::ListEvaluatorMultipliersRequest& request);

  // Sum of the healthy evaluators' capacities (at least 1).
  int TotalCapacity() const;
  std::vector<EvaluatorState> Snapshot() const;

 private:
  struct Member;
  using SmallCall = std::function<grpc::Status(v1::Evaluator::Stub&, grpc::ClientContext*)>;

  explicit EvaluatorPool(EvaluatorPoolOptions options, EvaluatorPoolMetrics* metrics);
  absl::Status Resolve();
  void ProbeLoop();
  void Probe(Member* member);
  // Picks a member with a free slot (not `avoid` when another has one) and
  // takes the slot; waits until one is free or `canceller` is cancelled.
  Member* Acquire(const Member* avoid, CallCanceller* canceller);
  void Release(Member* member, bool transient_failure, bool success);
  absl::Status CallWithRetries(const SmallCall& call);
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const EvaluatorPoolOptions options_;
  EvaluatorPoolMetrics* const metrics_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Member>> members_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread prober_;
};

// Whether a failed evaluation attempt is worth retrying elsewhere.
bool IsTransient(const absl::Status& status);

}  // namespace transaxx::coordinator

#endif  // TRANSAXX_SERVICES_SEARCH_COORDINATOR_EVALUATOR_POOL_H_
