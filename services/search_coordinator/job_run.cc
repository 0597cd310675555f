#include "services/search_coordinator/job_run.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <utility>

#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "libs/approx/config_power.h"
#include "libs/approx/sha256.h"
#include "libs/rpc/log.h"
#include "libs/search/sensitivity.h"
#include "libs/search/strategies.h"

namespace transaxx::coordinator {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kBaseline[] = "baseline";
constexpr char kBaselineFp32[] = "baseline_fp32";
constexpr char kSensitivityBaseline[] = "sensitivity_baseline";
constexpr char kSensitivity[] = "sensitivity";
constexpr char kSearch[] = "search";
// The hash under which FP32 evaluations are stored: they have no configuration.
constexpr char kFp32Hash[] = "fp32";

google::protobuf::Timestamp Now() {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now()));
}

google::protobuf::Duration ToProto(absl::Duration d) {
  return TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(d));
}

std::string ConfigHashOf(const v1::Configuration& config) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& a : config.assignments()) {
    pairs.emplace_back(a.layer(), a.multiplier().content_hash());
  }
  return approx::ConfigHash(std::move(pairs));
}

search::Outcome OutcomeOf(const v1::SearchPoint& p) {
  return {p.accuracy_drop_pp(), p.power().relative_power()};
}

}  // namespace

bool IsTerminal(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

std::optional<search::Assignment> ParseAssignmentKey(const std::string& key) {
  search::Assignment a;
  for (absl::string_view part : absl::StrSplit(key, '.')) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v) || v < 0) return std::nullopt;
    a.push_back(v);
  }
  return a;
}

struct JobRun::Completed {
  int worker = 0;
  search::Assignment assignment;
  v1::Configuration configuration;
  std::string config_hash;
  absl::Status status;
  v1::EvaluateResponse response;
  v1::PowerFigures power;
  bool cached = false;
  AttemptReport report;
};

JobRun::JobRun(v1::SearchJob record, RunEnvironment env)
    : env_(std::move(env)), record_(std::move(record)) {
  const v1::Objective& o = record_.spec().objective();
  threshold_pp_ = o.has_max_accuracy_drop_pp() ? o.max_accuracy_drop_pp() : 1.0;
}

JobRun::~JobRun() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

void JobRun::Start() {
  thread_ = std::thread([this] { Run(); });
}

v1::SearchJob JobRun::Cancel() {
  {
    absl::MutexLock lock(&mu_);
    if (IsTerminal(record_.state())) return record_;
    cancel_requested_ = true;
  }
  canceller_.Cancel();
  SetState(v1::JOB_STATE_CANCELLED, "cancelled by a user");
  absl::MutexLock lock(&mu_);
  return record_;
}

void JobRun::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_requested_ = true;
  }
  canceller_.Cancel();
}

bool JobRun::done() const {
  absl::MutexLock lock(&mu_);
  return done_;
}

v1::SearchJob JobRun::Record() const {
  absl::MutexLock lock(&mu_);
  return record_;
}

bool JobRun::ShouldStop() const {
  absl::MutexLock lock(&mu_);
  return cancel_requested_ || stop_requested_;
}

void JobRun::Persist() {
  *record_.mutable_progress() = ProgressLocked().progress();
  absl::Status s = env_.store->UpdateJob(record_.job_id(), record_.state(),
                                         record_.SerializeAsString());
  if (!s.ok()) {
    rpc::LogError("cannot persist job", {{"job", record_.job_id()},
                                         {"error", std::string(s.message())}});
  }
}

void JobRun::Publish(v1::SearchEvent event) {
  *event.mutable_time() = Now();
  for (auto& [watcher, logs] : watchers_) {
    if (event.has_log() && !logs) continue;
    watcher->events.push_back(event);
  }
}

void JobRun::Log(v1::LogSeverity severity, const std::string& message) {
  rpc::Log(severity == v1::LOG_SEVERITY_ERROR     ? rpc::LogLevel::kError
           : severity == v1::LOG_SEVERITY_WARNING ? rpc::LogLevel::kWarning
                                                  : rpc::LogLevel::kInfo,
           message, {{"job", record_.job_id()}});
  absl::MutexLock lock(&mu_);
  v1::SearchEvent event;
  event.mutable_log()->set_severity(severity);
  event.mutable_log()->set_message(message);
  Publish(std::move(event));
}

