#include "services/search_coordinator/evaluator_pool.h"

#include <algorithm>
#include <set>
#include <utility>

#include <grpcpp/create_channel.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/rpc/client_channel.h"
#include "libs/rpc/host_port.h"
#include "libs/rpc/log.h"

namespace transaxx::coordinator {

struct EvaluatorPool::Member {
  std::string address;
  int ordinal = 0;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Evaluator::Stub> stub;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
  int capacity = 1;
  bool capacity_known = false;
  int in_flight = 0;
  bool healthy = true;
  bool removed = false;  // gone from DNS; deleted once idle
  int consecutive_failures = 0;
};

namespace {

absl::Status FromGrpc(const grpc::Status& s, const std::string& address) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat("evaluator ", address, ": ", s.error_message()));
}

absl::Duration Backoff(const EvaluatorPoolOptions& o, int attempt) {
  absl::Duration d = o.initial_backoff;
  for (int i = 1; i < attempt && d < o.max_backoff; ++i) d *= 2;
  return std::min(d, o.max_backoff);
}

}  // namespace

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return true;
    default:
      return false;
  }
}

EvaluatorPoolMetrics::EvaluatorPoolMetrics(rpc::MetricsRegistry& registry)
    : attempts(registry.AddCounter("transaxx_coordinator_evaluation_attempts_total",
                                   "Evaluate calls made to evaluators, by outcome.", {"code"})),
      retries(registry
                  .AddCounter("transaxx_coordinator_evaluations_retried_total",
                              "Evaluation attempts retried after a transient failure.")
                  .WithLabels({})),
      ejections(registry
                    .AddCounter("transaxx_coordinator_evaluator_ejections_total",
                                "Evaluators taken out of rotation after repeated failures.")
                    .WithLabels({})),
      evaluators_healthy(registry
                             .AddGauge("transaxx_coordinator_evaluators_healthy",
                                       "Evaluators in rotation.")
                             .WithLabels({})),
      evaluators_total(registry
                           .AddGauge("transaxx_coordinator_evaluators",
                                     "Evaluators known (healthy or ejected).")
                           .WithLabels({})),
      capacity(registry
                   .AddGauge("transaxx_coordinator_evaluator_capacity",
                             "Concurrent evaluations the healthy evaluators accept in total.")
                   .WithLabels({})),
      in_flight(registry.AddGauge("transaxx_coordinator_evaluator_in_flight",
                                  "Evaluations in flight per evaluator (by ordinal).",
                                  {"evaluator"})),
      evaluate_seconds(registry
                           .AddHistogram("transaxx_coordinator_evaluation_seconds",
                                         "Latency of successful Evaluate calls.", {},
                                         rpc::LatencyBucketsSeconds())
                           .WithLabels({})) {}

EvaluatorPool::EvaluatorPool(EvaluatorPoolOptions options, EvaluatorPoolMetrics* metrics)
    : options_(std::move(options)), metrics_(metrics) {}

absl::StatusOr<std::unique_ptr<EvaluatorPool>> EvaluatorPool::Create(
    const EvaluatorPoolOptions& options, EvaluatorPoolMetrics* metrics) {
  if (options.max_attempts < 1 || options.eject_after_failures < 1) {
    return absl::InvalidArgumentError("max_attempts and eject_after_failures must be >= 1");
  }
  if (options.target.empty()) {
    return absl::InvalidArgumentError(
        "no evaluators: give HOST:PORT[,HOST:PORT...] or dns:///NAME:PORT");
  }
  // Credentials are checked once here so a bad TLS setup fails at start-up.
  auto creds = rpc::MakeChannelCredentials(options.security);
  if (!creds.ok()) return creds.status();
  std::unique_ptr<EvaluatorPool> pool(new EvaluatorPool(options, metrics));
  if (absl::Status s = pool->Resolve(); !s.ok()) return s;
  pool->prober_ = std::thread([p = pool.get()] { p->ProbeLoop(); });
  return pool;
}

EvaluatorPool::~EvaluatorPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (prober_.joinable()) prober_.join();
}

