#include "services/search_coordinator/coordinator_metrics.h"

namespace transaxx::coordinator {

CoordinatorMetrics::CoordinatorMetrics(rpc::MetricsRegistry& registry)
    : jobs(registry.AddGauge("transaxx_coordinator_jobs", "Jobs by state.", {"state"})),
      evaluations_dispatched(registry
                                 .AddCounter("transaxx_coordinator_evaluations_dispatched_total",
                                             "Evaluations sent to evaluators.")
                                 .WithLabels({})),
      evaluations_completed(registry
                                .AddCounter("transaxx_coordinator_evaluations_completed_total",
                                            "Evaluations with a result, cache hits included.")
                                .WithLabels({})),
      evaluations_failed(registry
                             .AddCounter("transaxx_coordinator_evaluations_failed_total",
                                         "Evaluations given up after their retries.")
                             .WithLabels({})),
      cache_hits(registry
                     .AddCounter("transaxx_coordinator_cache_hits_total",
                                 "Evaluations served from the evaluation cache.")
                     .WithLabels({})),
      evaluations_in_flight(registry
                                .AddGauge("transaxx_coordinator_evaluations_in_flight",
                                          "Evaluations in flight over all jobs.")
                                .WithLabels({})),
      decision_seconds(registry
                           .AddHistogram("transaxx_coordinator_strategy_decision_seconds",
                                         "Time of one strategy call (propose or observe).", {},
                                         {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1})
                           .WithLabels({})),
      best_power_saving(registry
                            .AddGauge("transaxx_coordinator_best_power_saving",
                                      "Best feasible power saving (fraction) of the job that "
                                      "improved it last.")
                            .WithLabels({})),
      running_evaluations_done(registry
                                   .AddGauge("transaxx_coordinator_running_evaluations_done",
                                             "Evaluations done by the running jobs that have an "
                                             "evaluation budget.")
                                   .WithLabels({})),
      running_evaluations_budget(registry
                                     .AddGauge("transaxx_coordinator_running_evaluations_budget",
                                               "Evaluation budgets of the running jobs that have "
                                               "one.")
                                     .WithLabels({})) {}

}  // namespace transaxx::coordinator
