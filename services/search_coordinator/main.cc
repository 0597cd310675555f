// transaxx-coordinator: the SearchCoordinator service (search jobs end to
// end: strategies, dispatch to evaluators, power costs, persistence, resume).
//
// Flags: the shared service flags (libs/rpc/service_flags.h) and
//   --evaluators TARGET         HOST:PORT[,HOST:PORT...] or dns:///NAME:PORT
//   --power_model HOST:PORT     the power model
//   --db FILE                   the SQLite job store (default STATE_DIR/coordinator.db)
//   --max_running_jobs N        jobs searching at once
//   --max_queued_jobs N         jobs that may wait
//   --evaluate_timeout DURATION deadline of one Evaluate call
//   --max_attempts N            attempts of one evaluation
//   --client_tls_ca/--client_tls_cert/--client_tls_key/--client_auth_token_file
//                               security of the calls to evaluators and power model
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "libs/rpc/client_channel.h"
#include "libs/rpc/log.h"
#include "libs/rpc/serve.h"
#include "libs/rpc/service_flags.h"
#include "libs/rpc/termination_signal.h"
#include "services/search_coordinator/coordinator_metrics.h"
#include "services/search_coordinator/coordinator_service.h"
#include "services/search_coordinator/evaluator_pool.h"
#include "services/search_coordinator/job_store.h"

ABSL_FLAG(std::string, evaluators, "",
          "evaluators: HOST:PORT[,HOST:PORT...] or dns:///NAME:PORT (required)");
ABSL_FLAG(std::string, power_model, "", "power model HOST:PORT (required)");
ABSL_FLAG(std::string, db, "", "SQLite job store; default STATE_DIR/coordinator.db");
ABSL_FLAG(int, max_running_jobs, 2, "jobs searching at once (others wait queued)");
ABSL_FLAG(int, max_queued_jobs, 100, "jobs that may wait; beyond, SubmitSearch is refused");
ABSL_FLAG(absl::Duration, evaluate_timeout, absl::Minutes(30), "deadline of one Evaluate call");
ABSL_FLAG(int, max_attempts, 5, "attempts of one evaluation before it is given up");
ABSL_FLAG(std::string, client_tls_ca, "", "CA of the evaluators' and power model's certificates");
ABSL_FLAG(std::string, client_tls_cert, "", "client certificate for mutual TLS");
ABSL_FLAG(std::string, client_tls_key, "", "client key for mutual TLS");
ABSL_FLAG(std::string, client_auth_token_file, "", "bearer token for the evaluators and power model");

namespace {

int Fail(int code, const std::string& what, const absl::Status& s) {
  transaxx::rpc::LogError(what, {{"error", std::string(s.message())}});
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace transaxx;
  rpc::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  auto options = rpc::ServerOptionsFromFlags("transaxx-coordinator");
  if (!options.ok()) return Fail(2, "bad flags", options.status());
  std::string db = absl::GetFlag(FLAGS_db);
  if (db.empty() && !absl::GetFlag(FLAGS_state_dir).empty()) {
    db = absl::StrCat(absl::GetFlag(FLAGS_state_dir), "/coordinator.db");
  }
  if (db.empty()) {
    return Fail(2, "bad flags", absl::InvalidArgumentError("--db or --state_dir is required"));
  }
  if (absl::GetFlag(FLAGS_evaluators).empty()) {
    return Fail(2, "bad flags", absl::InvalidArgumentError("--evaluators is required"));
  }
  if (absl::GetFlag(FLAGS_power_model).empty()) {
    return Fail(2, "bad flags", absl::InvalidArgumentError("--power_model is required"));
  }
  if (absl::GetFlag(FLAGS_max_running_jobs) < 1 || absl::GetFlag(FLAGS_max_queued_jobs) < 0 ||
      absl::GetFlag(FLAGS_max_attempts) < 1) {
    return Fail(2, "bad flags",
                absl::InvalidArgumentError("--max_running_jobs and --max_attempts must be >= 1, "
                                           "--max_queued_jobs >= 0"));
  }
  rpc::SecurityOptions client_security;
  client_security.tls_ca_file = absl::GetFlag(FLAGS_client_tls_ca);
  client_security.tls_cert_file = absl::GetFlag(FLAGS_client_tls_cert);
  client_security.tls_key_file = absl::GetFlag(FLAGS_client_tls_key);
  client_security.auth_token_file = absl::GetFlag(FLAGS_client_auth_token_file);

  auto store = coordinator::JobStore::Open(db);
  if (!store.ok()) return Fail(1, "cannot open the job store", store.status());

  rpc::MetricsRegistry registry;
  coordinator::CoordinatorMetrics metrics(registry);
  coordinator::EvaluatorPoolMetrics pool_metrics(registry);
  coordinator::EvaluatorPoolOptions pool_options;
  pool_options.target = absl::GetFlag(FLAGS_evaluators);
  pool_options.security = client_security;
  pool_options.evaluate_deadline = absl::GetFlag(FLAGS_evaluate_timeout);
  pool_options.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  auto pool = coordinator::EvaluatorPool::Create(pool_options, &pool_metrics);
  if (!pool.ok()) return Fail(2, "bad --evaluators", pool.status());

  rpc::ChannelOptions power_options;
  power_options.target = absl::GetFlag(FLAGS_power_model);
  power_options.security = client_security;
  auto power_channel = rpc::ClientChannel::Create(power_options);
  if (!power_channel.ok()) return Fail(2, "bad --power_model", power_channel.status());
  auto power = v1::PowerModel::NewStub(power_channel->channel());

  coordinator::CoordinatorOptions service_options;
  service_options.max_running_jobs = absl::GetFlag(FLAGS_max_running_jobs);
  service_options.max_queued_jobs = absl::GetFlag(FLAGS_max_queued_jobs);
  coordinator::CoordinatorService service(service_options, store->get(), pool->get(),
                                          power.get(), &metrics);
  if (absl::Status s = service.Resume(); !s.ok()) return Fail(1, "cannot resume jobs", s);
  registry.AddCollectHook([&service] { service.RefreshProgressGauges(); });
  return rpc::ServeUntilTerminated(
      *options, {{&service, v1::SearchCoordinator::service_full_name()}}, registry,
      [&service] { service.Drain(); });
}
