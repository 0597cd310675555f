// transaxx.v1.SearchCoordinator over gRPC: the glue between the proto
// contract, the job store and the job runs. Every handler validates its
// request first (INVALID_ARGUMENT naming the field, NOT_FOUND for unknown
// jobs), changes nothing on bad input and lets no exception escape.
//
// Jobs found QUEUED or RUNNING in the store at start-up are resumed by
// Resume(). Drain() (on SIGTERM) stops every run without changing its
// stored state, and ends WatchSearch streams with UNAVAILABLE.
//
// Thread-safety: handlers run concurrently; the run table is behind a mutex.
#ifndef TRANSAXX_SERVICES_SEARCH_COORDINATOR_COORDINATOR_SERVICE_H_
#define TRANSAXX_SERVICES_SEARCH_COORDINATOR_COORDINATOR_SERVICE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/search_coordinator/coordinator_metrics.h"
#include "services/search_coordinator/evaluator_pool.h"
#include "services/search_coordinator/job_run.h"
#include "services/search_coordinator/job_store.h"
#include "services/search_coordinator/run_slots.h"
#include "transaxx/v1/power_model.grpc.pb.h"
#include "transaxx/v1/search.grpc.pb.h"

namespace transaxx::coordinator {

struct CoordinatorOptions {
  // Jobs running at once, >= 1; the others wait QUEUED, first come first served.
  int max_running_jobs = 2;
  // Jobs that may wait; beyond that SubmitSearch is RESOURCE_EXHAUSTED.
  int max_queued_jobs = 100;
};

class CoordinatorService final : public v1::SearchCoordinator::Service {
 public:
  // Every pointer must outlive the service.
  CoordinatorService(const CoordinatorOptions& options, JobStore* store, EvaluatorPool* pool,
                     v1::PowerModel::Stub* power, CoordinatorMetrics* metrics);
  ~CoordinatorService() override;

  // Restarts the store's QUEUED and RUNNING jobs.
  absl::Status Resume();
  // Sets the running-progress gauges (coordinator_metrics.h) from the live
  // runs; the metrics endpoint calls it before each scrape.
  void RefreshProgressGauges();
  void Drain();

  grpc::Status SubmitSearch(grpc::ServerContext* context, const v1::SubmitSearchRequest* request,
                            v1::SubmitSearchResponse* response) override;
  grpc::Status GetSearch(grpc::ServerContext* context, const v1::GetSearchRequest* request,
                         v1::GetSearchResponse* response) override;
  grpc::Status ListSearches(grpc::ServerContext* context, const v1::ListSearchesRequest* request,
                            v1::ListSearchesResponse* response) override;
  grpc::Status CancelSearch(grpc::ServerContext* context, const v1::CancelSearchRequest* request,
                            v1::CancelSearchResponse* response) override;
  grpc::Status WatchSearch(grpc::ServerContext* context, const v1::WatchSearchRequest* request,
                           grpc::ServerWriter<v1::SearchEvent>* writer) override;
  grpc::Status GetResults(grpc::ServerContext* context, const v1::GetResultsRequest* request,
                          v1::GetResultsResponse* response) override;

 private:
  absl::StatusOr<v1::SubmitSearchResponse> Submit(const v1::SubmitSearchRequest& request);
  absl::StatusOr<v1::GetResultsResponse> Results(const v1::GetResultsRequest& request);
  // The live run of a job, or null when it is not queued or running here.
  std::shared_ptr<JobRun> FindRun(const std::string& job_id);
  // The job: live when running, else as stored. NOT_FOUND when unknown.
  absl::StatusOr<v1::SearchJob> FindJob(const std::string& job_id);
  void StartRun(const v1::SearchJob& record);
  void RefreshJobGauges();

  const CoordinatorOptions options_;
  JobStore* const store_;
  EvaluatorPool* const pool_;
  v1::PowerModel::Stub* const power_;
  CoordinatorMetrics* const metrics_;
  RunSlots slots_;
  absl::Mutex mu_;
  // Serializes submissions, so a request_id is checked and claimed at once.
  absl::Mutex submit_mu_;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::shared_ptr<JobRun>> runs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace transaxx::coordinator

#endif  // TRANSAXX_SERVICES_SEARCH_COORDINATOR_COORDINATOR_SERVICE_H_
