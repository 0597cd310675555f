// Starts a real cluster on loopback — transaxx-power-model, two
// transaxx-evaluator processes and transaxx-coordinator with a SQLite store —
// and checks search jobs over real gRPC: a job finishes within its budget
// with a non-dominated front and the all-exact baseline; every invalid spec
// is refused by name; cancel; kill -9 of an evaluator mid-job (nothing lost
// or counted twice); kill -9 of the coordinator mid-job and a restart (the
// job resumes and no completed configuration is evaluated again); two jobs
// at once, and the evaluation cache shared by jobs; evaluators found by a
// dns:/// name and reached, like the power model, over mutual TLS with a
// bearer token.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "libs/rpc/client_channel.h"
#include "services/search_coordinator/job_store.h"
#include "tests/support/http_get.h"
#include "tests/support/service_process.h"
#include "tests/support/test_pki.h"
#include "transaxx/v1/evaluator.grpc.pb.h"
#include "transaxx/v1/search.grpc.pb.h"

namespace transaxx {
namespace {

namespace v1 = transaxx::v1;
using ::testing::HasSubstr;

const std::string kEvo = TRANSAXX_EVOAPPROX_DIR;
const std::string kDemoModel = TRANSAXX_DEMO_MODEL_DIR;
constexpr char kModel[] = "fashion-vit";

using transaxx::testing::ServiceProcess;

std::unique_ptr<ServiceProcess> StartService(const std::vector<std::string>& argv) {
  auto s = ServiceProcess::Start(argv);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

// kill -9, as a crash would.
void Kill(std::unique_ptr<ServiceProcess>& service) {
  service->process().Signal(SIGKILL);
  service->process().Wait(absl::Seconds(30)).IgnoreError();
  service.reset();
}

std::unique_ptr<grpc::ClientContext> Call(absl::Duration d = absl::Seconds(300)) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d));
  return c;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = absl::StrCat(::testing::TempDir(), "/coordinator_", getpid(), "_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ + "/models");
    std::filesystem::create_directory_symlink(std::filesystem::absolute(kDemoModel),
                                              root_ + "/models/" + kModel);
    power_ = StartService({
        TRANSAXX_POWER_MODEL, "--listen=127.0.0.1:0", "--metrics_listen=",
        "--multipliers_dir=" + kEvo, "--state_dir=" + root_ + "/power", "--warm_builtins=false"});
    for (int i = 0; i < 2; ++i) {
      evaluators_.push_back(StartService({
          TRANSAXX_EVALUATOR, "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
          "--models_dir=" + root_ + "/models", "--multipliers_dir=" + kEvo,
          absl::StrCat("--state_dir=", root_, "/evaluator", i), "--threads=1",
          "--max_concurrent=1", "--batch_size=32"}));
    }
    ASSERT_TRUE(power_ != nullptr && evaluators_[0] != nullptr && evaluators_[1] != nullptr);
    StartCoordinator();
  }

  // Starts the coordinator with the fixture's services, or with `services`
  // (its state folder, evaluators, power model and their security) instead.
  void StartCoordinator(std::vector<std::string> services = {}) {
    if (services.empty()) {
      services = {"--state_dir=" + root_ + "/coordinator",
                  "--evaluators=" + evaluators_[0]->target() + "," + evaluators_[1]->target(),
                  "--power_model=" + power_->target()};
    }
    std::vector<std::string> argv = {TRANSAXX_COORDINATOR, "--listen=127.0.0.1:0",
                                     "--metrics_listen=127.0.0.1:0", "--evaluate_timeout=10m"};
    argv.insert(argv.end(), services.begin(), services.end());
    coordinator_ = StartService(argv);
    ASSERT_NE(coordinator_, nullptr);
    rpc::ChannelOptions options;
    options.target = coordinator_->target();
    auto channel = rpc::ClientChannel::Create(options);
    ASSERT_TRUE(channel.ok());
    stub_ = v1::SearchCoordinator::NewStub(channel->channel());
  }