void JobRun::SetState(v1::JobState state, const std::string& message) {
  {
    absl::MutexLock lock(&mu_);
    v1::JobState previous = record_.state();
    if (previous == state || IsTerminal(previous)) return;
    record_.set_state(state);
    if (state == v1::JOB_STATE_RUNNING && !record_.has_start_time()) {
      *record_.mutable_start_time() = Now();
    }
    if (IsTerminal(state)) {
      *record_.mutable_end_time() = Now();
      record_.set_error_message(state == v1::JOB_STATE_FAILED ? message : "");
      record_.mutable_counts()->set_evaluations_in_flight(0);
    }
    Persist();
    PublishProgress(true);
    v1::SearchEvent event;
    event.mutable_state_change()->set_previous(previous);
    event.mutable_state_change()->set_state(state);
    event.mutable_state_change()->set_message(message);
    Publish(std::move(event));
    if (IsTerminal(state)) {
      for (auto& [watcher, logs] : watchers_) watcher->closed = true;
      watchers_.clear();
    }
  }
  rpc::LogInfo("job state", {{"job", record_.job_id()},
                             {"state", v1::JobState_Name(state)},
                             {"message", message}});
  if (env_.on_state_change) env_.on_state_change();
}

v1::SearchProgress JobRun::ProgressLocked() const {
  v1::SearchProgress p;
  const v1::SearchCounts& c = record_.counts();
  v1::Progress* progress = p.mutable_progress();
  progress->set_done(c.evaluations_completed());
  progress->set_total(record_.spec().budget().max_evaluations());
  progress->set_unit("evaluations");
  absl::Duration elapsed = absl::ZeroDuration();
  if (record_.has_start_time()) {
    elapsed = absl::Now() - absl::FromUnixNanos(
                                TimeUtil::TimestampToNanoseconds(record_.start_time()));
  }
  *progress->mutable_elapsed() = ToProto(elapsed);
  absl::Duration eta = absl::InfiniteDuration();
  int64_t total = record_.spec().budget().max_evaluations();
  if (total > 0 && c.evaluations_completed() > 0) {
    eta = elapsed / static_cast<double>(c.evaluations_completed()) *
          static_cast<double>(std::max<int64_t>(0, total - c.evaluations_completed()));
  }
  const auto& wall = record_.spec().budget().max_wall_time();
  absl::Duration limit = absl::Seconds(wall.seconds()) + absl::Nanoseconds(wall.nanos());
  if (limit > absl::ZeroDuration()) eta = std::min(eta, std::max(absl::ZeroDuration(), limit - elapsed));
  if (eta != absl::InfiniteDuration() && !IsTerminal(record_.state())) {
    *progress->mutable_eta() = ToProto(eta);
  }
  *p.mutable_counts() = c;
  if (best_saving_.has_value()) p.set_best_feasible_power_saving(*best_saving_);
  return p;
}

void JobRun::PublishProgress(bool force) {
  absl::Time now = absl::Now();
  if (!force && now - last_progress_ < absl::Seconds(1)) return;
  last_progress_ = now;
  v1::SearchEvent event;
  *event.mutable_progress() = ProgressLocked();
  Publish(std::move(event));
}

void JobRun::AddToFront(const v1::SearchPoint& point) {
  search::ParetoArchive::InsertResult r =
      archive_.Insert({point.config_hash(), point.accuracy().top1(), point.power().relative_power()});
  if (point.feasible()) {
    double saving = 1 - point.power().relative_power();
    if (!best_saving_.has_value() || saving > *best_saving_) {
      best_saving_ = saving;
      env_.metrics->best_power_saving.Set(saving);
      *record_.mutable_best_within_threshold() = point;
    }
  }
  if (!r.on_front) return;
  for (const std::string& id : r.removed) front_points_.erase(id);
  v1::SearchPoint on_front = point;
  on_front.set_on_front(true);
  front_points_[point.config_hash()] = on_front;
  record_.mutable_counts()->set_pareto_size(static_cast<int64_t>(archive_.front().size()));
  v1::SearchEvent event;
  *event.mutable_pareto_update()->mutable_point() = on_front;
  for (const std::string& id : r.removed) event.mutable_pareto_update()->add_removed_config_hashes(id);
  Publish(std::move(event));
}

std::shared_ptr<Watcher> JobRun::Watch(bool include_logs) {
  auto watcher = std::make_shared<Watcher>();
  absl::MutexLock lock(&mu_);
  v1::SearchEvent state;
  *state.mutable_time() = Now();
  state.mutable_state_change()->set_previous(v1::JOB_STATE_UNSPECIFIED);
  state.mutable_state_change()->set_state(record_.state());
  watcher->events.push_back(state);
  v1::SearchEvent progress;
  *progress.mutable_time() = Now();
  *progress.mutable_progress() = ProgressLocked();
  watcher->events.push_back(progress);
  for (const search::ParetoPoint& p : archive_.front()) {
    v1::SearchEvent update;
    *update.mutable_time() = Now();
    *update.mutable_pareto_update()->mutable_point() = front_points_[p.id];
    watcher->events.push_back(update);
  }
  if (IsTerminal(record_.state())) {
    watcher->closed = true;
  } else {
    watchers_.emplace_back(watcher, include_logs);
  }
  return watcher;
}

