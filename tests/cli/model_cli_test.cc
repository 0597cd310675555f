// Runs the real transaxx binary's model commands (train, eval, models) on
// Fashion-MNIST from Debian's dataset-fashion-mnist and checks what users
// and scripts rely on: files, JSON keys and exit codes.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_join.h"
#include "tests/support/cli_run.h"

namespace transaxx {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using transaxx::testing::CliRun;

// Training and evaluation run on two threads, whatever the machine.
CliRun Transaxx(std::vector<std::string> args) {
  const bool compute = args[0] == "train" || args[0] == "eval";
  args.insert(args.begin(), TRANSAXX_CLI);
  if (compute) args.push_back("--threads=2");
  return transaxx::testing::RunCli(args, absl::Seconds(240));
}

// The JSON object printed on stdout; progress lines on stderr come before it.
nlohmann::json JsonOf(const CliRun& run) {
  const size_t begin = run.output.find("\n{");
  const std::string text =
      run.output.substr(run.output.front() == '{' ? 0 : begin == std::string::npos ? 0 : begin + 1);
  return nlohmann::json::parse(text, nullptr, false);
}

class ModelCliTest : public ::testing::Test {
 protected:
  // A folder holding one model: a copy of the committed demo model (ctest
  // runs every test in a process of its own, so a model trained here would
  // be trained again for each).
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("transaxx_model_cli_test_" + std::to_string(::getpid())));
    fs::create_directories(model());
    for (const char* file : {"model.json", "model.safetensors"}) {
      fs::copy_file(fs::path(TRANSAXX_DEMO_MODEL_DIR) / file, fs::path(model()) / file);
    }
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string model() { return (*dir_ / "micro").string(); }
  static fs::path* dir_;
};
fs::path* ModelCliTest::dir_ = nullptr;

TEST_F(ModelCliTest, TrainWritesAModelDirectoryWithProvenance) {
  // Not directly in the folder, which holds exactly one model.
  const std::string out = (*dir_ / "trained" / "micro").string();
  CliRun run = Transaxx({"train", "--arch", "vit_fm_micro_patch4_28", "--dataset",
                         "fashion-mnist:train", "--limit", "1000", "--epochs", "3",
                         "--batch_size", "50", "--lr", "0.002", "--warmup_steps", "10",
                         "--eval_limit", "500", "--eval", "fashion-mnist:test", "--out", out});
  ASSERT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("epoch 3/3"));
  EXPECT_THAT(run.output, HasSubstr("fashion-mnist:test"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "model.safetensors"));
  std::ifstream in(fs::path(out) / "model.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["architecture"]["name"], "vit_fm_micro_patch4_28");
  EXPECT_EQ(j["classes"][9], "Ankle boot");
  EXPECT_EQ(j["provenance"]["images"], 1000);
  EXPECT_EQ(j["provenance"]["eval"]["n"], 500);
  // Well above chance (0.1) after 60 steps.
  EXPECT_GT(j["provenance"]["eval"]["top1"].get<double>(), 0.2);
  EXPECT_THAT(j["provenance"]["trained_by"].get<std::string>(), HasSubstr("--limit 1000"));
}

