#include "services/search_coordinator/coordinator_service.h"

#include <random>
#include <set>

#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "libs/rpc/handler_status.h"
#include "libs/rpc/log.h"
#include "libs/search/pareto_archive.h"

namespace transaxx::coordinator {
namespace {

using google::protobuf::util::TimeUtil;

std::string NewJobId() {
  static std::mt19937_64 rng(std::random_device{}());
  static absl::Mutex mu;
  absl::MutexLock lock(&mu);
  return absl::StrFormat("job-%s-%06x", absl::FormatTime("%Y%m%d-%H%M%S", absl::Now(),
                                                          absl::UTCTimeZone()),
                         rng() & 0xffffff);
}

absl::Status NoJob(const std::string& job_id) {
  return absl::NotFoundError(absl::StrCat("job_id: no job '", job_id,
                                          "' (see `transaxx search list`)"));
}

// Offsets of GetResults pages, as opaque-looking tokens.
std::string PageToken(int64_t offset) { return absl::StrCat("pts", offset); }

bool ParsePageToken(const std::string& token, int64_t* offset) {
  return token.size() > 3 && token.compare(0, 3, "pts") == 0 &&
         absl::SimpleAtoi(token.substr(3), offset) && *offset >= 0;
}

}  // namespace

CoordinatorService::CoordinatorService(const CoordinatorOptions& options, JobStore* store,
                                       EvaluatorPool* pool, v1::PowerModel::Stub* power,
                                       CoordinatorMetrics* metrics)
    : options_(options),
      store_(store),
      pool_(pool),
      power_(power),
      metrics_(metrics),
      slots_(std::max(1, options.max_running_jobs)) {}

CoordinatorService::~CoordinatorService() {
  Drain();
  absl::MutexLock lock(&mu_);
  runs_.clear();  // joins the threads
}

void CoordinatorService::RefreshJobGauges() {
  for (v1::JobState s : {v1::JOB_STATE_QUEUED, v1::JOB_STATE_RUNNING, v1::JOB_STATE_SUCCEEDED,
                         v1::JOB_STATE_FAILED, v1::JOB_STATE_CANCELLED}) {
    auto jobs = store_->JobsInStates({s});
    if (jobs.ok()) {
      metrics_->jobs.WithLabels({v1::JobState_Name(s).substr(10)})
          .Set(static_cast<double>(jobs->size()));
    }
  }
}

void CoordinatorService::RefreshProgressGauges() {
  std::vector<std::shared_ptr<JobRun>> runs;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, run] : runs_) runs.push_back(run);
  }
  int64_t done = 0, budget = 0;
  for (const std::shared_ptr<JobRun>& run : runs) {
    const v1::SearchJob record = run->Record();
    if (record.state() != v1::JOB_STATE_RUNNING || record.progress().total() <= 0) continue;
    done += record.progress().done();
    budget += record.progress().total();
  }
  metrics_->running_evaluations_done.Set(static_cast<double>(done));
  metrics_->running_evaluations_budget.Set(static_cast<double>(budget));
}

void CoordinatorService::StartRun(const v1::SearchJob& record) {
  RunEnvironment env{store_, pool_, power_, metrics_, &slots_,
                     [this] { RefreshJobGauges(); }};
  auto run = std::make_shared<JobRun>(record, env);
  {
    absl::MutexLock lock(&mu_);
    // Finished runs answer from the store from now on.
    for (auto it = runs_.begin(); it != runs_.end();) {
      it = it->second->done() ? runs_.erase(it) : std::next(it);
    }
    runs_[record.job_id()] = run;
  }
  run->Start();
}

