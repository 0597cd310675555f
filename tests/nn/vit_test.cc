// The ViT module, its weights, model directories, quantization, evaluation
// and training, on small models and synthetic images.
#include "libs/nn/vit.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libs/approx/catalog.h"
#include "libs/nn/approx_config.h"
#include "libs/nn/evaluate.h"
#include "libs/nn/model_dir.h"
#include "libs/nn/quantized_model.h"
#include "libs/nn/safetensors.h"
#include "libs/nn/train.h"
#include "libs/nn/weights.h"

namespace transaxx::nn {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class VitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(1);
    dir_ = fs::temp_directory_path() /
           ("transaxx_vit_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static VitConfig Micro() { return *NamedVitConfig("vit_fm_micro_patch4_28"); }

  static ModelDescription Description(const VitConfig& c) {
    ModelDescription d;
    d.architecture = c;
    d.mean.assign(static_cast<size_t>(c.in_chans), 0.5f);
    d.std.assign(static_cast<size_t>(c.in_chans), 0.25f);
    return d;
  }

  // Images whose class is their brightness (class k: grey level 25 k plus
  // noise), so a model learns them in a few steps.
  static data::ImageSet Synthetic(int64_t n, uint32_t seed) {
    data::ImageSet s;
    s.channels = 1;
    s.height = s.width = 28;
    s.num_classes = 10;
    for (int k = 0; k < 10; ++k) s.class_names.push_back(std::to_string(k));
    s.mean = {0.5f};
    s.std = {0.25f};
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> noise(0, 10);
    for (int64_t i = 0; i < n; ++i) {
      const int label = static_cast<int>(i % 10);
      s.labels.push_back(label);
      for (int p = 0; p < 28 * 28; ++p) s.pixels.push_back(static_cast<uint8_t>(25 * label + noise(rng)));
    }
    return s;
  }

  LoadedModel Saved(const VitConfig& c) {
    VisionTransformer module(c);
    absl::StatusOr<std::string> hash = SaveModelDir(dir_ / "model", Description(c), module);
    EXPECT_TRUE(hash.ok()) << hash.status();
    absl::StatusOr<LoadedModel> loaded = LoadModelDir(dir_ / "model");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return *std::move(loaded);
  }

  static std::vector<int64_t> All(const data::ImageSet& s) {
    std::vector<int64_t> v(static_cast<size_t>(s.size()));
    std::iota(v.begin(), v.end(), 0);
    return v;
  }

  fs::path dir_;
};

TEST_F(VitTest, ParameterNamesAreTimms) {
  VitConfig c = Micro();
  c.depth = 1;
  VisionTransformer vit(c);
  std::set<std::string> names;
  for (const auto& p : vit->named_parameters()) names.insert(p.key());
  EXPECT_EQ(names, (std::set<std::string>{
                       "cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
                       "blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight",
                       "blocks.0.attn.qkv.bias", "blocks.0.attn.proj.weight",
                       "blocks.0.attn.proj.bias", "blocks.0.norm2.weight", "blocks.0.norm2.bias",
                       "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias", "blocks.0.mlp.fc2.weight",
                       "blocks.0.mlp.fc2.bias", "norm.weight", "norm.bias", "head.weight",
                       "head.bias"}));
  EXPECT_EQ(vit->named_parameters()["pos_embed"].sizes(), at::IntArrayRef({1, 50, 64}));
}

TEST_F(VitTest, SitesFollowTheApproximableLayers) {
  VisionTransformer vit(Micro());
  std::vector<std::string> sites;
  for (ApproxSite* s : vit->sites()) sites.push_back(s->name());
  std::vector<std::string> layers;
  for (const ApproximableLayer& l : ApproximableLayers(Micro(), true)) layers.push_back(l.name);
  EXPECT_EQ(sites, layers);
  EXPECT_EQ(vit->forward(at::zeros({3, 1, 28, 28})).sizes(), at::IntArrayRef({3, 10}));
  EXPECT_THROW(vit->forward(at::zeros({3, 3, 28, 28})), c10::Error);
}

TEST_F(VitTest, LoadWeightsNamesEveryOffendingTensorAndChangesNothing) {
  VitConfig c = Micro();
  c.depth = 1;
  VisionTransformer a(c), b(c);
  Safetensors weights = WeightsOf(*a);
  weights.tensors.erase("head.bias");
  weights.tensors["blocks.7.mlp.fc1.weight"] = weights.tensors["norm.weight"];
  weights.tensors["norm.weight"].shape = {2, 32};
  const at::Tensor before = b->named_parameters()["pos_embed"].clone();
  const absl::Status s = LoadWeights(*b, weights, "w.safetensors");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("missing: head.bias"));
  EXPECT_THAT(s.message(), HasSubstr("unexpected: blocks.7.mlp.fc1.weight"));
  EXPECT_THAT(s.message(), HasSubstr("norm.weight is [2, 32], expected [64]"));
  EXPECT_TRUE(at::equal(b->named_parameters()["pos_embed"], before));

