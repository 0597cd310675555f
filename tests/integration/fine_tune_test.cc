// Evaluator.FineTune over real gRPC against a transaxx-evaluator process on
// loopback, serving the demo model, Debian's Fashion-MNIST and the EvoApprox
// tables: a few steps lower the training loss and publish a new model
// version whose accuracy Evaluate reproduces; table-aware gradients; a
// cancelled run and bad requests leave nothing behind.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/approx/catalog.h"
#include "libs/rpc/client_channel.h"
#include "tests/support/service_process.h"
#include "transaxx/v1/evaluator.grpc.pb.h"

namespace transaxx {
namespace {

namespace v1 = transaxx::v1;
namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kEvo = TRANSAXX_EVOAPPROX_DIR;
constexpr char kModel[] = "fashion-vit";

std::unique_ptr<grpc::ClientContext> Call(absl::Duration d = absl::Seconds(1200)) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d));
  return c;
}

void SetMultiplier(v1::MultiplierRef* ref, const std::string& id) {
  static const approx::Catalog* catalog = [] {
    auto* c = new approx::Catalog();
    EXPECT_TRUE(c->ImportEvoApprox(kEvo).ok());
    return c;
  }();
  absl::StatusOr<approx::CatalogEntry> e = catalog->Get(id);
  ASSERT_TRUE(e.ok()) << e.status();
  ref->set_id(id);
  ref->set_content_hash(e->multiplier.content_hash());
}

// Every layer on mul8s_1L2N, the head exact: the aggressive configuration.
v1::Configuration Aggressive() {
  v1::Configuration c;
  SetMultiplier(c.mutable_default_multiplier(), "evo:mul8s_1L2N");
  v1::LayerAssignment* head = c.add_assignments();
  head->set_layer("head");
  SetMultiplier(head->mutable_multiplier(), "exact");
  return c;
}

void SetRange(v1::DatasetSubset* s, const std::string& split, int64_t offset, int64_t limit) {
  s->mutable_dataset()->set_id("fashion-mnist");
  s->set_split(split);
  s->mutable_range()->set_offset(offset);
  s->mutable_range()->set_limit(limit);
}

v1::FineTuneRequest Request() {
  v1::FineTuneRequest r;
  r.mutable_model()->set_id(kModel);
  *r.mutable_configuration() = Aggressive();
  SetRange(r.mutable_calibration()->mutable_subset(), "train", 0, 256);
  SetRange(r.mutable_train_subset(), "train", 0, 256);
  SetRange(r.mutable_validation_subset(), "test", 0, 200);
  r.set_steps(16);
  r.set_batch_size(32);
  r.mutable_optimizer()->set_learning_rate(3e-4);
  r.mutable_schedule()->set_kind(v1::LR_SCHEDULE_KIND_CONSTANT);
  r.set_progress_interval_steps(4);
  return r;
}

// Evaluate of `model` with the request's configuration and calibration.
v1::EvaluateResponse EvaluateWith(v1::Evaluator::Stub& stub, const v1::FineTuneRequest& ft,
                                  const v1::ModelRef& model, const v1::DatasetSubset& subset) {
  v1::EvaluateRequest r;
  *r.mutable_model() = model;
  *r.mutable_subset() = subset;
  *r.mutable_configuration() = ft.configuration();
  *r.mutable_calibration() = ft.calibration();
  r.set_batch_size(32);
  v1::EvaluateResponse out;
  const grpc::Status s = stub.Evaluate(Call().get(), r, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

struct FineTuneRun {
  grpc::Status status;
  std::vector<v1::FineTuneProgress> progress;
  v1::FineTuneResult result;
  bool has_result = false;
};

FineTuneRun FineTune(v1::Evaluator::Stub& stub, const v1::FineTuneRequest& request) {
  FineTuneRun run;
  auto context = Call();
  auto reader = stub.FineTune(context.get(), request);
  v1::FineTuneEvent event;
  while (reader->Read(&event)) {
    if (event.has_progress()) run.progress.push_back(event.progress());
    if (event.has_result()) {
      run.result = event.result();
      run.has_result = true;
    }
  }
  run.status = reader->Finish();
  return run;
}

// Every entry of the models folder, hidden ones included.
std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

class FineTuneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(absl::StrCat(::testing::TempDir(), "/fine_tune_", getpid()));
    fs::remove_all(*root_);
    fs::create_directories(*root_ + "/models/" + kModel);
    // A copy, not a link: fine-tuned models are written beside it.
    for (const char* f : {"model.json", "model.safetensors"}) {
      fs::copy_file(fs::path(TRANSAXX_DEMO_MODEL_DIR) / f, fs::path(*root_) / "models" / kModel / f);
    }
    auto p = testing::ServiceProcess::Start(
        {TRANSAXX_EVALUATOR, "--listen=127.0.0.1:0", "--metrics_listen=",
         "--models_dir=" + *root_ + "/models", "--multipliers_dir=" + kEvo,
         "--state_dir=" + *root_ + "/state", "--threads=2", "--max_concurrent=2"});
    ASSERT_TRUE(p.ok()) << p.status();
    server_ = p->release();
    rpc::ChannelOptions options;
    options.target = server_->target();
    auto channel = rpc::ClientChannel::Create(options);
    ASSERT_TRUE(channel.ok());
    stub_ = v1::Evaluator::NewStub(channel->channel()).release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    delete server_;
    fs::remove_all(*root_);
    delete root_;
  }
  void SetUp() override { ASSERT_NE(stub_, nullptr) << "the evaluator did not start"; }
  static std::string models() { return *root_ + "/models"; }

  static inline std::string* root_ = nullptr;
  static inline testing::ServiceProcess* server_ = nullptr;
  static inline v1::Evaluator::Stub* stub_ = nullptr;
};