absl::Status EvaluatorPool::Resolve() {
  absl::string_view target = options_.target;
  std::vector<std::string> addresses;
  std::string tls_name;
  if (absl::ConsumePrefix(&target, "dns:///")) {
    absl::StatusOr<rpc::HostPort> hp = rpc::ParseHostPort(target);
    if (!hp.ok()) return hp.status();
    auto ips = rpc::ResolveAddresses(hp->host);
    if (!ips.ok()) return ips.status();
    for (const std::string& ip : *ips) addresses.push_back(rpc::HostPort{ip, hp->port}.ToString());
    tls_name = hp->host;
  } else {
    for (absl::string_view entry : absl::StrSplit(target, ',', absl::SkipWhitespace())) {
      absl::StatusOr<rpc::HostPort> hp = rpc::ParseHostPort(absl::StripAsciiWhitespace(entry));
      if (!hp.ok()) return hp.status();
      addresses.push_back(hp->ToString());
    }
  }
  absl::MutexLock lock(&mu_);
  std::set<std::string> wanted(addresses.begin(), addresses.end());
  for (auto& m : members_) m->removed = wanted.count(m->address) == 0;
  for (const std::string& address : addresses) {
    bool known = std::any_of(members_.begin(), members_.end(),
                             [&](const auto& m) { return m->address == address; });
    if (known) continue;
    rpc::ChannelOptions channel_options;
    channel_options.target = address;
    channel_options.security = options_.security;
    channel_options.tls_server_name = tls_name;
    absl::StatusOr<rpc::ClientChannel> channel = rpc::ClientChannel::Create(channel_options);
    if (!channel.ok()) return channel.status();
    auto m = std::make_unique<Member>();
    m->address = address;
    m->ordinal = members_.empty() ? 0 : members_.back()->ordinal + 1;
    m->channel = channel->channel();
    m->stub = v1::Evaluator::NewStub(m->channel);
    m->health = grpc::health::v1::Health::NewStub(m->channel);
    members_.push_back(std::move(m));
  }
  members_.erase(std::remove_if(members_.begin(), members_.end(),
                                [](const auto& m) { return m->removed && m->in_flight == 0; }),
                 members_.end());
  UpdateGauges();
  return absl::OkStatus();
}

void EvaluatorPool::UpdateGauges() {
  int healthy = 0;
  int capacity = 0;
  for (const auto& m : members_) {
    metrics_->in_flight.WithLabels({absl::StrCat(m->ordinal)}).Set(m->in_flight);
    if (m->healthy && !m->removed) {
      ++healthy;
      capacity += m->capacity;
    }
  }
  metrics_->evaluators_healthy.Set(healthy);
  metrics_->evaluators_total.Set(static_cast<double>(members_.size()));
  metrics_->capacity.Set(capacity);
}

void EvaluatorPool::Probe(Member* m) {
  // Health first: an ejected evaluator comes back only when it says SERVING.
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.small_call_deadline));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = m->health->Check(&context, request, &response);
  bool serving =
      s.ok() && response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  int capacity = 0;
  if (serving) {
    grpc::ClientContext status_context;
    status_context.set_deadline(absl::ToChronoTime(absl::Now() + options_.small_call_deadline));
    v1::GetStatusResponse status;
    if (m->stub->GetStatus(&status_context, v1::GetStatusRequest(), &status).ok()) {
      capacity = std::max(1, status.max_concurrent());
    }
  }
  absl::MutexLock lock(&mu_);
  if (capacity > 0) {
    m->capacity = capacity;
    m->capacity_known = true;
  }
  if (serving && !m->healthy) {
    m->healthy = true;
    m->consecutive_failures = 0;
    rpc::LogInfo("evaluator back in rotation", {{"evaluator", m->address}});
  }
  UpdateGauges();
}

void EvaluatorPool::ProbeLoop() {
  absl::Time next_resolve = absl::Now() + options_.resolve_interval;
  for (;;) {
    std::vector<Member*> to_probe;
    {
      absl::MutexLock lock(&mu_);
      auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&stop), options_.probe_interval);
      if (stopping_) return;
      for (auto& m : members_) {
        if (!m->healthy || !m->capacity_known) to_probe.push_back(m.get());
      }
    }
    // Members are only deleted by Resolve, which runs on this thread.
    for (Member* m : to_probe) Probe(m);
    if (absl::StartsWith(options_.target, "dns:///") && absl::Now() >= next_resolve) {
      if (absl::Status s = Resolve(); !s.ok()) {
        rpc::LogWarning("cannot re-resolve evaluators", {{"error", std::string(s.message())}});
      }
      next_resolve = absl::Now() + options_.resolve_interval;
    }
  }
}

EvaluatorPool::Member* EvaluatorPool::Acquire(const Member* avoid, CallCanceller* canceller) {
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (stopping_ || (canceller != nullptr && canceller->cancelled())) return nullptr;
    Member* best = nullptr;
    Member* fallback = nullptr;  // `avoid`, when it is the only one free
    for (auto& m : members_) {
      if (!m->healthy || m->removed || m->in_flight >= m->capacity) continue;
      if (m.get() == avoid) {
        fallback = m.get();
        continue;
      }
      // Least loaded relative to capacity, then lowest ordinal: deterministic.
      if (best == nullptr ||
          m->in_flight * best->capacity < best->in_flight * m->capacity) {
        best = m.get();
      }
    }
    if (best == nullptr) best = fallback;
    if (best != nullptr) {
      ++best->in_flight;
      UpdateGauges();
      return best;
    }
    // Woken by a freed slot; the timeout polls cancellation, which mu_ does
    // not guard.
    auto slot_free = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      if (stopping_) return true;
      for (const auto& m : members_) {
        if (m->healthy && !m->removed && m->in_flight < m->capacity) return true;
      }
      return false;
    };
    mu_.AwaitWithTimeout(absl::Condition(&slot_free), absl::Milliseconds(100));
  }
}