void JobRun::Unwatch(const std::shared_ptr<Watcher>& watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(std::remove_if(watchers_.begin(), watchers_.end(),
                                 [&](const auto& w) { return w.first == watcher; }),
                  watchers_.end());
}

std::vector<v1::SearchEvent> JobRun::NextEvents(const std::shared_ptr<Watcher>& watcher,
                                                absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [&watcher]() { return !watcher->events.empty() || watcher->closed; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  std::vector<v1::SearchEvent> out(watcher->events.begin(), watcher->events.end());
  watcher->events.clear();
  return out;
}

void JobRun::Run() {
  int64_t ticket = env_.slots->Ticket();
  bool acquired = env_.slots->Acquire(ticket, [this] { return ShouldStop(); });
  absl::Status status = absl::OkStatus();
  if (acquired) {
    status = RunPhases();
    env_.slots->Release();
  }
  bool interrupted;
  {
    absl::MutexLock lock(&mu_);
    interrupted = cancel_requested_ || stop_requested_;
  }
  if (!interrupted) {
    if (status.ok()) {
      SetState(v1::JOB_STATE_SUCCEEDED, "");
    } else {
      SetState(v1::JOB_STATE_FAILED, std::string(status.message()));
    }
  }
  absl::MutexLock lock(&mu_);
  done_ = true;
}

absl::StatusOr<ResolvedSpec> JobRun::ResolveWithRetries() {
  absl::Duration backoff = absl::Milliseconds(500);
  for (;;) {
    absl::StatusOr<ResolvedSpec> r = ResolveSpec(record_.spec(), *env_.pool, *env_.power);
    if (r.ok() || r.status().code() != absl::StatusCode::kUnavailable) return r;
    Log(v1::LOG_SEVERITY_WARNING,
        absl::StrCat("waiting for the cluster: ", r.status().message()));
    absl::Time until = absl::Now() + backoff;
    while (absl::Now() < until) {
      if (ShouldStop()) return absl::CancelledError("stopped");
      absl::SleepFor(absl::Milliseconds(100));
    }
    backoff = std::min(backoff * 2, absl::Seconds(10));
  }
}

absl::StatusOr<v1::EvaluateResponse> JobRun::EvaluateCached(const v1::Configuration& config,
                                                            const v1::DatasetSubset& subset,
                                                            v1::Precision precision,
                                                            bool* cached, AttemptReport* report) {
  const v1::SearchSpec& spec = record_.spec();
  const std::string config_hash =
      precision == v1::PRECISION_FP32 ? std::string(kFp32Hash) : ConfigHashOf(config);
  const std::string key = approx::Sha256Hex(absl::StrCat(
      "transaxx-evaluation-v1\n", resolved_->model.content_hash(), "\n",
      subset.SerializeAsString(), "\n", resolved_->calibration.SerializeAsString(), "\n",
      spec.include_attention_matmuls() ? "attention" : "linear", "\n",
      v1::Precision_Name(precision), "\n", config_hash));
  absl::StatusOr<std::optional<std::string>> hit = env_.store->GetCached(key);
  if (hit.ok() && hit->has_value()) {
    v1::EvaluateResponse response;
    if (response.ParseFromString(**hit)) {
      *cached = true;
      return response;
    }
  }
  *cached = false;
  v1::EvaluateRequest request;
  *request.mutable_model() = resolved_->model;
  *request.mutable_subset() = subset;
  if (precision != v1::PRECISION_FP32) *request.mutable_configuration() = config;
  if (resolved_->calibration.ByteSizeLong() > 0) {
    *request.mutable_calibration() = resolved_->calibration;
  }
  request.set_include_attention_matmuls(spec.include_attention_matmuls());
  request.set_batch_size(spec.batch_size());
  request.set_precision(precision);
  env_.metrics->evaluations_dispatched.Increment();
  absl::StatusOr<v1::EvaluateResponse> response =
      env_.pool->Evaluate(request, &canceller_, report);
  if (!response.ok()) return response.status();
  if (absl::Status s = env_.store->PutCached(key, response->SerializeAsString()); !s.ok()) {
    rpc::LogWarning("cannot cache an evaluation", {{"error", std::string(s.message())}});
  }
  return response;
}

absl::StatusOr<v1::PowerFigures> JobRun::EstimatePower(const v1::Configuration& config) {
  v1::EstimatePowerRequest request;
  for (const v1::LayerMacs& l : resolved_->covered_layers) *request.add_layers() = l;
  *request.mutable_configuration() = config;
  absl::Duration backoff = absl::Milliseconds(200);
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    if (!canceller_.Register(&context)) return absl::CancelledError("cancelled");
    v1::EstimatePowerResponse response;
    grpc::Status s = env_.power->EstimatePower(&context, request, &response);
    canceller_.Unregister(&context);
    if (s.ok()) return response.power();
    absl::Status status(static_cast<absl::StatusCode>(s.error_code()),
                        absl::StrCat("power model: ", s.error_message()));
    if (!IsTransient(status) || attempt >= 8 || canceller_.cancelled()) return status;
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

absl::StatusOr<v1::SearchPoint> JobRun::EvaluateFixed(const std::string& phase,
                                                      const search::Assignment& assignment,
                                                      const v1::DatasetSubset& subset,
                                                      v1::Precision precision) {
  auto stored = env_.store->Evaluations(record_.job_id(), phase);
  if (!stored.ok()) return stored.status();
  if (!stored->empty()) {
    v1::SearchPoint point;
    if (point.ParseFromString(stored->front().point)) return point;
  }
  v1::Configuration config = ConfigurationOf(*resolved_, assignment);
  bool cached = false;
  AttemptReport report;
  absl::StatusOr<v1::EvaluateResponse> response =
      EvaluateCached(config, subset, precision, &cached, &report);
  if (!response.ok()) return response.status();
  absl::StatusOr<v1::PowerFigures> power = EstimatePower(config);
  if (!power.ok()) return power.status();
  v1::SearchPoint point;
  point.set_config_hash(precision == v1::PRECISION_FP32 ? kFp32Hash : ConfigHashOf(config));
  *point.mutable_configuration() = config;
  *point.mutable_accuracy() = response->accuracy();
  *point.mutable_power() = *power;
  point.set_feasible(true);
  *point.mutable_evaluate_time() = Now();
  point.set_cached(cached);
  StoredEvaluation row{record_.job_id(), 0, point.config_hash(), phase,
                       search::AssignmentKey(assignment), point.SerializeAsString()};
  absl::StatusOr<int64_t> index = env_.store->AddEvaluation(row);
  if (!index.ok() && index.status().code() != absl::StatusCode::kAlreadyExists) {
    return index.status();
  }
  return point;
}

bool JobRun::BudgetSpent() const {
  absl::MutexLock lock(&mu_);
  const v1::Budget& b = record_.spec().budget();
  if (b.max_evaluations() > 0 && record_.counts().evaluations_completed() >= b.max_evaluations()) {
    return true;
  }
  absl::Duration limit = absl::Seconds(b.max_wall_time().seconds()) +
                         absl::Nanoseconds(b.max_wall_time().nanos());
  return limit > absl::ZeroDuration() && record_.has_start_time() &&
         absl::Now() - absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(
                           record_.start_time())) >= limit;
}

absl::StatusOr<JobRun::PhaseEnd> JobRun::RunStrategy(search::Strategy& strategy,
                                                     const std::string& phase,
                                                     const v1::DatasetSubset& subset,
                                                     double reference_top1) {
  const bool search_phase = phase == kSearch;
  std::map<std::string, v1::SearchPoint> stored;  // config hash -> point of this phase
  {
    auto rows = env_.store->Evaluations(record_.job_id(), phase);
    if (!rows.ok()) return rows.status();
    for (const StoredEvaluation& row : *rows) {
      v1::SearchPoint p;
      if (p.ParseFromString(row.point)) stored[row.config_hash] = p;
    }
  }
  std::map<int, std::thread> workers;
  std::deque<Completed> completions;  // guarded by mu_
  int next_worker = 0;
  int in_flight = 0;
  absl::Status failure = absl::OkStatus();
  PhaseEnd end = PhaseEnd::kDone;

  auto timed = [this](auto&& fn) {
    absl::Time start = absl::Now();
    fn();
    env_.metrics->decision_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
  };
  auto parallelism = [&]() {
    int p = record_.spec().max_parallel_evaluations();
    if (p <= 0) p = env_.pool->TotalCapacity();
    int leaves = record_.spec().mcts().max_parallel_leaves();
    if (leaves > 0) p = std::min(p, leaves);
    return std::max(1, p);
  };

  for (;;) {
    if (ShouldStop()) {
      end = PhaseEnd::kInterrupted;
      break;
    }
    std::deque<Completed> batch;
    {
      absl::MutexLock lock(&mu_);
      batch.swap(completions);
    }
    for (Completed& c : batch) {
      workers[c.worker].join();
      workers.erase(c.worker);
      --in_flight;
      env_.metrics->evaluations_in_flight.Add(-1);
      if (ShouldStop()) continue;
      absl::MutexLock lock(&mu_);
      v1::SearchCounts* counts = record_.mutable_counts();
      counts->set_evaluations_in_flight(in_flight);
      counts->set_evaluations_failed(counts->evaluations_failed() + c.report.failed_attempts);
      counts->set_evaluations_retried(counts->evaluations_retried() + c.report.retries);
      if (!c.status.ok()) {
        mu_.Unlock();
        timed([&] { strategy.Abandon(c.assignment); });
        mu_.Lock();
        env_.metrics->evaluations_failed.Increment();
        if (!IsTransient(c.status) && c.status.code() != absl::StatusCode::kCancelled) {
          failure = c.status;
        } else {
          mu_.Unlock();
          Log(v1::LOG_SEVERITY_WARNING,
              absl::StrCat("evaluation given up after retries: ", c.status.message()));
          mu_.Lock();
        }
        continue;
      }
      v1::SearchPoint point;
      point.set_config_hash(c.config_hash);
      *point.mutable_configuration() = c.configuration;
      *point.mutable_accuracy() = c.response.accuracy();
      point.set_accuracy_drop_pp(100.0 * (reference_top1 - c.response.accuracy().top1()));
      *point.mutable_power() = c.power;
      point.set_feasible(point.accuracy_drop_pp() <= threshold_pp_);
      *point.mutable_evaluate_time() = Now();
      point.set_cached(c.cached);
      StoredEvaluation row{record_.job_id(), 0, c.config_hash, phase,
                           search::AssignmentKey(c.assignment), point.SerializeAsString()};
      absl::StatusOr<int64_t> index = env_.store->AddEvaluation(row);
      if (!index.ok() && index.status().code() != absl::StatusCode::kAlreadyExists) {
        failure = index.status();
        continue;
      }
      if (index.ok()) {
        point.set_evaluation_index(*index);
        counts->set_evaluations_completed(counts->evaluations_completed() + 1);
        if (c.cached) counts->set_cache_hits(counts->cache_hits() + 1);
        env_.metrics->evaluations_completed.Increment();
        if (c.cached) env_.metrics->cache_hits.Increment();
        if (search_phase) {
          if (point.feasible()) counts->set_feasible_count(counts->feasible_count() + 1);
          AddToFront(point);
        }
      }
      stored[c.config_hash] = point;
      Persist();
      PublishProgress(false);
      mu_.Unlock();
      timed([&] { strategy.Observe(c.assignment, OutcomeOf(point)); });
      mu_.Lock();
    }
    if (!failure.ok()) break;

    bool budget_spent = BudgetSpent();
    int proposed = 0;
    if (!budget_spent) {
      int want = parallelism() - in_flight;
      const int64_t max_evals = record_.spec().budget().max_evaluations();
      if (max_evals > 0) {
        absl::MutexLock lock(&mu_);
        want = static_cast<int>(std::min<int64_t>(
            want, max_evals - record_.counts().evaluations_completed() - in_flight));
      }
      if (want > 0) {
        std::vector<search::Assignment> proposals;
        timed([&] { proposals = strategy.Propose(want); });
        for (const search::Assignment& a : proposals) {
          ++proposed;
          v1::Configuration config = ConfigurationOf(*resolved_, a);
          std::string hash = ConfigHashOf(config);
          if (auto it = stored.find(hash); it != stored.end()) {
            // Already evaluated by this job (before a restart, or the same
            // table under another assignment): not evaluated nor counted again.
            timed([&] { strategy.Observe(a, OutcomeOf(it->second)); });
            continue;
          }
          int id = next_worker++;
          ++in_flight;
          env_.metrics->evaluations_in_flight.Add(1);
          workers[id] = std::thread([this, id, a, config, hash, &subset, &completions] {
            Completed c;
            c.worker = id;
            c.assignment = a;
            c.configuration = config;
            c.config_hash = hash;
            absl::StatusOr<v1::EvaluateResponse> r =
                EvaluateCached(config, subset, v1::PRECISION_INT8, &c.cached, &c.report);
            if (r.ok()) {
              c.response = *r;
              absl::StatusOr<v1::PowerFigures> p = EstimatePower(config);
              if (p.ok()) {
                c.power = *p;
              } else {
                c.status = p.status();
              }
            } else {
              c.status = r.status();
            }
            absl::MutexLock lock(&mu_);
            completions.push_back(std::move(c));
          });
        }
        absl::MutexLock lock(&mu_);
        record_.mutable_counts()->set_evaluations_in_flight(in_flight);
      }
    }
    if (in_flight == 0 && proposed == 0) {
      if (budget_spent) {
        end = PhaseEnd::kBudget;
        break;
      }
      // Nothing running and nothing new: the strategy is done (or has
      // nothing it may propose), so the phase is.
      end = PhaseEnd::kDone;
      break;
    }
    absl::MutexLock lock(&mu_);
    auto ready = [&completions]() { return !completions.empty(); };
    mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(250));
    PublishProgress(false);
  }
  // In-flight work of an interrupted or failed phase is abandoned.
  if (in_flight > 0) canceller_.Cancel();
  for (auto& [id, t] : workers) t.join();
  env_.metrics->evaluations_in_flight.Add(-in_flight);
  {
    absl::MutexLock lock(&mu_);
    record_.mutable_counts()->set_evaluations_in_flight(0);
    PublishProgress(true);
  }
  if (!failure.ok()) return failure;
  return end;
}