  Safetensors ints = WeightsOf(*a);
  ints.tensors["head.bias"].dtype = DType::kI32;
  EXPECT_THAT(LoadWeights(*b, ints, "w").message(), HasSubstr("head.bias has dtype I32"));
  EXPECT_TRUE(LoadWeights(*b, WeightsOf(*a), "w").ok());
  EXPECT_TRUE(at::equal(b->named_parameters()["pos_embed"], a->named_parameters()["pos_embed"]));
}

TEST_F(VitTest, ModelDirectoryRoundTripAndContentHash) {
  const VitConfig c = Micro();
  VisionTransformer module(c);
  ModelDescription d = Description(c);
  d.classes = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  d.provenance = {{"note", "test"}};
  absl::StatusOr<std::string> hash = SaveModelDir(dir_ / "m", d, module);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(hash->size(), 64u);
  absl::StatusOr<LoadedModel> loaded = LoadModelDir(dir_ / "m");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->content_hash, *hash);
  EXPECT_EQ(*ModelContentHash(dir_ / "m"), *hash);
  EXPECT_EQ(loaded->description.classes, d.classes);
  const at::Tensor x = at::randn({2, 1, 28, 28});
  torch::NoGradGuard no_grad;
  module->eval();
  EXPECT_TRUE(at::equal(loaded->module->forward(x), module->forward(x)));

  // Another model has another hash; so does an edited description.
  VisionTransformer other(c);
  EXPECT_NE(*SaveModelDir(dir_ / "other", d, other), *hash);
  d.provenance = {{"note", "edited"}};
  EXPECT_NE(*SaveModelDir(dir_ / "m", d, module), *hash);
}

TEST_F(VitTest, ModelDirectoryErrors) {
  EXPECT_EQ(LoadModelDir(dir_ / "none").status().code(), absl::StatusCode::kNotFound);
  fs::create_directories(dir_ / "empty");
  EXPECT_THAT(LoadModelDir(dir_ / "empty").status().message(), HasSubstr("model.json"));
  Saved(Micro());
  const fs::path json = dir_ / "model" / kModelJson;
  for (const char* bad : {"{", "{\"format\": \"other\"}",
                          R"({"format": "transaxx-model-v1", "architecture": {"name": "vit_fm_micro_patch4_28"},
                              "input": {"mean": [0.5], "std": [0]}})",
                          R"({"format": "transaxx-model-v1", "architecture": {"name": "vit_fm_micro_patch4_28"},
                              "input": {"mean": [0.5, 0.5], "std": [1]}})"}) {
    std::ofstream(json) << bad;
    const absl::Status s = LoadModelDir(dir_ / "model").status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad << ": " << s;
  }
  // Weights of another architecture are refused by name.
  std::ofstream(json) << R"({"format": "transaxx-model-v1",
      "architecture": {"name": "vit_fm_micro_patch4_28", "depth": 5},
      "input": {"mean": [0.5], "std": [1]}})";
  EXPECT_THAT(LoadModelDir(dir_ / "model").status().message(), HasSubstr("missing: blocks.4."));
  // A truncated weights file is refused.
  std::ofstream(json) << R"({"format": "transaxx-model-v1",
      "architecture": {"name": "vit_fm_micro_patch4_28"}, "input": {"mean": [0.5], "std": [1]}})";
  fs::resize_file(dir_ / "model" / kModelWeights, 1000);
  EXPECT_FALSE(LoadModelDir(dir_ / "model").ok());
}