TEST_F(FineTuneTest, AFewStepsLowerTheLossAndPublishAModelEvaluateReproduces) {
  const v1::FineTuneRequest request = Request();
  v1::ModelRef base;
  base.set_id(kModel);
  const v1::EvaluateResponse before =
      EvaluateWith(*stub_, request, base, request.train_subset());

  const FineTuneRun run = FineTune(*stub_, request);
  ASSERT_TRUE(run.status.ok()) << run.status.error_message();
  ASSERT_TRUE(run.has_result);
  const v1::FineTuneResult& r = run.result;
  ASSERT_EQ(run.progress.size(), 4u);
  for (size_t i = 0; i < run.progress.size(); ++i) {
    EXPECT_EQ(run.progress[i].step(), 4 * static_cast<int64_t>(i + 1));
    EXPECT_EQ(run.progress[i].progress().total(), 16);
    EXPECT_EQ(run.progress[i].progress().unit(), "steps");
    EXPECT_GT(run.progress[i].loss(), 0);
    EXPECT_NEAR(run.progress[i].learning_rate(), 3e-4, 1e-12);
    EXPECT_GT(run.progress[i].images_per_second(), 0);
  }
  EXPECT_EQ(r.steps(), 16);
  EXPECT_EQ(r.base_model().id(), kModel);
  EXPECT_EQ(r.base_model().content_hash(), before.model().content_hash());
  EXPECT_NE(r.model().content_hash(), r.base_model().content_hash());
  EXPECT_EQ(r.model().id(), absl::StrCat(kModel, "-ft-", r.model().content_hash().substr(0, 8)));
  EXPECT_EQ(r.config_hash(), before.config_hash());

  // The new version is listed, describes its origin, and Evaluate gives
  // exactly the validation accuracy the run reported, with the recalibrated
  // ranges the run stored.
  v1::ListModelsResponse listed;
  ASSERT_TRUE(stub_->ListModels(Call().get(), {}, &listed).ok());
  bool found = false;
  for (const auto& m : listed.models()) {
    if (m.ref().id() == r.model().id()) {
      found = true;
      EXPECT_EQ(m.ref().content_hash(), r.model().content_hash());
      EXPECT_THAT(m.description(), HasSubstr("fine-tuned from fashion-vit"));
    }
  }
  EXPECT_TRUE(found);
  std::ifstream json(models() + "/" + r.model().id() + "/model.json");
  const nlohmann::json description = nlohmann::json::parse(json);
  EXPECT_EQ(description["provenance"]["fine_tuned_from"]["content_hash"],
            r.base_model().content_hash());
  EXPECT_EQ(description["provenance"]["fine_tuning"]["config_hash"], r.config_hash());

  const v1::EvaluateResponse base_validation =
      EvaluateWith(*stub_, request, base, request.validation_subset());
  EXPECT_EQ(r.validation_before().top1_correct(), base_validation.accuracy().top1_correct());
  EXPECT_DOUBLE_EQ(r.validation_before().mean_loss(), base_validation.accuracy().mean_loss());
  const v1::EvaluateResponse tuned_validation =
      EvaluateWith(*stub_, request, r.model(), request.validation_subset());
  EXPECT_EQ(tuned_validation.calibration_id(), r.calibration_id());
  EXPECT_EQ(r.validation_after().top1_correct(), tuned_validation.accuracy().top1_correct());
  EXPECT_DOUBLE_EQ(r.validation_after().mean_loss(), tuned_validation.accuracy().mean_loss());

  // Training lowered the loss on the training images.
  const v1::EvaluateResponse after =
      EvaluateWith(*stub_, request, r.model(), request.train_subset());
  EXPECT_LT(after.accuracy().mean_loss(), before.accuracy().mean_loss());
  EXPECT_GE(after.accuracy().top1_correct(), before.accuracy().top1_correct());
}