void EvaluatorPool::Release(Member* m, bool transient_failure, bool success) {
  absl::MutexLock lock(&mu_);
  --m->in_flight;
  if (success) m->consecutive_failures = 0;
  if (transient_failure && ++m->consecutive_failures >= options_.eject_after_failures &&
      m->healthy) {
    m->healthy = false;
    metrics_->ejections.Increment();
    rpc::LogWarning("evaluator ejected", {{"evaluator", m->address},
                                          {"failures", absl::StrCat(m->consecutive_failures)}});
  }
  UpdateGauges();
}

absl::StatusOr<v1::EvaluateResponse> EvaluatorPool::Evaluate(const v1::EvaluateRequest& request,
                                                             CallCanceller* canceller,
                                                             AttemptReport* report) {
  AttemptReport local;
  if (report == nullptr) report = &local;
  absl::Status last = absl::UnavailableError("no evaluator answered");
  const Member* previous = nullptr;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) {
      ++report->retries;
      metrics_->retries.Increment();
      absl::SleepFor(Backoff(options_, attempt - 1));
    }
    Member* m = Acquire(previous, canceller);
    if (m == nullptr) return absl::CancelledError("evaluation cancelled");
    ++report->attempts;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.evaluate_deadline));
    if (canceller != nullptr && !canceller->Register(&context)) {
      Release(m, false, false);
      return absl::CancelledError("evaluation cancelled");
    }
    v1::EvaluateResponse response;
    absl::Time start = absl::Now();
    grpc::Status gs = m->stub->Evaluate(&context, request, &response);
    if (canceller != nullptr) canceller->Unregister(&context);
    absl::Status s = FromGrpc(gs, m->address);
    metrics_->attempts.WithLabels({absl::StatusCodeToString(s.code())}).Increment();
    if (canceller != nullptr && canceller->cancelled()) {
      Release(m, false, false);
      return absl::CancelledError("evaluation cancelled");
    }
    bool transient = IsTransient(s);
    Release(m, transient && s.code() != absl::StatusCode::kResourceExhausted, s.ok());
    if (s.ok()) {
      metrics_->evaluate_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
      report->evaluator = m->address;
      return response;
    }
    if (!transient) return s;
    ++report->failed_attempts;
    rpc::LogWarning("evaluation attempt failed", {{"evaluator", m->address},
                                                  {"attempt", absl::StrCat(attempt)},
                                                  {"error", std::string(s.message())}});
    last = s;
    previous = m;
  }
  return last;
}

absl::Status EvaluatorPool::CallWithRetries(const SmallCall& call) {
  absl::Status last = absl::UnavailableError("no evaluator answered");
  const Member* previous = nullptr;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) absl::SleepFor(Backoff(options_, attempt - 1));
    Member* m = nullptr;
    {
      // Small calls do not take an evaluation slot; any healthy member will do.
      absl::MutexLock lock(&mu_);
      for (auto& candidate : members_) {
        if (!candidate->healthy || candidate->removed) continue;
        if (m == nullptr || (m == previous && candidate.get() != previous)) m = candidate.get();
      }
      if (m != nullptr) ++m->in_flight;
    }
    if (m == nullptr) {
      last = absl::UnavailableError("no healthy evaluator");
      continue;
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + options_.small_call_deadline));
    absl::Status s = FromGrpc(call(*m->stub, &context), m->address);
    bool transient = IsTransient(s);
    Release(m, transient, s.ok());
    if (s.ok() || !transient) return s;
    last = s;
    previous = m;
  }
  return last;
}

absl::StatusOr<v1::DescribeModelResponse> EvaluatorPool::DescribeModel(
    const v1::DescribeModelRequest& request) {
  v1::DescribeModelResponse response;
  absl::Status s = CallWithRetries([&](v1::Evaluator::Stub& stub, grpc::ClientContext* c) {
    response.Clear();
    return stub.DescribeModel(c, request, &response);
  });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::ListDatasetsResponse> EvaluatorPool::ListDatasets() {
  v1::ListDatasetsResponse response;
  absl::Status s = CallWithRetries([&](v1::Evaluator::Stub& stub, grpc::ClientContext* c) {
    response.Clear();
    return stub.ListDatasets(c, v1::ListDatasetsRequest(), &response);
  });
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<v1::ListEvaluatorMultipliersResponse> EvaluatorPool::ListMultipliers(
    const v1::ListEvaluatorMultipliersRequest& request) {
  v1::ListEvaluatorMultipliersResponse response;
  absl::Status s = CallWithRetries([&](v1::Evaluator::Stub& stub, grpc::ClientContext* c) {
    response.Clear();
    return stub.ListMultipliers(c, request, &response);
  });
  if (!s.ok()) return s;
  return response;
}

int EvaluatorPool::TotalCapacity() const {
  absl::MutexLock lock(&mu_);
  int capacity = 0;
  for (const auto& m : members_) {
    if (m->healthy && !m->removed) capacity += m->capacity;
  }
  return std::max(1, capacity);
}

std::vector<EvaluatorState> EvaluatorPool::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<EvaluatorState> out;
  for (const auto& m : members_) {
    out.push_back({m->address, m->capacity, m->in_flight, m->healthy, m->consecutive_failures});
  }
  return out;
}

}  // namespace transaxx::coordinator