absl::Status CoordinatorService::Resume() {
  auto jobs = store_->JobsInStates({v1::JOB_STATE_QUEUED, v1::JOB_STATE_RUNNING});
  if (!jobs.ok()) return jobs.status();
  for (const StoredJob& job : *jobs) {
    v1::SearchJob record;
    if (!record.ParseFromString(job.record)) {
      rpc::LogError("unreadable job record; left as it is", {{"job", job.job_id}});
      continue;
    }
    if (record.state() == v1::JOB_STATE_RUNNING) {
      record.set_resume_count(record.resume_count() + 1);
    }
    rpc::LogInfo("resuming job", {{"job", job.job_id},
                                  {"state", v1::JobState_Name(record.state())}});
    StartRun(record);
  }
  RefreshJobGauges();
  return absl::OkStatus();
}

void CoordinatorService::Drain() {
  std::map<std::string, std::shared_ptr<JobRun>> runs;
  {
    absl::MutexLock lock(&mu_);
    draining_ = true;
    runs = runs_;
  }
  for (auto& [id, run] : runs) run->Stop();
}

std::shared_ptr<JobRun> CoordinatorService::FindRun(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = runs_.find(job_id);
  if (it == runs_.end() || it->second->done()) return nullptr;
  return it->second;
}

absl::StatusOr<v1::SearchJob> CoordinatorService::FindJob(const std::string& job_id) {
  if (std::shared_ptr<JobRun> run = FindRun(job_id)) return run->Record();
  absl::StatusOr<StoredJob> stored = store_->GetJob(job_id);
  if (!stored.ok()) {
    return stored.status().code() == absl::StatusCode::kNotFound ? NoJob(job_id)
                                                                 : stored.status();
  }
  v1::SearchJob record;
  if (!record.ParseFromString(stored->record)) {
    return absl::InternalError(absl::StrCat("job '", job_id, "': unreadable record"));
  }
  return record;
}

absl::StatusOr<v1::SubmitSearchResponse> CoordinatorService::Submit(
    const v1::SubmitSearchRequest& request) {
  if (!request.has_spec()) return absl::InvalidArgumentError("spec: required");
  if (request.request_id().size() > 128) {
    return absl::InvalidArgumentError("request_id: longer than 128 characters");
  }
  {
    absl::MutexLock lock(&mu_);
    if (draining_) return absl::UnavailableError("the coordinator is shutting down; retry");
  }
  absl::MutexLock submit_lock(&submit_mu_);
  if (!request.request_id().empty()) {
    auto existing = store_->FindByRequestId(request.request_id());
    if (!existing.ok()) return existing.status();
    if (existing->has_value()) {
      absl::StatusOr<v1::SearchJob> job = FindJob((*existing)->job_id);
      if (!job.ok()) return job.status();
      if (job->spec().SerializeAsString() != request.spec().SerializeAsString()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "request_id: '", request.request_id(), "' was used for job '", job->job_id(),
            "' with another spec"));
      }
      v1::SubmitSearchResponse response;
      response.set_job_id(job->job_id());
      *response.mutable_job() = *job;
      return response;
    }
  }
  auto queued = store_->JobsInStates({v1::JOB_STATE_QUEUED});
  if (!queued.ok()) return queued.status();
  if (static_cast<int>(queued->size()) >= options_.max_queued_jobs) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the job queue is full (", options_.max_queued_jobs, " jobs wait); retry later"));
  }
  absl::StatusOr<ResolvedSpec> resolved = ResolveSpec(request.spec(), *pool_, *power_);
  if (!resolved.ok()) return resolved.status();

  v1::SearchJob record;
  record.set_job_id(NewJobId());
  *record.mutable_spec() = request.spec();
  record.set_state(v1::JOB_STATE_QUEUED);
  *record.mutable_create_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now()));
  for (const auto& c : resolved->candidates) *record.add_candidates() = c;
  for (const auto& l : resolved->searched_layers) record.add_layers(l);
  record.mutable_counts()->set_search_space_size(resolved->space.size());
  record.mutable_progress()->set_total(request.spec().budget().max_evaluations());
  record.mutable_progress()->set_unit("evaluations");
  StoredJob stored;
  stored.job_id = record.job_id();
  stored.request_id = request.request_id();
  stored.state = record.state();
  stored.kind = request.spec().kind() == v1::JOB_KIND_SENSITIVITY ? v1::JOB_KIND_SENSITIVITY
                                                                  : v1::JOB_KIND_SEARCH;
  stored.create_time_us = absl::ToUnixMicros(absl::Now());
  stored.record = record.SerializeAsString();
  if (absl::Status s = store_->CreateJob(stored); !s.ok()) return s;
  rpc::LogInfo("job submitted", {{"job", record.job_id()},
                                 {"space", absl::StrCat(resolved->space.size())}});
  StartRun(record);
  RefreshJobGauges();
  v1::SubmitSearchResponse response;
  response.set_job_id(record.job_id());
  *response.mutable_job() = record;
  return response;
}