absl::Status JobRun::RunSensitivity(search::Sensitivity* table) {
  const v1::SearchSpec& spec = record_.spec();
  const ResolvedSpec& r = *resolved_;
  const bool same_subset =
      r.sensitivity_subset.SerializeAsString() == r.search_subset.SerializeAsString();
  absl::StatusOr<v1::SearchPoint> reference =
      EvaluateFixed(same_subset ? kBaseline : kSensitivityBaseline, r.space.Exact(),
                    r.sensitivity_subset, v1::PRECISION_INT8);
  if (!reference.ok()) return reference.status();
  std::vector<int> candidates;
  for (int c = 1; c < r.space.candidates(); ++c) {
    bool wanted = spec.sensitivity().multipliers().empty();
    for (const std::string& glob : spec.sensitivity().multipliers()) {
      if (fnmatch(glob.c_str(), r.candidates[c].id().c_str(), 0) == 0) wanted = true;
    }
    if (wanted) candidates.push_back(c);
  }
  // On the search subset the analysis' configurations are search points like
  // any other: on the front, in the results, and known to the strategy.
  const char* phase = same_subset ? kSearch : kSensitivity;
  search::SensitivityAnalysis analysis(r.space, candidates, spec.sensitivity().max_evaluations());
  auto rows = env_.store->Evaluations(record_.job_id(), phase);
  if (!rows.ok()) return rows.status();
  for (const StoredEvaluation& row : *rows) {
    v1::SearchPoint p;
    std::optional<search::Assignment> a = ParseAssignmentKey(row.assignment_key);
    if (a.has_value() && p.ParseFromString(row.point)) analysis.Observe(*a, OutcomeOf(p));
  }
  absl::StatusOr<PhaseEnd> end =
      RunStrategy(analysis, phase, r.sensitivity_subset, reference->accuracy().top1());
  if (!end.ok()) return end.status();
  *table = analysis.table();

  v1::SensitivityTable proto;
  *proto.mutable_subset() = r.sensitivity_subset;
  *proto.mutable_baseline_accuracy() = reference->accuracy();
  // Complete: every cell measured, not just every planned one.
  const int64_t cell_count = static_cast<int64_t>(r.space.decisions()) *
                        static_cast<int64_t>(candidates.size());
  const int64_t bound = spec.sensitivity().max_evaluations();
  proto.set_complete(analysis.complete() && (bound == 0 || bound >= cell_count));
  auto done = env_.store->Evaluations(record_.job_id(), phase);
  if (!done.ok()) return done.status();
  std::map<std::pair<int, int>, v1::SearchPoint> cells;
  for (const StoredEvaluation& row : *done) {
    v1::SearchPoint p;
    std::optional<search::Assignment> a = ParseAssignmentKey(row.assignment_key);
    if (!a.has_value() || !p.ParseFromString(row.point)) continue;
    // Cells are the configurations with exactly one decision approximated.
    int approximated = 0;
    int cell = 0;
    for (size_t d = 0; d < a->size(); ++d) {
      if ((*a)[d] != 0) {
        ++approximated;
        cell = static_cast<int>(d);
      }
    }
    if (approximated == 1) cells[{cell, (*a)[cell]}] = p;
  }
  for (const auto& [cell, p] : cells) {
    v1::SensitivityEntry* e = proto.add_entries();
    e->set_layer(r.decisions[cell.first].name);
    *e->mutable_multiplier() = r.candidates[cell.second];
    *e->mutable_accuracy() = p.accuracy();
    e->set_accuracy_drop_pp(p.accuracy_drop_pp());
    e->set_relative_power(p.power().relative_power());
    e->set_config_hash(p.config_hash());
  }
  return env_.store->SetSensitivity(record_.job_id(), proto.SerializeAsString());
}