TEST_F(ModelCliTest, EvalPrintsTheDocumentedJson) {
  CliRun fp32 = Transaxx({"eval", "--model", model(), "--dataset", "fashion-mnist:test", "--limit",
                          "300", "--output", "json"});
  ASSERT_EQ(fp32.code, 0) << fp32.output;
  const nlohmann::json j = JsonOf(fp32);
  ASSERT_FALSE(j.is_discarded()) << fp32.output;
  for (const char* key : {"top1", "top5", "n", "ci95", "mean_loss", "images_per_second",
                          "precision", "model_hash"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["n"], 300);
  EXPECT_EQ(j["precision"], "fp32");
  EXPECT_GT(j["top1"].get<double>(), 0.8);  // the demo model
  EXPECT_LE(j["ci95"][0].get<double>(), j["top1"].get<double>());
  EXPECT_GE(j["ci95"][1].get<double>(), j["top1"].get<double>());

  CliRun int8 = Transaxx({"eval", "--model", model(), "--dataset", "fashion-mnist:test", "--limit",
                          "300", "--multiplier", "exact", "--calibration_samples", "256",
                          "--output", "json"});
  ASSERT_EQ(int8.code, 0) << int8.output;
  const nlohmann::json k = JsonOf(int8);
  EXPECT_EQ(k["precision"], "int8");
  EXPECT_NEAR(k["top1"].get<double>(), j["top1"].get<double>(), 0.03);

  CliRun approx = Transaxx({"eval", "--model", model(), "--dataset", "fashion-mnist:test",
                            "--limit", "300", "--multiplier", "evo:mul8s_1L2N",
                            "--multipliers_dir", TRANSAXX_EVOAPPROX_DIR, "--calibration_samples",
                            "256", "--output", "json"});
  ASSERT_EQ(approx.code, 0) << approx.output;
  EXPECT_NE(JsonOf(approx)["mean_loss"], k["mean_loss"]);
}

TEST_F(ModelCliTest, EvalTakesAPerLayerConfigAndSubsets) {
  const fs::path config = *dir_ / "config.json";
  std::ofstream(config) << R"({"default": "exact", "layers": {"blocks.0.mlp.fc1": "drum:k=3"}})";
  CliRun run = Transaxx({"eval", "--model", model(), "--dataset", "fashion-mnist:test", "--sample",
                         "100", "--seed", "3", "--config", config.string(),
                         "--calibration_samples", "128", "--output", "json"});
  ASSERT_EQ(run.code, 0) << run.output;
  EXPECT_EQ(JsonOf(run)["n"], 100);
}

TEST_F(ModelCliTest, EvalErrorsSayWhatIsWrong) {
  const fs::path config = *dir_ / "bad_config.json";
  std::ofstream(config) << R"({"default": "exact", "layers": {"blocks.9.mlp.fc1": "exact"}})";
  const std::pair<std::vector<std::string>, std::pair<int, const char*>> cases[] = {
      {{"eval", "--model", model(), "--dataset", "no-such-set:test"}, {1, "no-such-set"}},
      {{"eval", "--model", model(), "--dataset", "fashion-mnist:validation"}, {1, "train"}},
      {{"eval", "--model", "/nonexistent", "--dataset", "fashion-mnist:test"}, {1, "/nonexistent"}},
      {{"eval", "--model", model(), "--dataset", "fashion-mnist:test", "--multiplier", "evo:nope"},
       {1, "evo:nope"}},
      {{"eval", "--model", model(), "--dataset", "fashion-mnist:test", "--config", config.string()},
       {1, "blocks.9.mlp.fc1"}},
      {{"eval", "--model", model(), "--dataset", "fashion-mnist:test", "--limit", "-1"},
       {2, "--limit"}},
      {{"eval", "--model", model(), "--dataset", "fashion-mnist:test", "--multiplier", "exact",
        "--config", config.string()},
       {2, "either"}},
      {{"eval", "--dataset", "fashion-mnist:test"}, {2, "--model"}},
      {{"eval", "--model", model(), "--dataset", "fashion-mnist:test", "--bogus", "1"}, {2, "bogus"}},
  };
  for (const auto& [args, expected] : cases) {
    CliRun run = Transaxx(args);
    EXPECT_EQ(run.code, expected.first) << absl::StrJoin(args, " ") << "\n" << run.output;
    EXPECT_THAT(run.output, HasSubstr(expected.second)) << run.output;
  }
}

TEST_F(ModelCliTest, TrainErrors) {
  CliRun arch = Transaxx({"train", "--arch", "vit_huge", "--dataset", "fashion-mnist:train",
                          "--out", (*dir_ / "x").string()});
  EXPECT_EQ(arch.code, 2);
  EXPECT_THAT(arch.output, HasSubstr("vit_fm_micro_patch4_28"));
  CliRun size = Transaxx({"train", "--arch", "vit_tiny_patch16_224", "--dataset",
                          "fashion-mnist:train", "--out", (*dir_ / "x").string()});
  EXPECT_EQ(size.code, 1);
  EXPECT_THAT(size.output, HasSubstr("classes"));
  EXPECT_FALSE(fs::exists(*dir_ / "x"));
}

TEST_F(ModelCliTest, ModelsListAndDescribe) {
  CliRun list = Transaxx({"models", "list", "--models_dir", dir_->string(), "--output", "json"});
  ASSERT_EQ(list.code, 0) << list.output;
  const nlohmann::json models = nlohmann::json::parse(list.output);
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["name"], "micro");
  EXPECT_EQ(models[0]["content_hash"].get<std::string>().size(), 64u);

  CliRun describe = Transaxx({"models", "describe", "--model", model(), "--output", "json"});
  ASSERT_EQ(describe.code, 0) << describe.output;
  const nlohmann::json d = nlohmann::json::parse(describe.output);
  EXPECT_EQ(d["layers"].size(), 18u);
  EXPECT_EQ(d["layers"][0]["name"], "patch_embed.proj");
  EXPECT_EQ(d["layers"][0]["macs_per_image"], 49 * 64 * 16);
  EXPECT_EQ(d["content_hash"], models[0]["content_hash"]);
  CliRun table = Transaxx({"models", "describe", "--model", model(), "--attention_matmuls"});
  EXPECT_THAT(table.output, HasSubstr("blocks.3.attn.av"));
  EXPECT_THAT(table.output, HasSubstr("26 layers"));
}

// The committed demo model keeps what its card promises: >= 88% fp32 top-1
// on the Fashion-MNIST test split (as recorded in model.json), and int8
// exact within half a point of it.
TEST(DemoModelTest, AccuracyAsRecorded) {
  const fs::path dir = TRANSAXX_DEMO_MODEL_DIR;
  std::ifstream in(dir / "model.json");
  const nlohmann::json description = nlohmann::json::parse(in);
  const double recorded = description["provenance"]["eval"]["top1"].get<double>();
  EXPECT_GE(recorded, 0.88);
  CliRun fp32 = Transaxx({"eval", "--model", dir.string(), "--dataset", "fashion-mnist:test",
                          "--output", "json"});
  ASSERT_EQ(fp32.code, 0) << fp32.output;
  const double top1 = JsonOf(fp32)["top1"].get<double>();
  EXPECT_EQ(JsonOf(fp32)["n"], 10000);
  // Float sums may round differently on other CPUs and thread counts,
  // turning a few borderline predictions.
  EXPECT_NEAR(top1, recorded, 0.002);
  CliRun int8 = Transaxx({"eval", "--model", dir.string(), "--dataset", "fashion-mnist:test",
                          "--multiplier", "exact", "--output", "json"});
  ASSERT_EQ(int8.code, 0) << int8.output;
  EXPECT_NEAR(JsonOf(int8)["top1"].get<double>(), top1, 0.005);
}

}  // namespace
}  // namespace transaxx