grpc::Status CoordinatorService::SubmitSearch(grpc::ServerContext*,
                                              const v1::SubmitSearchRequest* request,
                                              v1::SubmitSearchResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("SubmitSearch", [&]() -> absl::Status {
    absl::StatusOr<v1::SubmitSearchResponse> r = Submit(*request);
    if (!r.ok()) return r.status();
    *response = *std::move(r);
    return absl::OkStatus();
  }));
}

grpc::Status CoordinatorService::GetSearch(grpc::ServerContext*,
                                           const v1::GetSearchRequest* request,
                                           v1::GetSearchResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("GetSearch", [&]() -> absl::Status {
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id: required");
    absl::StatusOr<v1::SearchJob> job = FindJob(request->job_id());
    if (!job.ok()) return job.status();
    *response->mutable_job() = *std::move(job);
    return absl::OkStatus();
  }));
}

grpc::Status CoordinatorService::ListSearches(grpc::ServerContext*,
                                              const v1::ListSearchesRequest* request,
                                              v1::ListSearchesResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("ListSearches", [&]() -> absl::Status {
    if (request->page_size() < 0 || request->page_size() > 1000) {
      return absl::InvalidArgumentError("page_size: must be in 0 .. 1000");
    }
    std::vector<int> states;
    for (int s : request->states()) {
      if (!v1::JobState_IsValid(s) || s == v1::JOB_STATE_UNSPECIFIED) {
        return absl::InvalidArgumentError(absl::StrCat("states: unknown state ", s));
      }
      states.push_back(s);
    }
    if (!v1::JobKind_IsValid(request->kind())) {
      return absl::InvalidArgumentError("kind: unknown kind");
    }
    absl::StatusOr<JobPage> page =
        store_->ListJobs(states, request->kind(),
                         request->page_size() == 0 ? 50 : request->page_size(),
                         request->page_token());
    if (!page.ok()) {
      return page.status().code() == absl::StatusCode::kInvalidArgument
                 ? absl::InvalidArgumentError(absl::StrCat("page_token: ", page.status().message()))
                 : page.status();
    }
    for (const StoredJob& stored : page->jobs) {
      std::shared_ptr<JobRun> run = FindRun(stored.job_id);
      if (run != nullptr) {
        *response->add_jobs() = run->Record();
      } else if (!response->add_jobs()->ParseFromString(stored.record)) {
        return absl::InternalError(absl::StrCat("job '", stored.job_id, "': unreadable record"));
      }
    }
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  }));
}

