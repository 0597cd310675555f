#include "cli/eval_command.h"

#include <chrono>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/evaluator_requests.h"
#include "cli/local_flags.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "libs/approx/calibration.h"
#include "libs/data/subset.h"
#include "libs/nn/approx_config.h"
#include "libs/nn/evaluate.h"
#include "libs/nn/model_dir.h"
#include "libs/nn/quantized_model.h"
#include "transaxx/v1/evaluator.grpc.pb.h"

namespace transaxx::cli {

const char kEvalHelp[] = R"(Usage: transaxx eval --model DIR --dataset NAME:SPLIT [FLAGS]
       transaxx eval --server HOST:PORT --model ID --dataset NAME:SPLIT [FLAGS]

Evaluates a model, in this process or on an evaluator server, and prints
top-1 and top-5 accuracy with the 95% Wilson interval of top-1.

Arithmetic (default: float32):
  --multiplier ID         int8 on every Linear/Conv2d layer with multiplier ID
                          (`exact` = plain int8), the classifier head int8
                          exact, as in the TransAxx paper
  --attention_matmuls     with --multiplier: also the attention matmuls
  --config FILE           a per-layer configuration (JSON, see docs/cli.md):
                          {"default": ID, "layers": {LAYER: ID, ...},
                           "include_attention_matmuls": false}
  --multipliers_dir DIR   EvoApproxLib-style folder imported as evo:NAME
                          (default $TRANSAXX_MULTIPLIERS_DIR)

Images:
  --dataset NAME:SPLIT    e.g. fashion-mnist:test (required)
  --datasets_dir DIRS     comma list of dataset roots searched before
                          /usr/share/datasets (default $TRANSAXX_DATASETS_DIR)
  --offset N --limit N    images [N, N+limit) of the split (limit 0 = all)
  --sample N [--seed S]   instead: a class-stratified sample of N images
  --crop_pct P            image folders: resize to img/P, center crop (0.875)

Calibration of the int8 activation ranges:
  --calibration NAME:SPLIT      default: the dataset's train split
  --calibration_samples N       stratified sample, seed 0 (default 1024)
  --calibration_method M        max, percentile (default), mse, entropy
  --percentile P                for percentile (default 99.99)
  --weight_granularity G        per_channel (default) or per_tensor

Remote (on an evaluator, see docs/evaluator.md):
  --server HOST:PORT      evaluate there: --model is then a model id of the
                          server (a directory name) and the datasets are the
                          server's; multiplier hashes come from the local
                          catalog (built-ins, --multipliers_dir), else from
                          the server's. Default $TRANSAXX_SERVER is not used:
                          without --server the evaluation is local.
  --timeout DURATION      limit of the call (default: none)
  --tls_ca, --tls_cert, --tls_key, --auth_token_file FILE
                          TLS and token, as for every remote command

Other:
  --batch_size N          images per forward pass (default 256)
  --threads N             CPU threads (default: all cores)
  --output table|json     json prints one object: top1, top5 (fractions),
                          n, ci95 [low, high], mean_loss, seconds,
                          images_per_second, precision, model, model_hash

Examples:
  transaxx eval --model deploy/local/models/fashion-vit --dataset fashion-mnist:test
  transaxx eval --model M --dataset fashion-mnist:test --limit 1000 \
      --multiplier evo:mul8s_1L2J --multipliers_dir ../shared/data/evoapprox --output json
  transaxx eval --server 127.0.0.1:50051 --model fashion-vit --dataset fashion-mnist:test \
      --multiplier evo:mul8s_1L2N
)";