  // A small MCTS job: 64 test images, the three operand-masking EvoApprox
  // circuits, a short sensitivity analysis.
  static v1::SearchSpec Spec(int64_t evaluations) {
    v1::SearchSpec spec;
    spec.set_display_name("integration");
    spec.mutable_model()->set_id(kModel);
    v1::DatasetSubset* subset = spec.mutable_search_subset();
    subset->mutable_dataset()->set_id("fashion-mnist");
    subset->set_split("test");
    subset->mutable_range()->set_limit(64);
    v1::CalibrationSpec* calibration = spec.mutable_calibration();
    calibration->mutable_subset()->mutable_dataset()->set_id("fashion-mnist");
    calibration->mutable_subset()->set_split("train");
    calibration->mutable_subset()->mutable_range()->set_limit(64);
    spec.add_candidate_multipliers("evo:mul8s_1L2[JLN]");
    spec.mutable_objective()->set_max_accuracy_drop_pp(2.0);
    spec.mutable_budget()->set_max_evaluations(evaluations);
    spec.mutable_sensitivity()->set_max_evaluations(3);
    spec.set_seed(7);
    return spec;
  }

  std::string Submit(const v1::SearchSpec& spec) {
    v1::SubmitSearchRequest request;
    *request.mutable_spec() = spec;
    v1::SubmitSearchResponse response;
    grpc::Status s = stub_->SubmitSearch(Call().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.job().state(), v1::JOB_STATE_QUEUED);
    return response.job_id();
  }