TEST_F(VitTest, TrainingLowersTheLossAndLearnsEasyImages) {
  LoadedModel model = Saved(Micro());
  const data::ImageSet train = Synthetic(600, 1);
  const std::vector<int64_t> indices = All(train);
  const at::Tensor before = model.module->named_parameters()["blocks.0.mlp.fc1.weight"].clone();
  absl::StatusOr<EvalResult> start = Evaluate(model, train, indices, {});
  ASSERT_TRUE(start.ok()) << start.status();
  TrainOptions options;
  options.epochs = 5;
  options.batch_size = 32;
  options.learning_rate = 2e-3;
  options.warmup_steps = 10;
  options.augment = true;
  int calls = 0;
  options.progress = [&calls](const TrainProgress& p) {
    ++calls;
    EXPECT_LE(p.step, p.total_steps);
  };
  ASSERT_TRUE(Train(model, train, indices, options).ok());
  EXPECT_GT(calls, 0);
  EXPECT_FALSE(at::equal(model.module->named_parameters()["blocks.0.mlp.fc1.weight"], before));
  absl::StatusOr<EvalResult> end = Evaluate(model, Synthetic(200, 2), All(Synthetic(200, 2)), {});
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_LT(end->mean_loss, start->mean_loss);
  EXPECT_GT(end->top1, 0.5);
}

// A step count that ends inside the second epoch, SGD, warmup then linear
// decay to a floor: the steps, epochs and rates reported follow exactly.
TEST_F(VitTest, TrainingRunsAStepCountWithItsSchedule) {
  LoadedModel model = Saved(Micro());
  const data::ImageSet train = Synthetic(40, 1);  // 4 steps of 10 per epoch
  TrainOptions options;
  options.steps = 6;
  options.batch_size = 10;
  options.optimizer = Optimizer::kSgd;
  options.learning_rate = 0.1;
  options.min_learning_rate = 0.02;
  options.warmup_steps = 2;
  options.decay = LrDecay::kLinear;
  options.progress_every = 1;
  std::vector<TrainProgress> seen;
  options.progress = [&seen](const TrainProgress& p) { seen.push_back(p); };
  ASSERT_TRUE(Train(model, train, All(train), options).ok());
  ASSERT_EQ(seen.size(), 6u);
  const std::vector<double> rates = {0.05, 0.1, 0.1, 0.08, 0.06, 0.04};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].step, static_cast<int64_t>(i) + 1);
    EXPECT_EQ(seen[i].total_steps, 6);
    EXPECT_EQ(seen[i].epochs, 2);
    EXPECT_EQ(seen[i].epoch, i < 4 ? 0 : 1);
    EXPECT_NEAR(seen[i].learning_rate, rates[i], 1e-12) << "step " << i + 1;
    EXPECT_GE(seen[i].window_accuracy, 0);
    EXPECT_LE(seen[i].window_accuracy, 1);
  }
  EXPECT_TRUE(seen[3].epoch_done);
  EXPECT_TRUE(seen[5].epoch_done);
  // One step per window: the window loss is that step's loss; the epoch's
  // mean covers both steps of the second epoch.
  EXPECT_NEAR(seen[5].loss, (seen[4].window_loss + seen[5].window_loss) / 2, 1e-9);
}