TEST_F(FineTuneTest, TableAwareGradientsTrainToAnExplicitIdWhichIsThenTaken) {
  v1::FineTuneRequest request = Request();
  request.set_steps(4);
  request.set_gradient_mode(v1::GRADIENT_MODE_TABLE_AWARE);
  request.set_output_model_id("fashion-vit-table");
  request.clear_validation_subset();
  const FineTuneRun run = FineTune(*stub_, request);
  ASSERT_TRUE(run.status.ok()) << run.status.error_message();
  EXPECT_EQ(run.result.model().id(), "fashion-vit-table");
  EXPECT_FALSE(run.result.has_validation_before());
  EXPECT_TRUE(fs::exists(models() + "/fashion-vit-table/model.safetensors"));
  std::ifstream json(models() + "/fashion-vit-table/model.json");
  EXPECT_EQ(nlohmann::json::parse(json)["provenance"]["fine_tuning"]["gradient_mode"],
            "GRADIENT_MODE_TABLE_AWARE");

  const FineTuneRun again = FineTune(*stub_, request);
  EXPECT_EQ(again.status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << again.status.error_message();
  EXPECT_THAT(again.status.error_message(), HasSubstr("output_model_id"));
  EXPECT_TRUE(again.progress.empty());
}

TEST_F(FineTuneTest, ACancelledRunLeavesNothingBehind) {
  const std::set<std::string> before = Entries(models());
  v1::FineTuneRequest request = Request();
  request.set_steps(100000);
  request.set_progress_interval_steps(1);
  grpc::ClientContext context;
  auto reader = stub_->FineTune(&context, request);
  v1::FineTuneEvent event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_TRUE(event.has_progress());
  context.TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The server notices within a step; give it a few seconds under load.
  for (int i = 0; i < 300; ++i) {
    v1::GetStatusResponse status;
    ASSERT_TRUE(stub_->GetStatus(Call().get(), {}, &status).ok());
    if (status.running() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Entries(models()), before);
}

TEST_F(FineTuneTest, BadRequestsAreRefusedByName) {
  const std::set<std::string> before = Entries(models());
  struct Case {
    std::string name;
    std::function<void(v1::FineTuneRequest&)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"unknown model", [](auto& r) { r.mutable_model()->set_id("nope"); }, "model.id"},
      {"no configuration", [](auto& r) { r.clear_configuration(); }, "configuration"},
      {"no training images", [](auto& r) { r.clear_train_subset(); }, "train_subset"},
      {"empty split", [](auto& r) { r.mutable_train_subset()->set_split(""); }, "train_subset.split"},
      {"unknown split", [](auto& r) { r.mutable_train_subset()->set_split("nope"); },
       "train_subset.split"},
      {"learning rate 0", [](auto& r) { r.mutable_optimizer()->set_learning_rate(0); },
       "optimizer.learning_rate"},
      {"negative learning rate", [](auto& r) { r.mutable_optimizer()->set_learning_rate(-1); },
       "optimizer.learning_rate"},
      {"zero steps", [](auto& r) { r.set_steps(0); }, "steps"},
      {"negative epochs", [](auto& r) { r.set_epochs(-0.5); }, "epochs"},
      {"no length", [](auto& r) { r.clear_length(); }, "length"},
      {"momentum 1", [](auto& r) { r.mutable_optimizer()->set_momentum(1); },
       "optimizer.momentum"},
      {"negative batch", [](auto& r) { r.set_batch_size(-1); }, "batch_size"},
      {"bad output id", [](auto& r) { r.set_output_model_id("../x"); }, "output_model_id"},
      {"floor above peak", [](auto& r) { r.mutable_schedule()->set_min_learning_rate(1); },
       "schedule.min_learning_rate"},
  };
  for (const Case& c : cases) {
    v1::FineTuneRequest request = Request();
    c.change(request);
    const FineTuneRun run = FineTune(*stub_, request);
    EXPECT_EQ(run.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.name << ": " << run.status.error_message();
    EXPECT_THAT(run.status.error_message(), HasSubstr(c.field)) << c.name;
    EXPECT_TRUE(run.progress.empty()) << c.name;
  }
  EXPECT_EQ(Entries(models()), before);
}

}  // namespace
}  // namespace transaxx
