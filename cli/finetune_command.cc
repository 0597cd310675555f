#include "cli/finetune_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/evaluator_requests.h"
#include "cli/local_flags.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "cli/search_results.h"
#include "cli/sigint_cancel.h"
#include "transaxx/v1/evaluator.grpc.pb.h"
#include "transaxx/v1/search.grpc.pb.h"

namespace transaxx::cli {
namespace {

namespace v1 = transaxx::v1;

const char kFinetuneHelp[] = R"(Usage: transaxx finetune --server EVALUATOR --model ID --train NAME:SPLIT
           (--multiplier ID | --config FILE | --job JOB --point N) [FLAGS]

Fine-tunes a model on an evaluator with the approximate arithmetic of one
configuration in the forward pass (approximation-aware fine-tuning), and
stores the result there as a new model, usable by `transaxx eval --server`
and new searches. Ctrl-C cancels the run; nothing is left behind.

Configuration (one of):
  --multiplier ID           every Linear/Conv2d layer on ID, the head exact
  --attention_matmuls       with --multiplier: also the attention matmuls
  --config FILE             a per-layer configuration (JSON, docs/cli.md)
  --job JOB --point N       point N (1-based, as `transaxx search results`
                            numbers the front) of a search job's Pareto front;
                            the job also gives the model, the attention
                            setting and, unless --calibration is given, the
                            calibration
  --coordinator HOST:PORT   the coordinator of --job (default
                            $TRANSAXX_COORDINATOR); same TLS flags as --server
  --multipliers_dir DIR     EvoApproxLib-style folder for multiplier hashes
                            (default $TRANSAXX_MULTIPLIERS_DIR)

Images (the evaluator's datasets):
  --train NAME:SPLIT        training images (required), e.g. fashion-mnist:train
  --train_sample N [--train_seed S] | --train_offset N --train_limit N
                            a stratified sample or a range of the split
  --validation NAME:SPLIT   evaluated before and after training
  --validation_sample N [--validation_seed S] | --validation_offset N
      --validation_limit N

Training:
  --epochs X                passes over the training images, may be
                            fractional (default 1)
  --steps N                 instead: optimizer steps
  --batch_size N            images per step (default 64)
  --optimizer adamw|sgd     (default adamw)
  --lr X                    peak learning rate (default 1e-4 adamw, 1e-3 sgd)
  --weight_decay X          (default 0.05 adamw, 0 sgd)
  --momentum X              sgd only (default 0.9)
  --schedule cosine|constant|linear   (default cosine)
  --warmup_steps N          linear warm-up (default 0)
  --min_lr X                where the decay ends (default 0)
  --gradient straight_through|table_aware
                            backward through the approximate layers: the
                            exact op's gradient (default, as in the paper) or
                            the multiplier table's finite differences
  --seed S                  shuffling (default 0)
  --output_model ID         id of the new model (default
                            MODEL-ft-<first 8 hex digits of its hash>)
  --progress_interval N     steps between progress updates (default 10)

Calibration (before training, and again for the new weights):
  --calibration NAME:SPLIT  default: the --train dataset's train split
  --calibration_samples N --calibration_method M --percentile P
  --weight_granularity G    as for transaxx eval

Output:
  --output table|json       json: one object with the new model, the
                            validation before/after and the run's figures

Examples:
  transaxx finetune --server 127.0.0.1:50051 --model fashion-vit \
      --multiplier evo:mul8s_1L2N --train fashion-mnist:train \
      --validation fashion-mnist:test --epochs 1
  transaxx finetune --server 127.0.0.1:50051 --coordinator 127.0.0.1:50050 \
      --job J --point 3 --train fashion-mnist:train --train_sample 10000 \
      --gradient table_aware
)";

// The parts of the request the command line gives alone: length,
// optimizer, schedule, gradient and naming.
absl::Status FillTraining(const Args& args, v1::FineTuneRequest& r) {
  if (args.Value("steps")) {
    if (args.Value("epochs")) {
      return absl::InvalidArgumentError("give --epochs or --steps, not both");
    }
    absl::StatusOr<int64_t> steps = IntFlag(args, "steps", 0, 1);
    if (!steps.ok()) return steps.status();
    r.set_steps(*steps);
  } else {
    absl::StatusOr<double> epochs = NumberFlag(args, "epochs", 1, true);
    if (!epochs.ok()) return epochs.status();
    r.set_epochs(*epochs);
  }
  absl::StatusOr<int64_t> batch = IntFlag(args, "batch_size", 64, 1);
  if (!batch.ok()) return batch.status();
  r.set_batch_size(static_cast<int32_t>(*batch));
  const std::string optimizer = args.Value("optimizer").value_or("adamw");
  if (optimizer != "adamw" && optimizer != "sgd") {
    return absl::InvalidArgumentError("--optimizer must be adamw or sgd");
  }
  r.mutable_optimizer()->set_kind(optimizer == "sgd" ? v1::OPTIMIZER_KIND_SGD
                                                     : v1::OPTIMIZER_KIND_ADAMW);
  for (const auto& [flag, setter] :
       std::vector<std::pair<std::string, void (v1::OptimizerSpec::*)(double)>>{
           {"lr", &v1::OptimizerSpec::set_learning_rate},
           {"weight_decay", &v1::OptimizerSpec::set_weight_decay},
           {"momentum", &v1::OptimizerSpec::set_momentum}}) {
    if (!args.Value(flag)) continue;
    absl::StatusOr<double> v = NumberFlag(args, flag, 0, flag == "lr");
    if (!v.ok()) return v.status();
    (r.mutable_optimizer()->*setter)(*v);
  }
  const std::string schedule = args.Value("schedule").value_or("cosine");
  if (schedule == "cosine") {
    r.mutable_schedule()->set_kind(v1::LR_SCHEDULE_KIND_COSINE);
  } else if (schedule == "constant") {
    r.mutable_schedule()->set_kind(v1::LR_SCHEDULE_KIND_CONSTANT);
  } else if (schedule == "linear") {
    r.mutable_schedule()->set_kind(v1::LR_SCHEDULE_KIND_LINEAR);
  } else {
    return absl::InvalidArgumentError("--schedule must be cosine, constant or linear");
  }
  absl::StatusOr<int64_t> warmup = IntFlag(args, "warmup_steps", 0, 0);
  if (!warmup.ok()) return warmup.status();
  r.mutable_schedule()->set_warmup_steps(*warmup);
  absl::StatusOr<double> min_lr = NumberFlag(args, "min_lr", 0, false);
  if (!min_lr.ok()) return min_lr.status();
  r.mutable_schedule()->set_min_learning_rate(*min_lr);
  const std::string gradient = args.Value("gradient").value_or("straight_through");
  if (gradient != "straight_through" && gradient != "table_aware") {
    return absl::InvalidArgumentError("--gradient must be straight_through or table_aware");
  }
  r.set_gradient_mode(gradient == "table_aware" ? v1::GRADIENT_MODE_TABLE_AWARE
                                                : v1::GRADIENT_MODE_STRAIGHT_THROUGH);
  absl::StatusOr<int64_t> seed = IntFlag(args, "seed", 0, 0);
  if (!seed.ok()) return seed.status();
  r.set_seed(static_cast<uint64_t>(*seed));
  absl::StatusOr<int64_t> interval = IntFlag(args, "progress_interval", 10, 1);
  if (!interval.ok()) return interval.status();
  r.set_progress_interval_steps(*interval);
  r.set_output_model_id(args.Value("output_model").value_or(""));
  return absl::OkStatus();
}

// The flags --job needs: a coordinator and a point number.
absl::Status CheckJobFlags(const Args& args) {
  if (FlagOrEnv(args, "coordinator", "TRANSAXX_COORDINATOR").empty()) {
    return absl::InvalidArgumentError("--job needs --coordinator (or TRANSAXX_COORDINATOR)");
  }
  if (!args.Value("point")) return absl::InvalidArgumentError("--job needs --point N");
  return IntFlag(args, "point", 0, 1).status();
}

// Model, configuration and (unless --calibration) calibration of a front
// point of a search job. REQUIRES: CheckJobFlags(args) is OK.
absl::Status FillFromJob(const Args& args, v1::FineTuneRequest& r) {
  const std::string coordinator = FlagOrEnv(args, "coordinator", "TRANSAXX_COORDINATOR");
  const int64_t point = *IntFlag(args, "point", 0, 1);  // checked by CheckJobFlags
  absl::StatusOr<rpc::ClientChannel> channel = ConnectTo(args, coordinator);
  if (!channel.ok()) return channel.status();
  auto stub = v1::SearchCoordinator::NewStub(channel->channel());
  const std::string job = *args.Value("job");
  v1::GetSearchRequest get;
  get.set_job_id(job);
  v1::GetSearchResponse search;
  auto context = channel->NewCall();
  if (absl::Status s = FromGrpcAt(stub->GetSearch(context.get(), get, &search), coordinator, "coordinator");
      !s.ok()) {
    return s;
  }
  v1::GetResultsRequest request;
  request.set_job_id(job);
  v1::GetResultsResponse results;
  context = channel->NewCall();
  if (absl::Status s =
          FromGrpcAt(stub->GetResults(context.get(), request, &results), coordinator, "coordinator");
      !s.ok()) {
    return s;
  }
  const std::vector<const v1::SearchPoint*> front = SortedFront(results);
  if (point > static_cast<int64_t>(front.size())) {
    return absl::InvalidArgumentError(absl::StrCat("--point: job ", job, " has ", front.size(),
                                                   " front points; see transaxx search results ",
                                                   job));
  }
  const v1::SearchSpec& spec = search.job().spec();
  if (args.Value("model") && *args.Value("model") != spec.model().id()) {
    return absl::InvalidArgumentError(absl::StrCat("--model ", *args.Value("model"), ": job ", job,
                                                   " searched model ", spec.model().id()));
  }
  *r.mutable_model() = spec.model();
  *r.mutable_configuration() = front[point - 1]->configuration();
  r.set_include_attention_matmuls(spec.include_attention_matmuls());
  if (!args.Value("calibration") && spec.has_calibration()) {
    *r.mutable_calibration() = spec.calibration();
  }
  std::fprintf(stderr, "transaxx: point %lld of job %s: relative power %.4f, top-1 %.2f%%\n",
               static_cast<long long>(point), job.c_str(),
               front[point - 1]->power().relative_power(),
               100 * front[point - 1]->accuracy().top1());
  return absl::OkStatus();
}

std::string Accuracy(const v1::FineTuneResult& r, bool after) {
  const v1::Accuracy& a = after ? r.validation_after() : r.validation_before();
  return absl::StrFormat("%.2f%% (95%% CI %.2f-%.2f%%), mean loss %.4f", 100 * a.top1(),
                         100 * a.top1_interval().low(), 100 * a.top1_interval().high(),
                         a.mean_loss());
}

void PrintResult(const v1::FineTuneResult& r, bool json) {
  const double seconds = static_cast<double>(r.wall_time().seconds()) + r.wall_time().nanos() / 1e9;
  if (json) {
    nlohmann::json out = {{"model", r.model().id()},
                          {"model_hash", r.model().content_hash()},
                          {"base_model", r.base_model().id()},
                          {"base_model_hash", r.base_model().content_hash()},
                          {"config_hash", r.config_hash()},
                          {"calibration_id", r.calibration_id()},
                          {"steps", r.steps()},
                          {"final_loss", r.final_loss()},
                          {"seconds", seconds}};
    if (r.has_validation_before()) {
      out["validation_before"] = {{"top1", r.validation_before().top1()},
                                  {"mean_loss", r.validation_before().mean_loss()},
                                  {"n", r.validation_before().sample_count()}};
      out["validation_after"] = {{"top1", r.validation_after().top1()},
                                 {"mean_loss", r.validation_after().mean_loss()},
                                 {"n", r.validation_after().sample_count()}};
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("model        %s (%s)\nfrom         %s (%s)\nconfiguration %s\n", r.model().id().c_str(),
              r.model().content_hash().substr(0, 12).c_str(), r.base_model().id().c_str(),
              r.base_model().content_hash().substr(0, 12).c_str(),
              r.config_hash().substr(0, 12).c_str());
  std::printf("steps        %lld, final loss %.4f, %s\n", static_cast<long long>(r.steps()),
              r.final_loss(), FormatDuration(seconds).c_str());
  if (r.has_validation_before()) {
    std::printf("before       %s\nafter        %s\n", Accuracy(r, false).c_str(),
                Accuracy(r, true).c_str());
  }
}

int Finetune(const Args& args) {
  absl::StatusOr<bool> json = WantJson(args);
  if (!json.ok()) return ReportError(json.status(), true);
  const int sources = (args.Value("multiplier") ? 1 : 0) + (args.Value("config") ? 1 : 0) +
                      (args.Value("job") ? 1 : 0);
  if (sources != 1) {
    return ReportError(absl::InvalidArgumentError(
                           "give one of --multiplier, --config or --job/--point"),
                       true);
  }
  if (args.Value("job")) {
    if (absl::Status s = CheckJobFlags(args); !s.ok()) return ReportError(s, true);
  } else if (!args.Value("model")) {
    return ReportError(absl::InvalidArgumentError("--model is required"), true);
  }
  if (!args.Value("train")) {
    return ReportError(absl::InvalidArgumentError("--train NAME:SPLIT is required"), true);
  }
  absl::StatusOr<data::DatasetSpec> train = data::ParseDatasetSpec(*args.Value("train"));
  if (!train.ok()) return ReportError(train.status(), true);
  v1::FineTuneRequest request;
  if (absl::Status s = SubsetFromFlags(args, "train_", *train, *request.mutable_train_subset());
      !s.ok()) {
    return ReportError(s, true);
  }
  if (auto validation = args.Value("validation")) {
    absl::StatusOr<data::DatasetSpec> spec = data::ParseDatasetSpec(*validation);
    if (!spec.ok()) return ReportError(spec.status(), true);
    if (absl::Status s =
            SubsetFromFlags(args, "validation_", *spec, *request.mutable_validation_subset());
        !s.ok()) {
      return ReportError(s, true);
    }
  }
  if (absl::Status s = FillTraining(args, request); !s.ok()) return ReportError(s, true);
  if (absl::Status s = FillCalibration(args, *train, *request.mutable_calibration()); !s.ok()) {
    return ReportError(s, true);
  }

  absl::StatusOr<rpc::ClientChannel> channel = ConnectFromFlags(args);
  if (!channel.ok()) return ReportError(channel.status(), true);
  auto stub = v1::Evaluator::NewStub(channel->channel());
  if (args.Value("job")) {
    if (absl::Status s = FillFromJob(args, request); !s.ok()) return ReportError(s);
  } else {
    request.mutable_model()->set_id(*args.Value("model"));
    absl::StatusOr<bool> attention = ConfigurationFromFlags(
        args, *stub, *channel, request.model(), *request.mutable_configuration());
    if (!attention.ok()) return ReportError(attention.status());
    request.set_include_attention_matmuls(*attention);
  }

  auto context = channel->NewCall();
  // Training takes minutes to hours; the channel's default suits quick calls.
  if (!args.Value("timeout")) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(24 * 7));
  }
  std::fprintf(stderr, "transaxx: fine-tuning %s on %s\n", request.model().id().c_str(),
               FlagOrEnv(args, "server", "TRANSAXX_SERVER").c_str());
  SigintCancel sigint(context.get());
  auto reader = stub->FineTune(context.get(), request);
  Progress progress("finetune");
  v1::FineTuneEvent event;
  std::optional<v1::FineTuneResult> result;
  while (reader->Read(&event)) {
    if (event.has_progress()) {
      const v1::FineTuneProgress& p = event.progress();
      progress.Update(p.progress().done(), p.progress().total(),
                      absl::StrFormat("epoch %d, loss %.4f, train top-1 %.1f%%, lr %.2g, %.0f img/s",
                                      p.epoch() + 1, p.loss(), 100 * p.running_top1(),
                                      p.learning_rate(), p.images_per_second()));
    } else if (event.has_result()) {
      result = event.result();
    }
  }
  progress.Finish();
  const grpc::Status status = reader->Finish();
  if (sigint.interrupted()) {
    return ReportError(absl::CancelledError("interrupted; the fine-tuning was cancelled and no "
                                            "model was stored"));
  }
  if (absl::Status s = FromGrpc(status, args, "evaluator"); !s.ok()) return ReportError(s);
  if (!result) return ReportError(absl::InternalError("the evaluator sent no result"));
  PrintResult(*result, *json);
  return kExitOk;
}

}  // namespace

int RunFinetuneCommand(const std::vector<std::string>& words) {
  std::set<std::string> value_flags = {
      "model",        "multiplier",          "config",          "job",
      "point",        "coordinator",         "multipliers_dir", "train",
      "train_sample", "train_seed",          "train_offset",    "train_limit",
      "validation",   "validation_sample",   "validation_seed", "validation_offset",
      "validation_limit", "epochs",          "steps",           "batch_size",
      "optimizer",    "lr",                  "weight_decay",    "momentum",
      "schedule",     "warmup_steps",        "min_lr",          "gradient",
      "seed",         "output_model",        "progress_interval", "calibration",
      "calibration_samples", "calibration_method", "percentile", "weight_granularity",
      "output"};
  value_flags.insert(ClientFlags().begin(), ClientFlags().end());
  absl::StatusOr<Args> args =
      Args::Parse(words, value_flags, {"attention_matmuls", "help"}, {});
  if (!args.ok()) return ReportError(args.status(), true);
  if (args->Has("help")) {
    std::printf("%s", kFinetuneHelp);
    return kExitOk;
  }
  if (absl::Status s = args->ExpectNoPositionals("finetune"); !s.ok()) return ReportError(s, true);
  return Finetune(*args);
}

}  // namespace transaxx::cli