namespace {

namespace v1 = transaxx::v1;

absl::StatusOr<nn::ApproxConfig> ConfigFromFlags(const Args& args, const nn::VitConfig& arch) {
  if (auto file = args.Value("config")) {
    if (args.Has("attention_matmuls")) {
      return absl::InvalidArgumentError(
          "--attention_matmuls goes with --multiplier; a --config file says "
          "include_attention_matmuls itself");
    }
    return nn::ReadApproxConfig(*file);
  }
  nn::ApproxConfig config = nn::UniformConfig(*args.Value("multiplier"), arch);
  config.include_attention_matmuls = args.Has("attention_matmuls");
  return config;
}

// Calibrates the model on the calibration split and applies the
// configuration of the flags.
absl::Status Quantize(const Args& args, const data::DatasetOptions& dataset_options,
                      const std::string& dataset_spec, nn::LoadedModel& model) {
  absl::StatusOr<nn::ApproxConfig> config = ConfigFromFlags(args, model.description.architecture);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> assignments =
      nn::ResolveConfig(*config, model.description.architecture);
  if (!assignments.ok()) return assignments.status();
  absl::StatusOr<approx::Catalog> catalog = CatalogFromFlags(args);
  if (!catalog.ok()) return catalog.status();
  absl::StatusOr<approx::WeightQuantization> granularity = WeightGranularityFlag(args);
  if (!granularity.ok()) return granularity.status();

  nn::CalibrationRun run;
  absl::StatusOr<approx::CalibrationMethod> method =
      approx::ParseCalibrationMethod(args.Value("calibration_method").value_or("percentile"));
  if (!method.ok()) return method.status();
  run.options.method = *method;
  absl::StatusOr<double> percentile = NumberFlag(args, "percentile", 99.99, true);
  if (!percentile.ok()) return percentile.status();
  run.options.percentile = *percentile;
  absl::StatusOr<int64_t> samples = IntFlag(args, "calibration_samples", 1024, 1);
  if (!samples.ok()) return samples.status();

  absl::StatusOr<data::DatasetSpec> spec = data::ParseDatasetSpec(dataset_spec);
  if (!spec.ok()) return spec.status();
  const std::string calibration_spec =
      args.Value("calibration").value_or(absl::StrCat(spec->name, ":train"));
  absl::StatusOr<data::ImageSet> images = data::LoadDataset(calibration_spec, dataset_options);
  if (!images.ok()) return images.status();
  absl::StatusOr<std::vector<int64_t>> indices = data::StratifiedSample(
      images->labels, images->num_classes, std::min(*samples, images->size()), 0);
  if (!indices.ok()) return indices.status();
  absl::StatusOr<nn::ActivationRanges> ranges =
      nn::CalibrateActivations(model, *images, *indices, run);
  if (!ranges.ok()) return ranges.status();
  return nn::ApplyConfiguration(model, *assignments, *catalog, *ranges, *granularity);
}

absl::StatusOr<std::vector<int64_t>> Subset(const Args& args, const data::ImageSet& images) {
  if (args.Value("sample")) {
    if (args.Value("offset") || args.Value("limit")) {
      return absl::InvalidArgumentError("--sample does not combine with --offset/--limit");
    }
    absl::StatusOr<int64_t> n = IntFlag(args, "sample", 0, 1);
    if (!n.ok()) return n.status();
    absl::StatusOr<int64_t> seed = IntFlag(args, "seed", 0, 0);
    if (!seed.ok()) return seed.status();
    return data::StratifiedSample(images.labels, images.num_classes, *n,
                                  static_cast<uint64_t>(*seed));
  }
  absl::StatusOr<int64_t> offset = IntFlag(args, "offset", 0, 0);
  if (!offset.ok()) return offset.status();
  absl::StatusOr<int64_t> limit = IntFlag(args, "limit", 0, 0);
  if (!limit.ok()) return limit.status();
  return data::OffsetLimitSubset(images.size(), *offset, *limit);
}

// Prints an evaluation, local or remote, as a table or one JSON object.
void PrintEvalResult(const nn::EvalResult& result, const std::string& precision,
                     const std::string& model, const std::string& model_hash,
                     const std::string& dataset, bool json) {
  if (json) {
    nlohmann::json out = nn::EvalResultToJson(result);
    out["precision"] = precision;
    out["model"] = model;
    out["model_hash"] = model_hash;
    out["dataset"] = dataset;
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("%s", absl::StrFormat(
                        "model      %s (%s)\ndataset    %s, %d images\nprecision  %s\n"
                        "top-1      %.2f%%  (95%% CI %.2f-%.2f%%)\ntop-5      %.2f%%\n"
                        "mean loss  %.4f\nspeed      %.1f images/s (%.1f s)\n",
                        model, model_hash.substr(0, 12), dataset, result.n, precision,
                        100 * result.top1, 100 * result.top1_ci95.low, 100 * result.top1_ci95.high,
                        100 * result.top5, result.mean_loss, result.images_per_second,
                        result.seconds)
                        .c_str());
}

// `transaxx eval --server`: the same evaluation on an evaluator.
int RemoteEval(const Args& args, bool json) {
  for (const char* local_only : {"datasets_dir", "crop_pct", "threads"}) {
    if (args.Value(local_only)) {
      return ReportError(absl::InvalidArgumentError(absl::StrCat(
                             "--", local_only, " is a local flag; the evaluator has its own")),
                         true);
    }
  }
  absl::StatusOr<data::DatasetSpec> dataset = data::ParseDatasetSpec(*args.Value("dataset"));
  if (!dataset.ok()) return ReportError(dataset.status(), true);
  absl::StatusOr<rpc::ClientChannel> channel = ConnectFromFlags(args);
  if (!channel.ok()) return ReportError(channel.status(), true);
  auto stub = v1::Evaluator::NewStub(channel->channel());

  v1::EvaluateRequest request;
  request.mutable_model()->set_id(*args.Value("model"));
  if (absl::Status s = SubsetFromFlags(args, "", *dataset, *request.mutable_subset()); !s.ok()) {
    return ReportError(s, true);
  }
  absl::StatusOr<int64_t> batch = IntFlag(args, "batch_size", 256, 1);
  if (!batch.ok()) return ReportError(batch.status(), true);
  request.set_batch_size(static_cast<int32_t>(*batch));
  const bool int8 = args.Value("multiplier") || args.Value("config");
  if (int8) {
    absl::StatusOr<bool> attention = ConfigurationFromFlags(
        args, *stub, *channel, request.model(), *request.mutable_configuration());
    if (!attention.ok()) return ReportError(attention.status());
    request.set_include_attention_matmuls(*attention);
    if (absl::Status s = FillCalibration(args, *dataset, *request.mutable_calibration()); !s.ok()) {
      return ReportError(s, true);
    }
  } else {
    if (args.Has("attention_matmuls") || args.Value("calibration")) {
      return ReportError(absl::InvalidArgumentError(
                             "--attention_matmuls and --calibration need --multiplier or --config"),
                         true);
    }
    request.set_precision(v1::PRECISION_FP32);
  }

  auto context = channel->NewCall();
  // An evaluation takes minutes; the channel's 30 s default suits quick calls.
  if (!args.Value("timeout")) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(24));
  }
  std::fprintf(stderr, "transaxx: evaluating on %s\n",
               FlagOrEnv(args, "server", "TRANSAXX_SERVER").c_str());
  v1::EvaluateResponse response;
  if (absl::Status s = FromGrpc(stub->Evaluate(context.get(), request, &response), args); !s.ok()) {
    return ReportError(s);
  }
  const v1::Accuracy& a = response.accuracy();
  nn::EvalResult result;
  result.n = a.sample_count();
  result.top1_correct = a.top1_correct();
  result.top5_correct = a.top5_correct();
  result.top1 = a.top1();
  result.top5 = a.top5();
  result.top1_ci95 = {a.top1_interval().low(), a.top1_interval().high()};
  result.mean_loss = a.mean_loss();
  result.seconds = static_cast<double>(response.wall_time().seconds()) +
                   response.wall_time().nanos() / 1e9;
  result.images_per_second = response.images_per_second();
  PrintEvalResult(result, int8 ? "int8" : "fp32", response.model().id(),
                  response.model().content_hash(), *args.Value("dataset"), json);
  return kExitOk;
}