absl::Status JobRun::Validate() {
  const ResolvedSpec& r = *resolved_;
  const bool fp32 = record_.spec().objective().baseline() == v1::BASELINE_FP32;
  bool cached = false;
  AttemptReport report;
  v1::Configuration exact = ConfigurationOf(r, r.space.Exact());
  absl::StatusOr<v1::EvaluateResponse> base =
      EvaluateCached(exact, r.validation_subset, v1::PRECISION_INT8, &cached, &report);
  if (!base.ok()) return base.status();
  v1::Accuracy reference_accuracy = base->accuracy();
  if (fp32) {
    absl::StatusOr<v1::EvaluateResponse> f =
        EvaluateCached(exact, r.validation_subset, v1::PRECISION_FP32, &cached, &report);
    if (!f.ok()) return f.status();
    reference_accuracy = f->accuracy();
  }
  const double reference = reference_accuracy.top1();
  absl::StatusOr<StoredJob> job = env_.store->GetJob(record_.job_id());
  if (!job.ok()) return job.status();
  v1::BaselineResult baseline;
  baseline.ParseFromString(job->baseline);
  *baseline.mutable_validation_accuracy() = reference_accuracy;
  if (absl::Status s = env_.store->SetBaseline(record_.job_id(), baseline.SerializeAsString());
      !s.ok()) {
    return s;
  }
  std::vector<v1::SearchPoint> front;
  {
    absl::MutexLock lock(&mu_);
    for (const search::ParetoPoint& p : archive_.front()) front.push_back(front_points_[p.id]);
  }
  for (v1::SearchPoint& p : front) {
    if (ShouldStop()) return absl::OkStatus();
    if (p.has_validation_accuracy()) continue;
    absl::StatusOr<v1::EvaluateResponse> v =
        EvaluateCached(p.configuration(), r.validation_subset, v1::PRECISION_INT8, &cached, &report);
    if (!v.ok()) return v.status();
    *p.mutable_validation_accuracy() = v->accuracy();
    p.set_validation_accuracy_drop_pp(100.0 * (reference - v->accuracy().top1()));
    p.set_feasible(p.validation_accuracy_drop_pp() <= threshold_pp_);
    std::string phase = p.config_hash() == baseline.config_hash() ? kBaseline : kSearch;
    v1::SearchPoint stored = p;
    stored.set_on_front(false);
    if (absl::Status s = env_.store->UpdateEvaluationPoint(record_.job_id(), phase,
                                                           p.config_hash(),
                                                           stored.SerializeAsString());
        !s.ok()) {
      return s;
    }
    absl::MutexLock lock(&mu_);
    front_points_[p.config_hash()] = p;
  }
  // The best feasible point is judged on validation accuracy now.
  absl::MutexLock lock(&mu_);
  record_.clear_best_within_threshold();
  best_saving_.reset();
  for (const search::ParetoPoint& fp : archive_.front()) {
    const v1::SearchPoint& p = front_points_[fp.id];
    double saving = 1 - p.power().relative_power();
    if (p.feasible() && (!best_saving_.has_value() || saving > *best_saving_)) {
      best_saving_ = saving;
      *record_.mutable_best_within_threshold() = p;
    }
  }
  Persist();
  return absl::OkStatus();
}