TEST_F(VitTest, TrainingRejectsBadOptionsAndStopsWhenCancelled) {
  LoadedModel model = Saved(Micro());
  const data::ImageSet train = Synthetic(40, 1);
  TrainOptions bad;
  bad.learning_rate = 0;
  EXPECT_EQ(Train(model, train, All(train), bad).code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.epochs = 0;
  EXPECT_EQ(Train(model, train, All(train), bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Train(model, train, {}, {}).code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.steps = -1;
  EXPECT_EQ(Train(model, train, All(train), bad).code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.momentum = 1;
  EXPECT_EQ(Train(model, train, All(train), bad).code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.min_learning_rate = 2 * bad.learning_rate;
  EXPECT_EQ(Train(model, train, All(train), bad).code(), absl::StatusCode::kInvalidArgument);
  TrainOptions cancel;
  cancel.cancelled = [] { return true; };
  EXPECT_EQ(Train(model, train, All(train), cancel).code(), absl::StatusCode::kCancelled);
}

TEST_F(VitTest, ExactInt8IsCloseToFloatAndApproximationChangesLogits) {
  LoadedModel model = Saved(Micro());
  const data::ImageSet images = Synthetic(64, 3);
  const std::vector<int64_t> indices = All(images);
  CalibrationRun run;
  run.options.method = approx::CalibrationMethod::kPercentile;
  absl::StatusOr<ActivationRanges> ranges = CalibrateActivations(model, images, indices, run);
  ASSERT_TRUE(ranges.ok()) << ranges.status();
  EXPECT_EQ(ranges->amax.size(), model.module->sites().size());
  EXPECT_EQ(ranges->amax.at("blocks.0.attn.qk").size(), 2u);
  absl::StatusOr<ActivationRanges> back = ActivationRangesFromJson(ActivationRangesToJson(*ranges));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->amax, ranges->amax);

  torch::NoGradGuard no_grad;
  const at::Tensor x = at::randn({8, 1, 28, 28});
  const at::Tensor fp32 = model.module->forward(x);
  approx::Catalog catalog = approx::Catalog::WithBuiltins();
  auto apply = [&](const std::string& id) {
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> assignments =
        ResolveConfig(UniformConfig(id, Micro()), Micro());
    ASSERT_TRUE(assignments.ok()) << assignments.status();
    const absl::Status s = ApplyConfiguration(model, *assignments, catalog, *ranges,
                                              approx::WeightQuantization::kPerChannel);
    ASSERT_TRUE(s.ok()) << s;
  };
  apply("exact");
  const at::Tensor int8 = model.module->forward(x);
  EXPECT_FALSE(at::equal(int8, fp32));
  EXPECT_LT((int8 - fp32).norm().item<float>(), 0.25f * fp32.norm().item<float>());
  apply("mask:a=7,b=7");
  EXPECT_FALSE(at::equal(model.module->forward(x), int8));
  UseFloat(model);
  EXPECT_TRUE(at::equal(model.module->forward(x), fp32));
}

TEST_F(VitTest, ApplyConfigurationIsAllOrNothing) {
  LoadedModel model = Saved(Micro());
  const data::ImageSet images = Synthetic(16, 3);
  absl::StatusOr<ActivationRanges> ranges = CalibrateActivations(model, images, All(images), {});
  ASSERT_TRUE(ranges.ok());
  approx::Catalog catalog = approx::Catalog::WithBuiltins();
  const std::vector<std::pair<std::string, std::string>> good = {{"blocks.0.mlp.fc1", "exact"}};
  ASSERT_TRUE(ApplyConfiguration(model, good, catalog, *ranges,
                                 approx::WeightQuantization::kPerTensor).ok());
  const std::vector<std::pair<std::string, std::string>> bad = {{"blocks.0.mlp.fc2", "exact"},
                                                               {"head", "evo:nonexistent"}};
  const absl::Status s = ApplyConfiguration(model, bad, catalog, *ranges,
                                            approx::WeightQuantization::kPerTensor);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("evo:nonexistent"));
  EXPECT_TRUE(model.module->site("blocks.0.mlp.fc1")->quantization().has_value());
  EXPECT_FALSE(model.module->site("blocks.0.mlp.fc2")->quantization().has_value());
  ActivationRanges empty;
  EXPECT_EQ(ApplyConfiguration(model, good, catalog, empty, approx::WeightQuantization::kPerTensor)
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(VitTest, EvaluateCountsAndIntervals) {
  LoadedModel model = Saved(Micro());
  const data::ImageSet images = Synthetic(30, 3);
  int64_t last = 0;
  EvalRun run;
  run.batch_size = 7;
  run.progress = [&last](int64_t done, int64_t total) {
    EXPECT_EQ(total, 30);
    last = done;
  };
  absl::StatusOr<EvalResult> r = Evaluate(model, images, All(images), run);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->n, 30);
  EXPECT_EQ(last, 30);
  EXPECT_LE(r->top1, r->top5);
  EXPECT_LE(r->top1_ci95.low, r->top1);
  EXPECT_GE(r->top1_ci95.high, r->top1);
  // Wilson at 8/10: [0.490, 0.943] (published tables).
  const Interval w = Wilson95(8, 10);
  EXPECT_NEAR(w.low, 0.4902, 1e-4);
  EXPECT_NEAR(w.high, 0.9433, 1e-4);
  data::ImageSet rgb = images;
  rgb.channels = 3;
  EXPECT_EQ(Evaluate(model, rgb, All(images), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Evaluate(model, images, {}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace transaxx::nn
