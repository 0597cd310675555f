// Starts transaxx-evaluator as a real process on loopback, serving the demo
// model, Debian's Fashion-MNIST and the EvoApprox reference tables, and
// checks the Evaluator RPCs over real gRPC: listings and model description,
// calibration (cached, persisted across a restart), evaluation equal to the
// in-process `transaxx eval`, every bad-input case, cancellation and
// deadlines, the queue limit, metrics, and a graceful shutdown with an
// evaluation in flight.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "libs/approx/catalog.h"
#include "libs/rpc/client_channel.h"
#include "tests/support/cli_run.h"
#include "tests/support/http_get.h"
#include "tests/support/subprocess.h"
#include "transaxx/v1/evaluator.grpc.pb.h"

namespace transaxx {
namespace {

namespace v1 = transaxx::v1;
using ::testing::HasSubstr;
using transaxx::testing::Subprocess;

const std::string kEvo = TRANSAXX_EVOAPPROX_DIR;
const std::string kDemoModel = TRANSAXX_DEMO_MODEL_DIR;
constexpr char kModel[] = "fashion-vit";

// A running evaluator and a stub for it.
class Evaluator {
 public:
  Evaluator(const std::string& models_dir, const std::string& state_dir,
            const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {TRANSAXX_EVALUATOR,      "--listen=127.0.0.1:0",
                                     "--metrics_listen=127.0.0.1:0", "--models_dir=" + models_dir,
                                     "--multipliers_dir=" + kEvo, "--state_dir=" + state_dir,
                                     "--threads=2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = Subprocess::Start(argv);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return;
    process_ = *std::move(p);
    auto line = process_->WaitForLine("\"msg\":\"serving\"", absl::Seconds(60));
    EXPECT_TRUE(line.ok()) << line.status() << process_->output();
    if (!line.ok()) return;
    port_ = std::atoi(transaxx::testing::JsonField(*line, "grpc_port").c_str());
    target_ = absl::StrCat("127.0.0.1:", port_);
    metrics_port_ = std::atoi(transaxx::testing::JsonField(*line, "metrics_port").c_str());
    rpc::ChannelOptions options;
    options.target = target_;
    auto channel = rpc::ClientChannel::Create(options);
    EXPECT_TRUE(channel.ok());
    stub_ = v1::Evaluator::NewStub(channel->channel());
  }
  ~Evaluator() { Stop().IgnoreError(); }
  // SIGTERM, then the exit code.
  absl::StatusOr<int> Stop(absl::Duration wait = absl::Seconds(60)) {
    if (process_ == nullptr) return absl::FailedPreconditionError("not running");
    process_->Signal(SIGTERM);
    absl::StatusOr<int> code = process_->Wait(wait);
    process_.reset();
    return code;
  }
  // Whether the server announced itself (tests stop before using stub()
  // otherwise, so a failed start cannot crash the test and leave it running).
  bool started() const { return stub_ != nullptr; }
  v1::Evaluator::Stub& stub() { return *stub_; }
  int metrics_port() const { return metrics_port_; }
  const std::string& target() const { return target_; }

 private:
  std::unique_ptr<Subprocess> process_;
  std::unique_ptr<v1::Evaluator::Stub> stub_;
  int port_ = 0, metrics_port_ = 0;
  std::string target_;
};

std::unique_ptr<grpc::ClientContext> Call(absl::Duration d = absl::Seconds(300)) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d));
  return c;
}

void ExpectError(const grpc::Status& s, grpc::StatusCode code, const std::string& needle) {
  EXPECT_EQ(s.error_code(), code) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr(needle));
}

std::string Hash(const std::string& id) {
  approx::Catalog catalog;
  EXPECT_TRUE(catalog.ImportEvoApprox(kEvo).ok());
  absl::StatusOr<approx::CatalogEntry> e = catalog.Get(id);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? e->multiplier.content_hash() : "";
}

void SetMultiplier(v1::MultiplierRef* ref, const std::string& id) {
  ref->set_id(id);
  ref->set_content_hash(Hash(id));
}