absl::Status JobRun::RunPhases() {
  SetState(v1::JOB_STATE_RUNNING, "");
  absl::StatusOr<ResolvedSpec> resolved = ResolveWithRetries();
  if (!resolved.ok()) return ShouldStop() ? absl::OkStatus() : resolved.status();
  resolved_ = std::move(*resolved);
  const ResolvedSpec& r = *resolved_;
  const v1::SearchSpec& spec = record_.spec();
  {
    absl::MutexLock lock(&mu_);
    record_.clear_candidates();
    for (const auto& c : r.candidates) *record_.add_candidates() = c;
    record_.clear_layers();
    for (const auto& l : r.searched_layers) record_.add_layers(l);
    record_.mutable_counts()->set_search_space_size(r.space.size());
    // Counters are rebuilt from what the store holds, so a resumed job
    // continues where it was.
    v1::SearchCounts* counts = record_.mutable_counts();
    counts->set_evaluations_completed(0);
    counts->set_cache_hits(0);
    counts->set_feasible_count(0);
    for (const char* phase : {kSensitivity, kSearch}) {
      auto rows = env_.store->Evaluations(record_.job_id(), phase);
      if (!rows.ok()) return rows.status();
      for (const StoredEvaluation& row : *rows) {
        v1::SearchPoint p;
        if (!p.ParseFromString(row.point)) continue;
        counts->set_evaluations_completed(counts->evaluations_completed() + 1);
        if (p.cached()) counts->set_cache_hits(counts->cache_hits() + 1);
        if (std::string(phase) == kSearch && p.feasible()) {
          counts->set_feasible_count(counts->feasible_count() + 1);
        }
      }
    }
    Persist();
  }

  // Baseline.
  absl::StatusOr<v1::SearchPoint> exact =
      EvaluateFixed(kBaseline, r.space.Exact(), r.search_subset, v1::PRECISION_INT8);
  if (!exact.ok()) return ShouldStop() ? absl::OkStatus() : exact.status();
  double reference = exact->accuracy().top1();
  v1::BaselineResult baseline;
  baseline.set_kind(spec.objective().baseline() == v1::BASELINE_FP32 ? v1::BASELINE_FP32
                                                                     : v1::BASELINE_INT8_EXACT);
  *baseline.mutable_configuration() = exact->configuration();
  baseline.set_config_hash(exact->config_hash());
  *baseline.mutable_accuracy() = exact->accuracy();
  *baseline.mutable_power() = exact->power();
  if (baseline.kind() == v1::BASELINE_FP32) {
    absl::StatusOr<v1::SearchPoint> fp =
        EvaluateFixed(kBaselineFp32, r.space.Exact(), r.search_subset, v1::PRECISION_FP32);
    if (!fp.ok()) return ShouldStop() ? absl::OkStatus() : fp.status();
    reference = fp->accuracy().top1();
    *baseline.mutable_accuracy() = fp->accuracy();
  }
  if (absl::StatusOr<StoredJob> job = env_.store->GetJob(record_.job_id());
      job.ok() && !job->baseline.empty()) {
    v1::BaselineResult previous;
    // Keep the validation accuracy a previous run may have measured.
    if (previous.ParseFromString(job->baseline) && previous.has_validation_accuracy()) {
      *baseline.mutable_validation_accuracy() = previous.validation_accuracy();
    }
  }
  if (absl::Status s = env_.store->SetBaseline(record_.job_id(), baseline.SerializeAsString());
      !s.ok()) {
    return s;
  }
  v1::SearchPoint exact_point = *exact;
  exact_point.set_accuracy_drop_pp(100.0 * (reference - exact->accuracy().top1()));
  exact_point.set_feasible(exact_point.accuracy_drop_pp() <= threshold_pp_);
  {
    absl::MutexLock lock(&mu_);
    *record_.mutable_baseline_accuracy() = baseline.accuracy();
    AddToFront(exact_point);
    auto rows = env_.store->Evaluations(record_.job_id(), kSearch);
    if (!rows.ok()) return rows.status();
    for (const StoredEvaluation& row : *rows) {
      v1::SearchPoint p;
      if (!p.ParseFromString(row.point)) continue;
      p.set_evaluation_index(row.evaluation_index);
      AddToFront(p);
    }
    Persist();
  }

  search::StrategyOptions options = StrategyOptionsOf(spec);
  const bool wants_sensitivity =
      spec.kind() == v1::JOB_KIND_SENSITIVITY || options.kind == search::StrategyKind::kGreedy ||
      (options.kind == search::StrategyKind::kMcts && options.mcts.prior_weight > 0);
  if (wants_sensitivity && r.space.candidates() > 1) {
    if (absl::Status s = RunSensitivity(&options.sensitivity); !s.ok()) {
      return ShouldStop() ? absl::OkStatus() : s;
    }
    if (ShouldStop()) return absl::OkStatus();
  }
  if (spec.kind() != v1::JOB_KIND_SENSITIVITY && !BudgetSpent()) {
    absl::StatusOr<std::unique_ptr<search::Strategy>> strategy = MakeStrategy(r.space, options);
    if (!strategy.ok()) return strategy.status();
    // Replay: the strategy learns everything the job already knows.
    (*strategy)->Observe(r.space.Exact(), OutcomeOf(exact_point));
    auto rows = env_.store->Evaluations(record_.job_id(), kSearch);
    if (!rows.ok()) return rows.status();
    for (const StoredEvaluation& row : *rows) {
      v1::SearchPoint p;
      std::optional<search::Assignment> a = ParseAssignmentKey(row.assignment_key);
      if (a.has_value() && p.ParseFromString(row.point)) (*strategy)->Observe(*a, OutcomeOf(p));
    }
    absl::StatusOr<PhaseEnd> end = RunStrategy(**strategy, kSearch, r.search_subset, reference);
    if (!end.ok()) return end.status();
    if (*end == PhaseEnd::kInterrupted) return absl::OkStatus();
  }
  if (ShouldStop()) return absl::OkStatus();
  if (r.has_validation && spec.kind() != v1::JOB_KIND_SENSITIVITY) {
    if (absl::Status s = Validate(); !s.ok()) return ShouldStop() ? absl::OkStatus() : s;
  }
  return absl::OkStatus();
}

}  // namespace transaxx::coordinator
