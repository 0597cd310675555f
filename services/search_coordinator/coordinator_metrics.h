// The coordinator's own Prometheus metrics (the scaffold adds per-method
// gRPC metrics and the evaluator pool its own).
//
// Thread-safety: the metric objects are thread-safe.
#ifndef TRANSAXX_SERVICES_SEARCH_COORDINATOR_COORDINATOR_METRICS_H_
#define TRANSAXX_SERVICES_SEARCH_COORDINATOR_COORDINATOR_METRICS_H_

#include "libs/rpc/metrics.h"

namespace transaxx::coordinator {

struct CoordinatorMetrics {
  // REQUIRES: called once per registry.
  explicit CoordinatorMetrics(rpc::MetricsRegistry& registry);
  rpc::Family<rpc::Gauge>& jobs;                  // by state name (QUEUED, RUNNING, ...)
  rpc::Counter& evaluations_dispatched;           // sent to the pool
  rpc::Counter& evaluations_completed;            // with a result, cache hits included
  rpc::Counter& evaluations_failed;               // given up after retries
  rpc::Counter& cache_hits;
  rpc::Gauge& evaluations_in_flight;
  rpc::Histogram& decision_seconds;               // one Propose or Observe of a strategy
  rpc::Gauge& best_power_saving;                  // best feasible saving of the latest update
  // Over the running jobs with an evaluation budget (per-job series would
  // label by job id; `transaxx search watch` shows one job):
  rpc::Gauge& running_evaluations_done;           // evaluations done
  rpc::Gauge& running_evaluations_budget;         // their budgets
};

}  // namespace transaxx::coordinator

#endif  // TRANSAXX_SERVICES_SEARCH_COORDINATOR_COORDINATOR_METRICS_H_