// `transaxx eval --multiplier ID` as a request: ID everywhere, the head exact.
v1::EvaluateRequest Request(const std::string& multiplier, int64_t offset, int64_t limit) {
  v1::EvaluateRequest r;
  r.mutable_model()->set_id(kModel);
  r.mutable_subset()->mutable_dataset()->set_id("fashion-mnist");
  r.mutable_subset()->set_split("test");
  r.mutable_subset()->mutable_range()->set_offset(offset);
  r.mutable_subset()->mutable_range()->set_limit(limit);
  SetMultiplier(r.mutable_configuration()->mutable_default_multiplier(), multiplier);
  v1::LayerAssignment* head = r.mutable_configuration()->add_assignments();
  head->set_layer("head");
  SetMultiplier(head->mutable_multiplier(), "exact");
  r.set_batch_size(100);
  return r;
}

// A new temporary folder whose models/ holds the demo model.
std::string FreshRoot(const std::string& name) {
  const std::string root =
      absl::StrCat(::testing::TempDir(), "/evaluator_", name, "_", getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/models");
  std::filesystem::create_directory_symlink(std::filesystem::absolute(kDemoModel),
                                            root + "/models/" + kModel);
  return root;
}

class EvaluatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(FreshRoot("suite"));
    server_ = new Evaluator(*root_ + "/models", *root_ + "/state",
                            {"--max_concurrent=1", "--max_queued=1"});
  }
  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*root_);
    delete root_;
  }
  static v1::Evaluator::Stub& stub() { return server_->stub(); }

  // Waits until GetStatus reports `running` and `queued` calls.
  static void WaitForLoad(int running, int queued) {
    for (int i = 0; i < 600; ++i) {
      v1::GetStatusResponse status;
      ASSERT_TRUE(stub().GetStatus(Call().get(), {}, &status).ok());
      if (status.running() == running && status.queued() == queued) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "load never reached " << running << " running, " << queued << " queued";
  }

  static inline std::string* root_ = nullptr;
  static inline Evaluator* server_ = nullptr;
};

TEST_F(EvaluatorTest, ListsModelsDatasetsAndMultipliers) {
  v1::ListModelsResponse models;
  ASSERT_TRUE(stub().ListModels(Call().get(), {}, &models).ok());
  ASSERT_EQ(models.models_size(), 1);
  const v1::ModelInfo& m = models.models(0);
  EXPECT_EQ(m.ref().id(), kModel);
  EXPECT_EQ(m.ref().content_hash().size(), 64u);
  EXPECT_EQ(m.architecture(), "vit_fm_micro_patch4_28");
  EXPECT_THAT(m.input_shape().dims(), ::testing::ElementsAre(1, 28, 28));
  EXPECT_EQ(m.num_classes(), 10);
  EXPECT_GT(m.parameter_count(), 10000);

  v1::ListDatasetsResponse datasets;
  ASSERT_TRUE(stub().ListDatasets(Call().get(), {}, &datasets).ok());
  const v1::DatasetInfo* fashion = nullptr;
  for (const auto& d : datasets.datasets()) {
    if (d.ref().id() == "fashion-mnist") fashion = &d;
  }
  ASSERT_NE(fashion, nullptr);
  EXPECT_EQ(fashion->format(), v1::DATASET_FORMAT_IDX);
  EXPECT_EQ(fashion->ref().content_hash().size(), 64u);
  ASSERT_EQ(fashion->splits_size(), 2);
  EXPECT_EQ(fashion->splits(0).name(), "test");
  EXPECT_EQ(fashion->splits(0).size(), 10000);
  EXPECT_EQ(fashion->splits(1).size(), 60000);
  EXPECT_THAT(fashion->image_shape().dims(), ::testing::ElementsAre(1, 28, 28));

  v1::ListEvaluatorMultipliersRequest request;
  request.mutable_filter()->add_id_globs("evo:mul8s_1L2*");
  v1::ListEvaluatorMultipliersResponse multipliers;
  ASSERT_TRUE(stub().ListMultipliers(Call().get(), request, &multipliers).ok());
  ASSERT_EQ(multipliers.multipliers_size(), 3);
  for (const auto& info : multipliers.multipliers()) {
    EXPECT_EQ(info.structure().kernel_path(), v1::KERNEL_PATH_OPERAND_MASK) << info.ref().id();
    EXPECT_EQ(info.ref().content_hash(), Hash(info.ref().id()));
    EXPECT_FALSE(info.has_hardware());
  }
  request.mutable_filter()->set_id_globs(0, "evo:[mul");
  ExpectError(stub().ListMultipliers(Call().get(), request, &multipliers),
              grpc::StatusCode::INVALID_ARGUMENT, "id_globs[0]");
}