grpc::Status CoordinatorService::CancelSearch(grpc::ServerContext*,
                                              const v1::CancelSearchRequest* request,
                                              v1::CancelSearchResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("CancelSearch", [&]() -> absl::Status {
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id: required");
    if (std::shared_ptr<JobRun> run = FindRun(request->job_id())) {
      v1::SearchJob job = run->Cancel();
      if (job.state() != v1::JOB_STATE_CANCELLED) {
        return absl::FailedPreconditionError(absl::StrCat(
            "job '", job.job_id(), "' already ", v1::JobState_Name(job.state()).substr(10)));
      }
      *response->mutable_job() = job;
      return absl::OkStatus();
    }
    absl::StatusOr<v1::SearchJob> job = FindJob(request->job_id());
    if (!job.ok()) return job.status();
    if (job->state() == v1::JOB_STATE_SUCCEEDED || job->state() == v1::JOB_STATE_FAILED) {
      return absl::FailedPreconditionError(absl::StrCat(
          "job '", job->job_id(), "' already ", v1::JobState_Name(job->state()).substr(10),
          "; only queued or running jobs can be cancelled"));
    }
    *response->mutable_job() = *std::move(job);
    return absl::OkStatus();
  }));
}

grpc::Status CoordinatorService::WatchSearch(grpc::ServerContext* context,
                                             const v1::WatchSearchRequest* request,
                                             grpc::ServerWriter<v1::SearchEvent>* writer) {
  return rpc::ToGrpc(rpc::Guarded("WatchSearch", [&]() -> absl::Status {
    if (request->job_id().empty()) return absl::InvalidArgumentError("job_id: required");
    std::shared_ptr<JobRun> run = FindRun(request->job_id());
    if (run == nullptr) {
      // Not running here: a snapshot of the stored job, then the end.
      absl::StatusOr<v1::SearchJob> job = FindJob(request->job_id());
      if (!job.ok()) return job.status();
      v1::SearchEvent state;
      *state.mutable_time() = TimeUtil::GetCurrentTime();
      state.mutable_state_change()->set_state(job->state());
      state.mutable_state_change()->set_message(job->error_message());
      writer->Write(state);
      v1::SearchEvent progress;
      *progress.mutable_time() = TimeUtil::GetCurrentTime();
      *progress.mutable_progress()->mutable_progress() = job->progress();
      *progress.mutable_progress()->mutable_counts() = job->counts();
      if (job->has_best_within_threshold()) {
        progress.mutable_progress()->set_best_feasible_power_saving(
            1 - job->best_within_threshold().power().relative_power());
      }
      writer->Write(progress);
      v1::GetResultsRequest results_request;
      results_request.set_job_id(job->job_id());
      absl::StatusOr<v1::GetResultsResponse> results = Results(results_request);
      if (!results.ok()) return results.status();
      for (const v1::SearchPoint& p : results->pareto_front()) {
        v1::SearchEvent update;
        *update.mutable_time() = TimeUtil::GetCurrentTime();
        *update.mutable_pareto_update()->mutable_point() = p;
        writer->Write(update);
      }
      return absl::OkStatus();
    }
    std::shared_ptr<Watcher> watcher = run->Watch(request->include_logs());
    for (;;) {
      std::vector<v1::SearchEvent> events = run->NextEvents(watcher, absl::Milliseconds(500));
      for (const v1::SearchEvent& e : events) {
        if (!writer->Write(e)) {
          run->Unwatch(watcher);
          return absl::CancelledError("the watcher went away");
        }
      }
      if (events.empty() && watcher->closed) return absl::OkStatus();
      if (context->IsCancelled()) {
        run->Unwatch(watcher);
        return absl::CancelledError("watch cancelled");
      }
      bool draining;
      {
        absl::MutexLock lock(&mu_);
        draining = draining_;
      }
      if (draining) {
        run->Unwatch(watcher);
        return absl::UnavailableError("the coordinator is shutting down; watch again");
      }
    }
  }));
}