int Eval(const Args& args) {
  auto json = WantJson(args);
  if (!json.ok()) return ReportError(json.status(), true);
  const std::optional<std::string> model_dir = args.Value("model");
  const std::optional<std::string> dataset = args.Value("dataset");
  if (!model_dir || !dataset) {
    return ReportError(absl::InvalidArgumentError("--model and --dataset are required"), true);
  }
  if (args.Value("multiplier") && args.Value("config")) {
    return ReportError(absl::InvalidArgumentError("give either --multiplier or --config, not both"),
                       true);
  }
  if (args.Value("server")) return RemoteEval(args, *json);
  if (absl::Status s = SetThreadsFromFlags(args); !s.ok()) return ReportError(s, true);
  absl::StatusOr<int64_t> batch = IntFlag(args, "batch_size", 256, 1);
  if (!batch.ok()) return ReportError(batch.status(), true);
  absl::StatusOr<double> crop_pct = NumberFlag(args, "crop_pct", 0.875, true);
  if (!crop_pct.ok()) return ReportError(crop_pct.status(), true);

  absl::StatusOr<nn::LoadedModel> model = nn::LoadModelDir(*model_dir);
  if (!model.ok()) return ReportError(model.status());
  data::DatasetOptions dataset_options = DatasetOptionsFromFlags(args);
  dataset_options.transform.crop_size = model->description.architecture.img_size;
  dataset_options.transform.crop_pct = *crop_pct;
  absl::StatusOr<data::ImageSet> images = data::LoadDataset(*dataset, dataset_options);
  if (!images.ok()) return ReportError(images.status());
  absl::StatusOr<std::vector<int64_t>> indices = Subset(args, *images);
  if (!indices.ok()) return ReportError(indices.status(), true);
  const bool int8 = args.Value("multiplier") || args.Value("config");
  if (int8) {
    if (absl::Status s = Quantize(args, dataset_options, *dataset, *model); !s.ok()) {
      return ReportError(s);
    }
  } else if (args.Has("attention_matmuls") || args.Value("calibration")) {
    return ReportError(absl::InvalidArgumentError(
                           "--attention_matmuls and --calibration need --multiplier or --config"),
                       true);
  }

  Progress progress("eval");
  nn::EvalRun run;
  run.batch_size = *batch;
  run.progress = [&progress](int64_t done, int64_t total) { progress.Update(done, total); };
  absl::StatusOr<nn::EvalResult> result = nn::Evaluate(*model, *images, *indices, run);
  progress.Finish();
  if (!result.ok()) return ReportError(result.status());

  PrintEvalResult(*result, int8 ? "int8" : "fp32", *model_dir, model->content_hash, *dataset,
                  *json);
  return kExitOk;
}

}  // namespace

int RunEvalCommand(const std::vector<std::string>& words) {
  auto args = Args::Parse(
      words,
      [] {
        std::set<std::string> flags = {
            "model",       "dataset",          "multiplier",          "config",
            "multipliers_dir", "datasets_dir", "offset",              "limit",
            "sample",      "seed",             "crop_pct",            "calibration",
            "calibration_samples", "calibration_method", "percentile", "weight_granularity",
            "batch_size",  "threads",          "output"};
        flags.insert(ClientFlags().begin(), ClientFlags().end());
        return flags;
      }(),
      {"help", "attention_matmuls"});
  if (!args.ok()) return ReportError(args.status(), true);
  if (args->Has("help")) {
    std::printf("%s", kEvalHelp);
    return kExitOk;
  }
  if (absl::Status s = args->ExpectNoPositionals("eval"); !s.ok()) return ReportError(s, true);
  return Eval(*args);
}

}  // namespace transaxx::cli