TEST_F(EvaluatorTest, DescribesTheApproximableLayers) {
  v1::DescribeModelRequest request;
  request.mutable_model()->set_id(kModel);
  v1::DescribeModelResponse response;
  ASSERT_TRUE(stub().DescribeModel(Call().get(), request, &response).ok());
  int64_t linear = 0, attention = 0;
  std::vector<std::string> names;
  for (const auto& l : response.layers()) {
    names.push_back(l.name());
    EXPECT_GT(l.macs_per_image(), 0) << l.name();
    const bool att = l.kind() == v1::LAYER_KIND_ATTENTION_QK || l.kind() == v1::LAYER_KIND_ATTENTION_AV;
    (att ? attention : linear) += l.macs_per_image();
    EXPECT_EQ(l.exact_by_default(), l.name() == "head") << l.name();
  }
  EXPECT_EQ(names.front(), "patch_embed.proj");
  EXPECT_EQ(names.back(), "head");
  EXPECT_THAT(names, ::testing::Contains("blocks.0.attn.qk"));
  EXPECT_EQ(response.linear_conv_macs_per_image(), linear);
  EXPECT_EQ(response.attention_macs_per_image(), attention);

  request.mutable_model()->set_id("nope");
  ExpectError(stub().DescribeModel(Call().get(), request, &response), grpc::StatusCode::NOT_FOUND,
              "nope");
  request.mutable_model()->set_id(kModel);
  request.mutable_model()->set_content_hash(std::string(64, '0'));
  ExpectError(stub().DescribeModel(Call().get(), request, &response),
              grpc::StatusCode::FAILED_PRECONDITION, "content_hash");
}