absl::StatusOr<v1::GetResultsResponse> CoordinatorService::Results(
    const v1::GetResultsRequest& request) {
  if (request.job_id().empty()) return absl::InvalidArgumentError("job_id: required");
  if (request.page_size() < 0 || request.page_size() > 10000) {
    return absl::InvalidArgumentError("page_size: must be in 0 .. 10000");
  }
  int64_t offset = 0;
  if (!request.page_token().empty() && !ParsePageToken(request.page_token(), &offset)) {
    return absl::InvalidArgumentError("page_token: not a token this server returned");
  }
  absl::StatusOr<v1::SearchJob> job = FindJob(request.job_id());
  if (!job.ok()) return job.status();
  absl::StatusOr<StoredJob> stored = store_->GetJob(request.job_id());
  if (!stored.ok()) return stored.status();
  v1::GetResultsResponse response;
  response.set_job_id(job->job_id());
  response.set_state(job->state());
  const v1::Objective& o = job->spec().objective();
  const double threshold = o.has_max_accuracy_drop_pp() ? o.max_accuracy_drop_pp() : 1.0;
  response.set_max_accuracy_drop_pp(threshold);
  if (!stored->baseline.empty()) response.mutable_baseline()->ParseFromString(stored->baseline);
  if (!stored->sensitivity.empty()) {
    response.mutable_sensitivity()->ParseFromString(stored->sensitivity);
  }
  // The front over the baseline and every search point, recomputed from the
  // store so it is right whatever the job's state.
  std::vector<v1::SearchPoint> candidates;
  auto load = [&](const char* phase) -> absl::Status {
    auto rows = store_->Evaluations(request.job_id(), phase);
    if (!rows.ok()) return rows.status();
    for (const StoredEvaluation& row : *rows) {
      v1::SearchPoint p;
      if (!p.ParseFromString(row.point)) continue;
      p.set_evaluation_index(row.evaluation_index);
      candidates.push_back(std::move(p));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = load("baseline"); !s.ok()) return s;
  const size_t baseline_points = candidates.size();
  if (absl::Status s = load("search"); !s.ok()) return s;
  if (baseline_points > 0 && response.baseline().kind() == v1::BASELINE_FP32) {
    candidates[0].set_accuracy_drop_pp(100.0 * (response.baseline().accuracy().top1() -
                                                candidates[0].accuracy().top1()));
  }
  search::ParetoArchive archive;
  for (const v1::SearchPoint& p : candidates) {
    archive.Insert({p.config_hash(), p.accuracy().top1(), p.power().relative_power()});
  }
  std::map<std::string, const v1::SearchPoint*> by_hash;
  for (const v1::SearchPoint& p : candidates) by_hash.emplace(p.config_hash(), &p);
  const v1::SearchPoint* best = nullptr;
  for (const search::ParetoPoint& fp : archive.front()) {
    v1::SearchPoint* p = response.add_pareto_front();
    *p = *by_hash[fp.id];
    p->set_on_front(true);
    p->set_feasible(p->has_validation_accuracy_drop_pp()
                        ? p->validation_accuracy_drop_pp() <= threshold
                        : p->accuracy_drop_pp() <= threshold);
    if (p->feasible() && (best == nullptr ||
                          p->power().relative_power() < best->power().relative_power())) {
      best = p;
    }
  }
  if (best != nullptr) *response.mutable_best_within_threshold() = *best;
  const int64_t search_points = static_cast<int64_t>(candidates.size() - baseline_points);
  response.set_total_points(search_points);
  if (request.include_all_points()) {
    const int64_t page = request.page_size() == 0 ? 1000 : request.page_size();
    for (int64_t i = offset; i < search_points && i < offset + page; ++i) {
      v1::SearchPoint* p = response.add_points();
      *p = candidates[baseline_points + i];
      p->set_on_front(archive.Contains(p->config_hash()));
    }
    if (offset + page < search_points) response.set_next_page_token(PageToken(offset + page));
  }
  return response;
}

grpc::Status CoordinatorService::GetResults(grpc::ServerContext*,
                                            const v1::GetResultsRequest* request,
                                            v1::GetResultsResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("GetResults", [&]() -> absl::Status {
    absl::StatusOr<v1::GetResultsResponse> r = Results(*request);
    if (!r.ok()) return r.status();
    *response = *std::move(r);
    return absl::OkStatus();
  }));
}

}  // namespace transaxx::coordinator