  v1::SearchJob Get(const std::string& job_id) {
    v1::GetSearchRequest request;
    request.set_job_id(job_id);
    v1::GetSearchResponse response;
    grpc::Status s = stub_->GetSearch(Call().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response.job();
  }

  // Polls until `done(job)` or the timeout; returns the last job seen.
  v1::SearchJob WaitFor(const std::string& job_id,
                        const std::function<bool(const v1::SearchJob&)>& done,
                        absl::Duration timeout = absl::Minutes(10)) {
    absl::Time end = absl::Now() + timeout;
    v1::SearchJob job;
    while (absl::Now() < end) {
      job = Get(job_id);
      if (done(job)) return job;
      absl::SleepFor(absl::Milliseconds(200));
    }
    ADD_FAILURE() << "timed out; job: " << job.DebugString();
    return job;
  }

  static bool Terminal(const v1::SearchJob& j) {
    return j.state() == v1::JOB_STATE_SUCCEEDED || j.state() == v1::JOB_STATE_FAILED ||
           j.state() == v1::JOB_STATE_CANCELLED;
  }

  v1::GetResultsResponse Results(const std::string& job_id) {
    v1::GetResultsRequest request;
    request.set_job_id(job_id);
    request.set_include_all_points(true);
    v1::GetResultsResponse response;
    grpc::Status s = stub_->GetResults(Call().get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  // No point of the front dominates another; none of `all` dominates a front point.
  static void ExpectNonDominated(const v1::GetResultsResponse& r) {
    auto dominates = [](const v1::SearchPoint& p, const v1::SearchPoint& q) {
      double pa = p.accuracy().top1(), qa = q.accuracy().top1();
      double pp = p.power().relative_power(), qp = q.power().relative_power();
      return pa >= qa && pp <= qp && (pa > qa || pp < qp);
    };
    for (const auto& f : r.pareto_front()) {
      for (const auto& p : r.points()) EXPECT_FALSE(dominates(p, f)) << p.config_hash();
      for (const auto& g : r.pareto_front()) EXPECT_FALSE(dominates(g, f));
    }
  }

  double CoordinatorMetric(const std::string& name) {
    auto text = transaxx::testing::HttpGet(coordinator_->metrics_port(), "/metrics");
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? transaxx::testing::MetricSum(text->body, name) : -1;
  }

  std::string root_;
  std::unique_ptr<ServiceProcess> power_;
  std::vector<std::unique_ptr<ServiceProcess>> evaluators_;
  std::unique_ptr<ServiceProcess> coordinator_;
  std::unique_ptr<v1::SearchCoordinator::Stub> stub_;
};

TEST_F(CoordinatorTest, AJobFinishesWithinBudgetWithAParetoFrontAndTheBaseline) {
  const std::string job_id = Submit(Spec(10));
  // Watch it to the end: the stream opens with a snapshot and ends after the
  // terminal state.
  v1::WatchSearchRequest watch;
  watch.set_job_id(job_id);
  auto context = Call(absl::Minutes(15));
  auto reader = stub_->WatchSearch(context.get(), watch);
  v1::SearchEvent event;
  std::vector<v1::JobState> states;
  int pareto_updates = 0;
  while (reader->Read(&event)) {
    if (event.has_state_change()) states.push_back(event.state_change().state());
    if (event.has_pareto_update()) ++pareto_updates;
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_GE(pareto_updates, 1);

  v1::SearchJob job = Get(job_id);
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.error_message();
  EXPECT_EQ(job.counts().evaluations_completed(), 10);
  EXPECT_EQ(job.progress().done(), 10);
  EXPECT_EQ(job.progress().total(), 10);
  EXPECT_EQ(job.candidates_size(), 4);
  EXPECT_EQ(job.candidates(0).id(), "exact");
  EXPECT_EQ(job.layers_size(), 17);  // patch embedding + 4 blocks × 4; head exact

  v1::GetResultsResponse r = Results(job_id);
  EXPECT_EQ(r.state(), v1::JOB_STATE_SUCCEEDED);
  // The sensitivity analysis ran on the search subset: its 3 evaluations are
  // search points too.
  EXPECT_EQ(r.total_points(), 10);
  EXPECT_EQ(r.sensitivity().entries_size(), 3);
  EXPECT_FALSE(r.sensitivity().complete());
  ExpectNonDominated(r);
  std::set<std::string> hashes;
  for (const auto& p : r.points()) EXPECT_TRUE(hashes.insert(p.config_hash()).second);

  // The baseline is the all-exact int8 configuration at relative power 1,
  // with the accuracy an evaluator gives it directly.
  EXPECT_DOUBLE_EQ(r.baseline().power().relative_power(), 1.0);
  v1::EvaluateRequest direct;
  direct.mutable_model()->set_id(kModel);
  *direct.mutable_subset() = Spec(1).search_subset();
  *direct.mutable_configuration() = r.baseline().configuration();
  *direct.mutable_calibration() = Spec(1).calibration();
  rpc::ChannelOptions options;
  options.target = evaluators_[0]->target();
  auto channel = rpc::ClientChannel::Create(options);
  ASSERT_TRUE(channel.ok());
  v1::EvaluateResponse exact;
  ASSERT_TRUE(v1::Evaluator::NewStub(channel->channel())
                  ->Evaluate(Call().get(), direct, &exact)
                  .ok());
  EXPECT_EQ(r.baseline().accuracy().top1_correct(), exact.accuracy().top1_correct());
  EXPECT_EQ(r.baseline().config_hash(), exact.config_hash());
  // The front holds the all-exact point unless a cheaper one is as accurate.
  bool exact_on_front = false;
  for (const auto& p : r.pareto_front()) {
    if (p.config_hash() == r.baseline().config_hash()) exact_on_front = true;
    EXPECT_LE(p.power().relative_power(), 1.0);
  }
  bool dominated = false;
  for (const auto& p : r.points()) {
    if (p.accuracy().top1() >= r.baseline().accuracy().top1() &&
        p.power().relative_power() < 1.0) {
      dominated = true;
    }
  }
  EXPECT_TRUE(exact_on_front || dominated);
  if (r.has_best_within_threshold()) {
    EXPECT_LE(r.best_within_threshold().accuracy_drop_pp(), 2.0);
  }
  EXPECT_EQ(CoordinatorMetric("transaxx_coordinator_evaluations_completed_total"), 10);
}

TEST_F(CoordinatorTest, EvaluatorsByDnsNameOverMutualTlsWithAToken) {
  const std::string pki_dir = root_ + "/pki";
  std::filesystem::create_directories(pki_dir);
  absl::StatusOr<transaxx::testing::TestPki> pki = transaxx::testing::GenerateTestPki(pki_dir);
  ASSERT_TRUE(pki.ok()) << pki.status();
  const std::string token = pki_dir + "/token";
  std::ofstream(token) << "a-shared-secret\n";
  const std::vector<std::string> server_security = {
      "--tls_cert=" + pki->server_cert, "--tls_key=" + pki->server_key,
      "--tls_ca=" + pki->ca_cert, "--auth_token_file=" + token};
  auto secured = [&](std::vector<std::string> argv) {
    argv.insert(argv.end(), server_security.begin(), server_security.end());
    return StartService(argv);
  };
  std::unique_ptr<ServiceProcess> power = secured(
      {TRANSAXX_POWER_MODEL, "--listen=127.0.0.1:0", "--metrics_listen=",
       "--multipliers_dir=" + kEvo, "--state_dir=" + root_ + "/tls_power", "--warm_builtins=false"});
  std::unique_ptr<ServiceProcess> evaluator = secured(
      {TRANSAXX_EVALUATOR, "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0",
       "--models_dir=" + root_ + "/models", "--multipliers_dir=" + kEvo,
       "--state_dir=" + root_ + "/tls_evaluator", "--threads=1", "--max_concurrent=2",
       "--batch_size=32"});
  ASSERT_TRUE(power != nullptr && evaluator != nullptr);
  // localhost resolves to 127.0.0.1, where the evaluator listens; the
  // certificate names localhost, the name the coordinator checks.
  const std::string port = evaluator->target().substr(evaluator->target().rfind(':') + 1);
  StartCoordinator({"--state_dir=" + root_ + "/tls_coordinator",
                    "--evaluators=dns:///localhost:" + port, "--power_model=" + power->target(),
                    "--client_tls_ca=" + pki->ca_cert, "--client_tls_cert=" + pki->client_cert,
                    "--client_tls_key=" + pki->client_key,
                    "--client_auth_token_file=" + token});
  ASSERT_NE(coordinator_, nullptr);

  const std::string job_id = Submit(Spec(5));
  v1::SearchJob job = WaitFor(job_id, Terminal);
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.error_message();
  EXPECT_EQ(job.counts().evaluations_completed(), 5);
  EXPECT_EQ(job.counts().evaluations_failed(), 0);
  EXPECT_EQ(CoordinatorMetric("transaxx_coordinator_evaluators"), 1);
  EXPECT_EQ(CoordinatorMetric("transaxx_coordinator_evaluators_healthy"), 1);
  // The probe learns the evaluator's capacity through its TLS channel (it
  // retries while the evaluator is too busy to answer in time).
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (CoordinatorMetric("transaxx_coordinator_evaluator_capacity") != 2 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(CoordinatorMetric("transaxx_coordinator_evaluator_capacity"), 2);
  // The secured evaluator did every evaluation the coordinator sent.
  auto served = transaxx::testing::HttpGet(evaluator->metrics_port(), "/metrics");
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(transaxx::testing::MetricSum(served->body,
                                         "transaxx_evaluator_evaluations_total{outcome=\"OK\"}"),
            CoordinatorMetric("transaxx_coordinator_evaluations_dispatched_total"));
  // No attempt failed (TLS handshakes, tokens); the baseline is one more.
  const double attempts = CoordinatorMetric("transaxx_coordinator_evaluation_attempts_total");
  EXPECT_GE(attempts, 5);
  EXPECT_EQ(
      CoordinatorMetric("transaxx_coordinator_evaluation_attempts_total{code=\"OK\"}"),
      attempts);
}

TEST_F(CoordinatorTest, InvalidSpecsAreRefusedByName) {
  struct Case {
    std::string name;
    std::function<void(v1::SearchSpec*)> edit;
    grpc::StatusCode code;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"unknown model", [](auto* s) { s->mutable_model()->set_id("nope"); },
       grpc::INVALID_ARGUMENT, "spec.model.id"},
      {"no model", [](auto* s) { s->clear_model(); }, grpc::INVALID_ARGUMENT, "spec.model.id"},
      {"unknown multiplier", [](auto* s) { s->add_candidate_multipliers("evo:nope"); },
       grpc::INVALID_ARGUMENT, "spec.candidate_multipliers[1]"},
      {"no candidates", [](auto* s) { s->clear_candidate_multipliers(); },
       grpc::INVALID_ARGUMENT, "spec.candidate_multipliers"},
      {"negative threshold",
       [](auto* s) { s->mutable_objective()->set_max_accuracy_drop_pp(-1); },
       grpc::INVALID_ARGUMENT, "spec.objective.max_accuracy_drop_pp"},
      {"no budget", [](auto* s) { s->clear_budget(); }, grpc::INVALID_ARGUMENT, "spec.budget"},
      {"subset larger than the split",
       [](auto* s) { s->mutable_search_subset()->mutable_range()->set_limit(20000); },
       grpc::INVALID_ARGUMENT, "spec.search_subset"},
      {"unknown split", [](auto* s) { s->mutable_search_subset()->set_split("dev"); },
       grpc::INVALID_ARGUMENT, "spec.search_subset.split"},
      {"unknown dataset",
       [](auto* s) { s->mutable_search_subset()->mutable_dataset()->set_id("imagenet9"); },
       grpc::INVALID_ARGUMENT, "spec.search_subset.dataset.id"},
      {"unknown layer", [](auto* s) { s->add_layers("blocks.9.*"); }, grpc::INVALID_ARGUMENT,
       "spec.layers[0]"},
      {"overlapping groups",
       [](auto* s) {
         auto* a = s->add_layer_groups();
         a->set_name("a");
         a->add_layers("blocks.0.*");
         auto* b = s->add_layer_groups();
         b->set_name("b");
         b->add_layers("blocks.0.mlp.fc1");
       },
       grpc::INVALID_ARGUMENT, "spec.layer_groups[1].layers[0]"},
      {"parameters of another strategy",
       [](auto* s) { s->mutable_nsga2()->set_population_size(8); }, grpc::INVALID_ARGUMENT,
       "spec.strategy_params"},
      {"population too small",
       [](auto* s) {
         s->set_strategy(v1::STRATEGY_NSGA2);
         s->mutable_nsga2()->set_population_size(2);
       },
       grpc::INVALID_ARGUMENT, "spec.nsga2.population_size"},
      {"exhaustive space above the budget",
       [](auto* s) { s->set_strategy(v1::STRATEGY_EXHAUSTIVE); }, grpc::INVALID_ARGUMENT,
       "spec.budget.max_evaluations"},
      {"a hash that differs",
       [](auto* s) { s->mutable_model()->set_content_hash(std::string(64, 'a')); },
       grpc::FAILED_PRECONDITION, "spec.model.id"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::SubmitSearchRequest request;
    *request.mutable_spec() = Spec(5);
    c.edit(request.mutable_spec());
    v1::SubmitSearchResponse response;
    grpc::Status s = stub_->SubmitSearch(Call().get(), request, &response);
    EXPECT_EQ(s.error_code(), c.code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.needle));
  }
  v1::SubmitSearchResponse response;
  EXPECT_EQ(stub_->SubmitSearch(Call().get(), v1::SubmitSearchRequest(), &response).error_code(),
            grpc::INVALID_ARGUMENT);
  // Nothing was created.
  v1::ListSearchesResponse list;
  ASSERT_TRUE(stub_->ListSearches(Call().get(), v1::ListSearchesRequest(), &list).ok());
  EXPECT_EQ(list.jobs_size(), 0);
  v1::GetSearchRequest get;
  get.set_job_id("job-nope");
  v1::GetSearchResponse got;
  EXPECT_EQ(stub_->GetSearch(Call().get(), get, &got).error_code(), grpc::NOT_FOUND);
}

TEST_F(CoordinatorTest, CancelStopsAJobAndKeepsItsResults) {
  const std::string job_id = Submit(Spec(200));
  WaitFor(job_id, [](const auto& j) { return j.counts().evaluations_completed() >= 2; });
  // The running job's progress shows in the metrics, and goes with it.
  EXPECT_EQ(CoordinatorMetric("transaxx_coordinator_running_evaluations_budget"), 200);
  EXPECT_GE(CoordinatorMetric("transaxx_coordinator_running_evaluations_done"), 2);
  v1::CancelSearchRequest cancel;
  cancel.set_job_id(job_id);
  v1::CancelSearchResponse cancelled;
  ASSERT_TRUE(stub_->CancelSearch(Call().get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.job().state(), v1::JOB_STATE_CANCELLED);
  // A second cancel is a no-op; the job stays queryable.
  ASSERT_TRUE(stub_->CancelSearch(Call().get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.job().state(), v1::JOB_STATE_CANCELLED);
  v1::GetResultsResponse r = Results(job_id);
  EXPECT_EQ(r.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_GE(r.pareto_front_size(), 1);
  // Nothing more is evaluated for it.
  const int64_t done = Get(job_id).counts().evaluations_completed();
  absl::SleepFor(absl::Seconds(3));
  EXPECT_EQ(Get(job_id).counts().evaluations_completed(), done);
  EXPECT_EQ(CoordinatorMetric("transaxx_coordinator_running_evaluations_budget"), 0);

  // A finished job cannot be cancelled.
  const std::string small = Submit(Spec(2));
  v1::SearchJob finished = WaitFor(small, Terminal);
  EXPECT_EQ(finished.state(), v1::JOB_STATE_SUCCEEDED) << finished.error_message();
  cancel.set_job_id(small);
  EXPECT_EQ(stub_->CancelSearch(Call().get(), cancel, &cancelled).error_code(),
            grpc::FAILED_PRECONDITION);
}

TEST_F(CoordinatorTest, AKilledEvaluatorLosesNoEvaluation) {
  // A budget that leaves most evaluations to run after the kill, so that the
  // coordinator meets the dead evaluator however fast evaluations are.
  constexpr int64_t kBudget = 40;
  const std::string job_id = Submit(Spec(kBudget));
  WaitFor(job_id, [](const auto& j) { return j.counts().evaluations_completed() >= 4; });
  Kill(evaluators_[0]);
  v1::SearchJob job = WaitFor(job_id, Terminal);
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.error_message();
  EXPECT_EQ(job.counts().evaluations_completed(), kBudget);
  v1::GetResultsResponse r = Results(job_id);
  EXPECT_EQ(r.total_points(), kBudget);
  std::set<std::string> hashes;
  std::set<int64_t> indices;
  for (const auto& p : r.points()) {
    EXPECT_TRUE(hashes.insert(p.config_hash()).second) << "evaluated twice";
    EXPECT_TRUE(indices.insert(p.evaluation_index()).second);
  }
  EXPECT_GE(CoordinatorMetric("transaxx_coordinator_evaluator_ejections_total"), 1);
}

TEST_F(CoordinatorTest, AKilledCoordinatorResumesWithoutReevaluating) {
  const std::string job_id = Submit(Spec(16));
  WaitFor(job_id, [](const auto& j) { return j.counts().evaluations_completed() >= 6; });
  Kill(coordinator_);
  // What the store held at the kill: never to be evaluated again.
  int64_t stored_before = 0;
  {
    auto store = coordinator::JobStore::Open(root_ + "/coordinator/coordinator.db");
    ASSERT_TRUE(store.ok()) << store.status();
    auto count = (*store)->CountEvaluations(job_id, "");
    ASSERT_TRUE(count.ok());
    stored_before = *count;
  }
  ASSERT_GE(stored_before, 7);  // baseline + at least 6
  StartCoordinator();
  v1::SearchJob job = WaitFor(job_id, Terminal);
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.error_message();
  EXPECT_EQ(job.resume_count(), 1);
  EXPECT_EQ(job.counts().evaluations_completed(), 16);
  v1::GetResultsResponse r = Results(job_id);
  int64_t new_uncached = 0;
  std::set<std::string> hashes;
  for (const auto& p : r.points()) {
    EXPECT_TRUE(hashes.insert(p.config_hash()).second) << "evaluated twice";
    if (p.evaluation_index() > stored_before && !p.cached()) ++new_uncached;
  }
  // The restarted coordinator sent out only configurations it did not have.
  EXPECT_EQ(CoordinatorMetric("transaxx_coordinator_evaluations_dispatched_total"),
            static_cast<double>(new_uncached));
  ExpectNonDominated(r);
}

TEST_F(CoordinatorTest, FloatBaselineValidationAndEveryStrategy) {
  // Greedy against the float32 model, with the front re-evaluated on other
  // images.
  v1::SearchSpec greedy = Spec(6);
  greedy.set_strategy(v1::STRATEGY_GREEDY);
  greedy.mutable_objective()->set_baseline(v1::BASELINE_FP32);
  v1::DatasetSubset* validation = greedy.mutable_validation_subset();
  *validation = greedy.search_subset();
  validation->mutable_range()->set_offset(64);
  // A sensitivity-only job, and NSGA-II.
  v1::SearchSpec sensitivity = Spec(4);
  sensitivity.set_kind(v1::JOB_KIND_SENSITIVITY);
  v1::SearchSpec nsga2 = Spec(5);
  nsga2.set_strategy(v1::STRATEGY_NSGA2);
  nsga2.mutable_nsga2()->set_population_size(4);
  const std::string jg = Submit(greedy);
  const std::string js = Submit(sensitivity);
  const std::string jn = Submit(nsga2);
  for (const std::string& id : {jg, js, jn}) {
    v1::SearchJob job = WaitFor(id, Terminal);
    EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << id << ": " << job.error_message();
  }

  v1::GetResultsResponse g = Results(jg);
  EXPECT_EQ(g.baseline().kind(), v1::BASELINE_FP32);
  ASSERT_TRUE(g.baseline().has_validation_accuracy());
  EXPECT_EQ(g.baseline().validation_accuracy().sample_count(), 64);
  for (const auto& p : g.pareto_front()) {
    ASSERT_TRUE(p.has_validation_accuracy()) << p.config_hash();
    EXPECT_EQ(p.validation_accuracy().sample_count(), 64);
    EXPECT_NEAR(p.validation_accuracy_drop_pp(),
                100.0 * (g.baseline().validation_accuracy().top1() -
                         p.validation_accuracy().top1()),
                1e-9);
    EXPECT_EQ(p.feasible(), p.validation_accuracy_drop_pp() <= 2.0);
  }
  if (g.has_best_within_threshold()) {
    EXPECT_LE(g.best_within_threshold().validation_accuracy_drop_pp(), 2.0);
  }

  v1::GetResultsResponse s = Results(js);
  EXPECT_EQ(s.sensitivity().entries_size(), 3);
  for (const auto& e : s.sensitivity().entries()) {
    EXPECT_EQ(e.multiplier().id().rfind("evo:mul8s_1L2", 0), 0u) << e.multiplier().id();
    EXPECT_LT(e.relative_power(), 1.0);
  }
  EXPECT_EQ(Get(js).counts().evaluations_completed(), 3);  // the analysis' bound

  EXPECT_EQ(Get(jn).counts().evaluations_completed(), 5);
  ExpectNonDominated(Results(jn));
}

TEST_F(CoordinatorTest, TwoJobsRunAtOnceAndJobsShareTheCache) {
  v1::SearchSpec a = Spec(5);
  a.set_strategy(v1::STRATEGY_RANDOM);
  a.clear_sensitivity();
  v1::SearchSpec b = a;
  b.set_seed(8);
  const std::string ja = Submit(a);
  const std::string jb = Submit(b);
  v1::SearchJob job_a = WaitFor(ja, Terminal);
  v1::SearchJob job_b = WaitFor(jb, Terminal);
  EXPECT_EQ(job_a.state(), v1::JOB_STATE_SUCCEEDED) << job_a.error_message();
  EXPECT_EQ(job_b.state(), v1::JOB_STATE_SUCCEEDED) << job_b.error_message();
  // Their runs overlapped.
  EXPECT_LT(absl::FromUnixSeconds(job_b.start_time().seconds()),
            absl::FromUnixSeconds(job_a.end_time().seconds() + 1));
  // The same spec again is answered from the cache alone.
  const double dispatched = CoordinatorMetric("transaxx_coordinator_evaluations_dispatched_total");
  const std::string jc = Submit(a);
  v1::SearchJob job_c = WaitFor(jc, Terminal);
  EXPECT_EQ(job_c.state(), v1::JOB_STATE_SUCCEEDED) << job_c.error_message();
  EXPECT_EQ(job_c.counts().evaluations_completed(), 5);
  EXPECT_EQ(job_c.counts().cache_hits(), 5);
  EXPECT_EQ(CoordinatorMetric("transaxx_coordinator_evaluations_dispatched_total"), dispatched);
  v1::ListSearchesResponse list;
  ASSERT_TRUE(stub_->ListSearches(Call().get(), v1::ListSearchesRequest(), &list).ok());
  EXPECT_EQ(list.jobs_size(), 3);
}

}  // namespace
}  // namespace transaxx