nlohmann::json CliEval(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {TRANSAXX_CLI, "eval", "--model", kDemoModel, "--dataset",
                                   "fashion-mnist:test", "--batch_size", "100", "--threads", "2",
                                   "--output", "json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const transaxx::testing::CliRun run = transaxx::testing::RunCli(argv, absl::Seconds(300));
  EXPECT_EQ(run.code, 0) << run.output;
  const std::string text = run.output.substr(run.output.find('{'));
  return nlohmann::json::parse(text, nullptr, false);
}

TEST_F(EvaluatorTest, EvaluationEqualsTheInProcessEval) {
  v1::EvaluateResponse response;
  grpc::Status s = stub().Evaluate(Call().get(), Request("evo:mul8s_1L2N", 0, 600), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const nlohmann::json local = CliEval(
      {"--limit", "600", "--multiplier", "evo:mul8s_1L2N", "--multipliers_dir", kEvo});
  EXPECT_EQ(response.accuracy().sample_count(), 600);
  EXPECT_EQ(response.accuracy().sample_count(), local["n"].get<int64_t>());
  EXPECT_DOUBLE_EQ(response.accuracy().top1(), local["top1"].get<double>());
  EXPECT_DOUBLE_EQ(response.accuracy().top5(), local["top5"].get<double>());
  EXPECT_NEAR(response.accuracy().mean_loss(), local["mean_loss"].get<double>(), 1e-9);
  EXPECT_GT(response.accuracy().top1(), 0.7);
  EXPECT_EQ(response.config_hash().size(), 64u);
  EXPECT_EQ(response.calibration_id().size(), 64u);
  EXPECT_EQ(response.device().kind(), v1::DEVICE_KIND_CPU);
  EXPECT_GT(response.images_per_second(), 0);

  v1::EvaluateRequest fp32 = Request("exact", 600, 400);
  fp32.clear_configuration();
  fp32.set_precision(v1::PRECISION_FP32);
  ASSERT_TRUE(stub().Evaluate(Call().get(), fp32, &response).ok());
  const nlohmann::json local_fp32 = CliEval({"--offset", "600", "--limit", "400"});
  EXPECT_DOUBLE_EQ(response.accuracy().top1(), local_fp32["top1"].get<double>());
  EXPECT_TRUE(response.config_hash().empty());

  // The same arithmetic spelled differently has the same hash.
  v1::EvaluateRequest spelled = Request("evo:mul8s_1L2N", 0, 50);
  v1::EvaluateResponse first, second;
  ASSERT_TRUE(stub().Evaluate(Call().get(), spelled, &first).ok());
  SetMultiplier(spelled.mutable_configuration()->mutable_default_multiplier(), "mask:a=7,b=7");
  ASSERT_TRUE(stub().Evaluate(Call().get(), spelled, &second).ok());
  EXPECT_EQ(first.config_hash(), second.config_hash());
  EXPECT_EQ(first.accuracy().top1_correct(), second.accuracy().top1_correct());
}

TEST_F(EvaluatorTest, TheCliTalksToTheEvaluator) {
  const std::string server = "--server=" + server_->target();
  transaxx::testing::CliRun list =
      transaxx::testing::RunCli({TRANSAXX_CLI, "models", "list", server});
  EXPECT_EQ(list.code, 0) << list.output;
  EXPECT_THAT(list.output, HasSubstr("vit_fm_micro_patch4_28"));
  transaxx::testing::CliRun describe = transaxx::testing::RunCli(
      {TRANSAXX_CLI, "models", "describe", server, "--model", kModel, "--output", "json"});
  ASSERT_EQ(describe.code, 0) << describe.output;
  const nlohmann::json layers = nlohmann::json::parse(describe.output);
  EXPECT_EQ(layers["layers"].front()["name"], "patch_embed.proj");

  const std::vector<std::string> flags = {"--limit", "300", "--multiplier", "evo:mul8s_1KV8",
                                          "--multipliers_dir", kEvo};
  std::vector<std::string> remote = {TRANSAXX_CLI, "eval", server, "--model", kModel,
                                     "--dataset", "fashion-mnist:test", "--batch_size", "100",
                                     "--output", "json"};
  remote.insert(remote.end(), flags.begin(), flags.end());
  transaxx::testing::CliRun run = transaxx::testing::RunCli(remote, absl::Seconds(300));
  ASSERT_EQ(run.code, 0) << run.output;
  const nlohmann::json there = nlohmann::json::parse(run.output.substr(run.output.find('{')));
  const nlohmann::json here = CliEval(flags);
  EXPECT_EQ(there["n"], here["n"]);
  EXPECT_EQ(there["top1"], here["top1"]);
  EXPECT_EQ(there["precision"], "int8");

  transaxx::testing::CliRun missing = transaxx::testing::RunCli(
      {TRANSAXX_CLI, "eval", server, "--model", "nope", "--dataset", "fashion-mnist:test"});
  EXPECT_NE(missing.code, 0);
  EXPECT_THAT(missing.output, HasSubstr("nope"));
}

TEST_F(EvaluatorTest, CalibrationIsCachedAndSurvivesARestart) {
  v1::CalibrateRequest request;
  request.mutable_model()->set_id(kModel);
  v1::DatasetSubset* subset = request.mutable_calibration()->mutable_subset();
  subset->mutable_dataset()->set_id("fashion-mnist");
  subset->set_split("train");
  subset->mutable_stratified()->set_size(300);
  subset->mutable_stratified()->set_seed(7);
  request.set_include_attention_matmuls(true);
  v1::CalibrateResponse computed, cached;
  grpc::Status s = stub().Calibrate(Call().get(), request, &computed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(computed.cached());
  ASSERT_TRUE(stub().Calibrate(Call().get(), request, &cached).ok());
  EXPECT_TRUE(cached.cached());
  EXPECT_EQ(cached.calibration_id(), computed.calibration_id());
  ASSERT_EQ(cached.layers_size(), computed.layers_size());
  for (int i = 0; i < cached.layers_size(); ++i) {
    EXPECT_EQ(cached.layers(i).input_amax(), computed.layers(i).input_amax());
    EXPECT_GT(cached.layers(i).input_amax(), 0) << cached.layers(i).layer();
    EXPECT_DOUBLE_EQ(cached.layers(i).input_scale(), cached.layers(i).input_amax() / 127);
  }
  bool saw_attention = false;
  for (const auto& l : computed.layers()) {
    if (l.layer() == "blocks.0.attn.qk") {
      saw_attention = true;
      EXPECT_EQ(l.weight_amax_size(), 1);
    }
  }
  EXPECT_TRUE(saw_attention);

  // A restarted evaluator with the same state folder finds it on disk.
  const std::string state = *root_ + "/state";
  {
    Evaluator restarted(*root_ + "/models", state);
    ASSERT_TRUE(restarted.started());
    v1::CalibrateResponse again;
    ASSERT_TRUE(restarted.stub().Calibrate(Call().get(), request, &again).ok());
    EXPECT_TRUE(again.cached());
    EXPECT_EQ(again.calibration_id(), computed.calibration_id());
    EXPECT_EQ(again.layers(0).input_amax(), computed.layers(0).input_amax());
  }
  // Per-tensor weights come with their scales; the recipe changes the id.
  request.mutable_calibration()->set_weight_granularity(v1::WEIGHT_GRANULARITY_PER_TENSOR);
  v1::CalibrateResponse per_tensor;
  ASSERT_TRUE(stub().Calibrate(Call().get(), request, &per_tensor).ok());
  EXPECT_NE(per_tensor.calibration_id(), computed.calibration_id());
  for (const auto& l : per_tensor.layers()) {
    EXPECT_EQ(l.weight_amax_size(), 1) << l.layer();
    EXPECT_GT(l.weight_amax(0), 0) << l.layer();
  }
}

TEST_F(EvaluatorTest, BadInputIsRefusedByNameAndTheServerKeepsServing) {
  const grpc::StatusCode kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const grpc::StatusCode kPrecondition = grpc::StatusCode::FAILED_PRECONDITION;
  struct Case {
    std::string what;
    std::function<void(v1::EvaluateRequest&)> change;
    grpc::StatusCode code;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"no model", [](auto& r) { r.mutable_model()->clear_id(); }, kInvalid, "model.id"},
      {"unknown model", [](auto& r) { r.mutable_model()->set_id("nope"); }, kInvalid, "nope"},
      {"model hash", [](auto& r) { r.mutable_model()->set_content_hash(std::string(64, 'a')); },
       kPrecondition, "model.content_hash"},
      {"no subset", [](auto& r) { r.clear_subset(); }, kInvalid, "subset"},
      {"unknown dataset", [](auto& r) { r.mutable_subset()->mutable_dataset()->set_id("nope"); },
       kInvalid, "subset.dataset.id"},
      {"dataset hash",
       [](auto& r) { r.mutable_subset()->mutable_dataset()->set_content_hash(std::string(64, 'b')); },
       kPrecondition, "subset.dataset.content_hash"},
      {"unknown split", [](auto& r) { r.mutable_subset()->set_split("val"); }, kInvalid, "val"},
      {"range beyond", [](auto& r) { r.mutable_subset()->mutable_range()->set_offset(9999); },
       kInvalid, "subset.range"},
      {"sample too big", [](auto& r) { r.mutable_subset()->mutable_stratified()->set_size(20000); },
       kInvalid, "subset.stratified.size"},
      {"unknown layer",
       [](auto& r) { r.mutable_configuration()->mutable_assignments(0)->set_layer("blocks.99.mlp.fc1"); },
       kInvalid, "blocks.99.mlp.fc1"},
      {"layer twice",
       [](auto& r) { *r.mutable_configuration()->add_assignments() = r.configuration().assignments(0); },
       kInvalid, "listed twice"},
      {"no content hash",
       [](auto& r) {
         r.mutable_configuration()->mutable_default_multiplier()->clear_content_hash();
       },
       kInvalid, "content_hash"},
      {"unknown multiplier",
       [](auto& r) { r.mutable_configuration()->mutable_default_multiplier()->set_id("evo:nope"); },
       kInvalid, "evo:nope"},
      {"multiplier hash",
       [](auto& r) {
         r.mutable_configuration()->mutable_default_multiplier()->set_content_hash(
             Hash("evo:mul8s_1L2J"));
       },
       kPrecondition, "evo:mul8s_1L2N"},
      {"uncovered layer", [](auto& r) { r.mutable_configuration()->clear_default_multiplier(); },
       kInvalid, "patch_embed.proj"},
      {"attention not included",
       [](auto& r) {
         r.mutable_configuration()->mutable_assignments(0)->set_layer("blocks.0.attn.qk");
       },
       kInvalid, "blocks.0.attn.qk"},
      {"fp32 with a configuration", [](auto& r) { r.set_precision(v1::PRECISION_FP32); }, kInvalid,
       "PRECISION_FP32"},
      {"negative batch", [](auto& r) { r.set_batch_size(-1); }, kInvalid, "batch_size"},
      {"percentile with max",
       [](auto& r) {
         r.mutable_calibration()->set_method(v1::CALIBRATION_METHOD_MAX);
         r.mutable_calibration()->set_percentile(99);
       },
       kInvalid, "calibration.percentile"},
      {"bins", [](auto& r) { r.mutable_calibration()->set_histogram_bins(10); }, kInvalid,
       "histogram_bins"},
  };
  for (const Case& c : cases) {
    v1::EvaluateRequest r = Request("evo:mul8s_1L2N", 0, 10);
    if (c.what == "sample too big") r.mutable_subset()->mutable_stratified()->set_size(1);
    c.change(r);
    v1::EvaluateResponse response;
    SCOPED_TRACE(c.what);
    ExpectError(stub().Evaluate(Call().get(), r, &response), c.code, c.needle);
  }
  v1::CalibrateRequest calibrate;
  calibrate.mutable_model()->set_id(kModel);
  v1::CalibrateResponse calibrated;
  ExpectError(stub().Calibrate(Call().get(), calibrate, &calibrated), kInvalid,
              "calibration.subset");
  v1::ListModelsResponse models;
  EXPECT_TRUE(stub().ListModels(Call().get(), {}, &models).ok());
  v1::EvaluateResponse ok;
  EXPECT_TRUE(stub().Evaluate(Call().get(), Request("evo:mul8s_1L2N", 0, 10), &ok).ok());
}

// A whole training split in float, in batches of 8: long enough to be
// cancelled in the middle, and each batch short even in a sanitizer build,
// so "stops within a batch" is well within the test's limits.
v1::EvaluateRequest LongRequest() {
  v1::EvaluateRequest r = Request("exact", 0, 0);
  r.clear_configuration();
  r.set_precision(v1::PRECISION_FP32);
  r.mutable_subset()->set_split("train");
  r.mutable_subset()->clear_range();
  r.set_batch_size(8);
  return r;
}

TEST_F(EvaluatorTest, CancelledAndExpiredCallsStopPromptly) {
  grpc::ClientContext context;
  v1::EvaluateResponse response;
  auto call = std::async(std::launch::async, [&] {
    return stub().Evaluate(&context, LongRequest(), &response);
  });
  WaitForLoad(1, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto cancelled_at = std::chrono::steady_clock::now();
  context.TryCancel();
  EXPECT_EQ(call.get().error_code(), grpc::StatusCode::CANCELLED);
  // The server stops computing within a second (one batch).
  WaitForLoad(0, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(2));

  auto expiring = Call(absl::Seconds(2));
  ExpectError(stub().Evaluate(expiring.get(), LongRequest(), &response),
              grpc::StatusCode::DEADLINE_EXCEEDED, "");
  const auto expired_at = std::chrono::steady_clock::now();
  WaitForLoad(0, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - expired_at, std::chrono::seconds(2));
}

TEST_F(EvaluatorTest, TheQueueIsBounded) {
  grpc::ClientContext running_context, queued_context;
  v1::EvaluateResponse a, b, c;
  auto running = std::async(std::launch::async, [&] {
    return stub().Evaluate(&running_context, LongRequest(), &a);
  });
  WaitForLoad(1, 0);
  auto queued = std::async(std::launch::async, [&] {
    return stub().Evaluate(&queued_context, LongRequest(), &b);
  });
  WaitForLoad(1, 1);
  ExpectError(stub().Evaluate(Call().get(), LongRequest(), &c),
              grpc::StatusCode::RESOURCE_EXHAUSTED, "busy");
  queued_context.TryCancel();
  running_context.TryCancel();
  EXPECT_EQ(queued.get().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(running.get().error_code(), grpc::StatusCode::CANCELLED);
  WaitForLoad(0, 0);
}

TEST_F(EvaluatorTest, MetricsCountEvaluationsByOutcome) {
  v1::EvaluateResponse response;
  ASSERT_TRUE(stub().Evaluate(Call().get(), Request("exact", 0, 20), &response).ok());
  absl::StatusOr<transaxx::testing::HttpResponse> metrics =
      transaxx::testing::HttpGet(server_->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(metrics->body, HasSubstr("transaxx_evaluator_evaluations_total{outcome=\"OK\"}"));
  EXPECT_THAT(metrics->body, HasSubstr("transaxx_evaluator_evaluation_seconds_count"));
  EXPECT_THAT(metrics->body, HasSubstr("transaxx_evaluator_device{kind=\"cpu\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("transaxx_evaluator_cache_bytes"));
}

std::vector<std::string> LoadedSplits(v1::Evaluator::Stub& stub) {
  v1::GetStatusResponse status;
  EXPECT_TRUE(stub.GetStatus(Call().get(), {}, &status).ok());
  std::vector<std::string> out;
  for (const auto& s : status.loaded_splits()) out.push_back(s.dataset().id() + ":" + s.split());
  return out;
}

// Fashion-MNIST's test split holds 7.8 MB of pixels, its train split 47 MB:
// under a 20 MB budget, loading one drops the other once it is idle.
TEST(EvaluatorBudgetTest, IdleSplitsAreDroppedOverTheBudget) {
  const std::string root = FreshRoot("budget");
  {
    Evaluator server(root + "/models", root + "/state", {"--cache_budget_bytes=20000000"});
    ASSERT_TRUE(server.started());
    v1::EvaluateRequest fp32 = Request("exact", 0, 100);
    fp32.clear_configuration();
    fp32.set_precision(v1::PRECISION_FP32);
    v1::EvaluateResponse response;
    ASSERT_TRUE(server.stub().Evaluate(Call().get(), fp32, &response).ok());
    EXPECT_THAT(LoadedSplits(server.stub()), ::testing::ElementsAre("fashion-mnist:test"));

    v1::CalibrateRequest calibrate;
    calibrate.mutable_model()->set_id(kModel);
    v1::DatasetSubset* subset = calibrate.mutable_calibration()->mutable_subset();
    subset->mutable_dataset()->set_id("fashion-mnist");
    subset->set_split("train");
    subset->mutable_stratified()->set_size(100);
    v1::CalibrateResponse calibrated;
    ASSERT_TRUE(server.stub().Calibrate(Call().get(), calibrate, &calibrated).ok());
    EXPECT_THAT(LoadedSplits(server.stub()), ::testing::ElementsAre("fashion-mnist:train"));

    ASSERT_TRUE(server.stub().Evaluate(Call().get(), fp32, &response).ok());
    EXPECT_THAT(LoadedSplits(server.stub()), ::testing::ElementsAre("fashion-mnist:test"));
    v1::GetStatusResponse status;
    ASSERT_TRUE(server.stub().GetStatus(Call().get(), {}, &status).ok());
    EXPECT_EQ(status.cache_budget_bytes(), 20000000);
    EXPECT_EQ(status.loaded_models_size(), 1);
  }
  std::filesystem::remove_all(root);
}

TEST(EvaluatorFlagsTest, AMissingOrMalformedDeviceStopsTheService) {
  for (const auto& [flag, needle] : std::vector<std::pair<std::string, std::string>>{
           {"--device=cuda:99", "LibTorch sees"}, {"--device=tpu", "not auto, cpu, cuda"}}) {
    const transaxx::testing::CliRun run = transaxx::testing::RunCli(
        {TRANSAXX_EVALUATOR, "--models_dir=" + kDemoModel, "--listen=127.0.0.1:0",
         "--metrics_listen=", flag});
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_THAT(run.output, HasSubstr(needle));
  }
}

TEST(EvaluatorShutdownTest, AnEvaluationInFlightFinishesBeforeExit) {
  const std::string root = FreshRoot("shutdown");
  {
    // A shutdown timeout beyond any evaluation time, however busy the machine.
    Evaluator server(root + "/models", root + "/state", {"--shutdown_timeout=600s"});
    ASSERT_TRUE(server.started());
    // Only needs to be in flight at SIGTERM: small, and short batches.
    v1::EvaluateRequest r = Request("exact", 0, 2000);
    r.clear_configuration();
    r.set_precision(v1::PRECISION_FP32);
    r.set_batch_size(8);
    v1::EvaluateResponse response;
    auto call = std::async(std::launch::async, [&] {
      return server.stub().Evaluate(Call().get(), r, &response);
    });
    bool in_flight = false;
    for (int i = 0; i < 600 && !in_flight; ++i) {
      v1::GetStatusResponse status;
      ASSERT_TRUE(server.stub().GetStatus(Call().get(), {}, &status).ok());
      in_flight = status.running() == 1;
      if (!in_flight) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(in_flight);
    // The call finishes first, however long a busy machine takes for it.
    absl::StatusOr<int> code = server.Stop(absl::Seconds(500));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0);
    const grpc::Status s = call.get();
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.accuracy().sample_count(), 2000);
  }
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace transaxx
