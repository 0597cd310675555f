#include "services/evaluator/evaluator_service.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>
#if TRANSAXX_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#endif
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/approx/error_metrics.h"
#include "libs/approx/structure_cache.h"
#include "libs/nn/approximable_layers.h"
#include "libs/nn/evaluate.h"
#include "libs/nn/quantized_model.h"
#include "libs/rpc/log.h"
#include "libs/rpc/handler_status.h"
#include "libs/rpc/v1_enums.h"
#include "libs/rpc/v1_multipliers.h"
#include "services/evaluator/fine_tune.h"
#include "services/evaluator/requests.h"

namespace transaxx::evaluator {
namespace {

namespace v1 = transaxx::v1;

// CANCELLED or DEADLINE_EXCEEDED once the call is abandoned, OK before.
std::function<absl::Status()> Interruption(grpc::ServerContext* context) {
  return [context]() -> absl::Status {
    if (context->deadline() <= std::chrono::system_clock::now()) {
      return absl::DeadlineExceededError("the call's deadline passed");
    }
    if (context->IsCancelled()) return absl::CancelledError("the client cancelled the call");
    return absl::OkStatus();
  };
}

// Unknown models and datasets are INVALID_ARGUMENT in requests that merely
// use them (the contract keeps NOT_FOUND for DescribeModel's subject).
absl::Status AsInvalid(const absl::Status& s, absl::string_view field) {
  if (s.code() != absl::StatusCode::kNotFound) return s;
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", s.message()));
}

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns % 1000000000));
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t ns = absl::ToUnixNanos(t);
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int32_t>(ns % 1000000000));
}

void SetShape(const std::vector<int64_t>& dims, v1::TensorShape* out) {
  for (int64_t d : dims) out->add_dims(d);
}

void FillModelInfo(const ModelListing& m, v1::ModelInfo* out) {
  out->mutable_ref()->set_id(m.id);
  out->mutable_ref()->set_content_hash(m.content_hash);
  const nn::VitConfig& arch = m.description.architecture;
  out->set_architecture(arch.name.empty() ? "custom" : arch.name);
  SetShape({arch.in_chans, arch.img_size, arch.img_size}, out->mutable_input_shape());
  out->set_num_classes(static_cast<int32_t>(arch.num_classes));
  out->set_parameter_count(m.parameter_count);
  const nlohmann::json& provenance = m.description.provenance;
  if (provenance.contains("description") && provenance["description"].is_string()) {
    out->set_description(provenance["description"].get<std::string>());
  }
  SetTime(m.create_time, out->mutable_create_time());
  out->set_loaded(m.loaded);
}

v1::DatasetFormat FormatToProto(data::DatasetFormat f) {
  switch (f) {
    case data::DatasetFormat::kIdx:
      return v1::DATASET_FORMAT_IDX;
    case data::DatasetFormat::kCifar10:
    case data::DatasetFormat::kCifar100:
      return v1::DATASET_FORMAT_CIFAR_BINARY;
    case data::DatasetFormat::kImageFolder:
      return v1::DATASET_FORMAT_IMAGE_FOLDER;
  }
  return v1::DATASET_FORMAT_UNSPECIFIED;
}

std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "CPU";
}

void FillDevice(const at::Device& device, v1::DeviceInfo* out) {
  out->set_cpu_threads(at::get_num_threads());
  out->set_runtime(absl::StrCat("libtorch ", TORCH_VERSION));
#if TRANSAXX_WITH_CUDA
  if (device.is_cuda()) {
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(device.index());
    out->set_kind(v1::DEVICE_KIND_CUDA);
    out->set_index(device.index());
    out->set_name(p->name);
    out->set_memory_total_bytes(static_cast<int64_t>(p->totalGlobalMem));
    size_t free = 0, total = 0;
    c10::cuda::CUDAGuard guard(device);
    if (cudaMemGetInfo(&free, &total) == cudaSuccess) {
      out->set_memory_used_bytes(static_cast<int64_t>(total - free));
    }
    out->set_compute_capability(absl::StrCat(p->major, ".", p->minor));
    absl::StrAppend(out->mutable_runtime(), ", CUDA ", CUDART_VERSION / 1000, ".",
                    CUDART_VERSION % 1000 / 10);
    return;
  }
#endif
  out->set_kind(v1::DEVICE_KIND_CPU);
  out->set_index(0);
  static const std::string name = CpuName();
  out->set_name(name);
  out->set_memory_total_bytes(static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) *
                              static_cast<int64_t>(sysconf(_SC_PAGE_SIZE)));
}

void FillAccuracy(const nn::EvalResult& r, v1::Accuracy* out) {
  out->set_top1(r.top1);
  out->set_top5(r.top5);
  out->set_mean_loss(r.mean_loss);
  out->set_sample_count(r.n);
  out->set_top1_correct(r.top1_correct);
  out->set_top5_correct(r.top5_correct);
  v1::ConfidenceInterval* ci = out->mutable_top1_interval();
  ci->set_low(r.top1_ci95.low);
  ci->set_high(r.top1_ci95.high);
  ci->set_level(0.95);
  ci->set_method(v1::INTERVAL_METHOD_WILSON);
}

// Per-output-channel (or whole-tensor) max |w| of a layer's weight.
std::vector<double> WeightAmax(const nn::LoadedModel& model, const std::string& layer,
                               approx::WeightQuantization granularity) {
  for (const auto& p : model.module->named_parameters()) {
    if (p.key() != layer + ".weight") continue;
    const at::Tensor w = p.value().detach().abs().reshape({p.value().size(0), -1});
    const at::Tensor amax =
        granularity == approx::WeightQuantization::kPerChannel ? w.amax(1) : w.max().reshape({1});
    const at::Tensor d = amax.to(at::kDouble).contiguous();
    return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
  }
  return {};
}

}  // namespace

EvaluatorMetrics::EvaluatorMetrics(rpc::MetricsRegistry& registry)
    : evaluations(registry.AddCounter("transaxx_evaluator_evaluations_total",
                                      "Evaluate calls by outcome (status code name).",
                                      {"outcome"})),
      evaluation_seconds(registry
                             .AddHistogram("transaxx_evaluator_evaluation_seconds",
                                           "Computation time of evaluations (queueing excluded).",
                                           {}, rpc::LatencyBucketsSeconds())
                             .WithLabels({})),
      images_per_second(registry
                            .AddGauge("transaxx_evaluator_images_per_second",
                                      "Throughput of the latest evaluation.")
                            .WithLabels({})),
      fine_tunes(registry.AddCounter("transaxx_evaluator_fine_tunes_total",
                                     "FineTune calls by outcome (status code name).",
                                     {"outcome"})),
      calibrations(registry.AddCounter("transaxx_evaluator_calibrations_total",
                                       "Calibrations by source: computed or cache.", {"source"})),
      running(registry.AddGauge("transaxx_evaluator_running", "Heavy calls running.")
                  .WithLabels({})),
      queued(registry.AddGauge("transaxx_evaluator_queued", "Heavy calls waiting for a slot.")
                 .WithLabels({})),
      cache_bytes(registry
                      .AddGauge("transaxx_evaluator_cache_bytes",
                                "Memory held by loaded models and dataset splits.")
                      .WithLabels({})),
      device(registry.AddGauge("transaxx_evaluator_device",
                               "1 for the compute device in use, by kind.", {"kind"})) {}

EvaluatorService::EvaluatorService(const EvaluatorOptions& options, ModelStore* models,
                                   DatasetStore* datasets, CalibrationStore* calibrations,
                                   const approx::Catalog* catalog, Admission* admission,
                                   EvaluatorMetrics* metrics, rpc::MetricsRegistry* registry)
    : options_(options),
      models_(models),
      datasets_(datasets),
      calibrations_(calibrations),
      catalog_(catalog),
      admission_(admission),
      metrics_(metrics),
      start_time_(absl::Now()) {
  metrics_->device.WithLabels({options_.device.is_cuda() ? "cuda" : "cpu"}).Set(1);
  registry->AddCollectHook([this] {
    metrics_->running.Set(admission_->running());
    metrics_->queued.Set(admission_->queued());
    metrics_->cache_bytes.Set(
        static_cast<double>(models_->loaded_bytes() + datasets_->loaded_bytes()));
  });
}

grpc::Status EvaluatorService::ListModels(grpc::ServerContext*, const v1::ListModelsRequest*,
                                          v1::ListModelsResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("ListModels", [&] {
    for (const ModelListing& m : models_->List()) FillModelInfo(m, response->add_models());
    return absl::OkStatus();
  }));
}

grpc::Status EvaluatorService::ListDatasets(grpc::ServerContext*, const v1::ListDatasetsRequest*,
                                            v1::ListDatasetsResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("ListDatasets", [&] {
    for (const DatasetListing& d : datasets_->List()) {
      v1::DatasetInfo* out = response->add_datasets();
      out->mutable_ref()->set_id(d.info.name);
      out->mutable_ref()->set_content_hash(d.content_hash);
      out->set_format(FormatToProto(d.info.format));
      for (const auto& [split, size] : d.split_sizes) {
        v1::DatasetSplit* s = out->add_splits();
        s->set_name(split);
        s->set_size(size);
      }
      out->set_num_classes(d.num_classes);
      SetShape(d.image_shape, out->mutable_image_shape());
      out->set_loaded(d.loaded);
    }
    return absl::OkStatus();
  }));
}

grpc::Status EvaluatorService::ListMultipliers(grpc::ServerContext*,
                                               const v1::ListEvaluatorMultipliersRequest* request,
                                               v1::ListEvaluatorMultipliersResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("ListMultipliers", [&] {
    const v1::MultiplierFilter& filter = request->filter();
    for (int i = 0; i < filter.id_globs_size(); ++i) {
      if (absl::Status s = rpc::CheckIdGlob(filter.id_globs(i), i); !s.ok()) return s;
    }
    std::vector<approx::CatalogEntry> entries = catalog_->entries();
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return a.multiplier.id() < b.multiplier.id();
    });
    for (const approx::CatalogEntry& e : entries) {
      if (!rpc::MatchesFilter(filter, e.multiplier)) continue;
      absl::StatusOr<std::shared_ptr<const approx::Structure>> structure =
          approx::CachedStructure(e.multiplier);
      rpc::FillMultiplierInfo(
          e.multiplier, approx::DescribeEntry(e), approx::EntrySourceName(e),
          approx::ComputeErrorFigures(e.multiplier),
          structure.ok() ? absl::StatusOr<approx::Structure>(**structure)
                         : absl::StatusOr<approx::Structure>(structure.status()),
          response->add_multipliers());
    }
    return absl::OkStatus();
  }));
}

grpc::Status EvaluatorService::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                         v1::GetStatusResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("GetStatus", [&] {
    response->set_version("0.1.0");
    response->set_instance(options_.instance);
    SetTime(start_time_, response->mutable_start_time());
    FillDevice(options_.device, response->mutable_device());
    response->set_max_concurrent(admission_->max_running());
    response->set_max_queued(admission_->max_queued());
    response->set_running(admission_->running());
    response->set_queued(admission_->queued());
    response->set_cache_bytes(models_->loaded_bytes() + datasets_->loaded_bytes());
    response->set_cache_budget_bytes(options_.cache_budget_bytes);
    for (const auto& [id, hash] : models_->Loaded()) {
      v1::ModelRef* ref = response->add_loaded_models();
      ref->set_id(id);
      ref->set_content_hash(hash);
    }
    for (const LoadedSplitInfo& s : datasets_->Loaded()) {
      v1::LoadedSplit* out = response->add_loaded_splits();
      out->mutable_dataset()->set_id(s.dataset);
      out->mutable_dataset()->set_content_hash(s.content_hash);
      out->set_split(s.split);
      out->set_bytes(s.bytes);
    }
    response->set_cached_calibrations(calibrations_->size());
    return absl::OkStatus();
  }));
}

grpc::Status EvaluatorService::DescribeModel(grpc::ServerContext*,
                                             const v1::DescribeModelRequest* request,
                                             v1::DescribeModelResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("DescribeModel", [&]() -> absl::Status {
    if (request->model().id().empty()) return absl::InvalidArgumentError("model.id: is empty");
    absl::StatusOr<ModelListing> m = models_->Find(request->model().id());
    if (!m.ok()) return m.status();
    if (!request->model().content_hash().empty() &&
        request->model().content_hash() != m->content_hash) {
      return absl::FailedPreconditionError(
          absl::StrCat("model.content_hash: '", request->model().content_hash(), "' differs from ",
                       m->id, " held here (", m->content_hash, ")"));
    }
    FillModelInfo(*m, response->mutable_model());
    int64_t linear = 0, attention = 0;
    for (const nn::ApproximableLayer& l :
         nn::ApproximableLayers(m->description.architecture, /*include_attention_matmuls=*/true)) {
      v1::ApproximableLayer* out = response->add_layers();
      out->set_name(l.name);
      out->set_kind(rpc::LayerKindToProto(l.kind));
      SetShape(l.input_shape, out->mutable_input_shape());
      SetShape(l.weight_shape, out->mutable_weight_shape());
      SetShape(l.output_shape, out->mutable_output_shape());
      out->set_macs_per_image(l.macs_per_image);
      out->set_exact_by_default(l.exact_by_default);
      const bool is_attention = l.kind == approx::LayerKind::kAttentionQk ||
                                l.kind == approx::LayerKind::kAttentionAv;
      (is_attention ? attention : linear) += l.macs_per_image;
    }
    response->set_linear_conv_macs_per_image(linear);
    response->set_attention_macs_per_image(attention);
    return absl::OkStatus();
  }));
}

namespace {

// What Calibrate and Evaluate share: the ranges of `recipe` for the leased
// model, from the store or computed (and stored).
struct CalibrationOutcome {
  nn::ActivationRanges ranges;
  std::string id;
  bool cached = false;
};

absl::StatusOr<CalibrationOutcome> Calibration(nn::LoadedModel& model,
                                               CalibrationRecipe recipe, DatasetStore& datasets,
                                               CalibrationStore& store, EvaluatorMetrics& metrics,
                                               const std::function<absl::Status()>& interrupted) {
  absl::StatusOr<DatasetListing> dataset = datasets.Find(recipe.subset.dataset);
  if (!dataset.ok()) return AsInvalid(dataset.status(), "calibration.subset.dataset.id");
  recipe.subset.dataset_hash = dataset->content_hash;
  CalibrationOutcome out;
  out.id = CalibrationId(model.content_hash, recipe);
  if (std::optional<nn::ActivationRanges> ranges = store.Get(out.id)) {
    metrics.calibrations.WithLabels({"cache"}).Increment();
    out.ranges = *std::move(ranges);
    out.cached = true;
    return out;
  }
  absl::StatusOr<std::shared_ptr<const data::ImageSet>> images = datasets.Split(
      recipe.subset.dataset, recipe.subset.split, model.description.architecture.img_size);
  if (!images.ok()) return AsInvalid(images.status(), "calibration.subset.split");
  absl::StatusOr<std::vector<int64_t>> indices =
      SubsetIndices(recipe.subset, **images, "calibration.subset");
  if (!indices.ok()) return indices.status();
  nn::CalibrationRun run;
  run.options = recipe.options;
  run.histogram_bins = recipe.histogram_bins;
  run.cancelled = [&interrupted] { return !interrupted().ok(); };
  absl::StatusOr<nn::ActivationRanges> ranges =
      nn::CalibrateActivations(model, **images, *indices, run);
  if (!ranges.ok()) {
    if (ranges.status().code() == absl::StatusCode::kCancelled) return interrupted();
    return ranges.status();
  }
  metrics.calibrations.WithLabels({"computed"}).Increment();
  if (absl::Status s = store.Put(out.id, *ranges); !s.ok()) {
    rpc::LogWarning("calibration not persisted", {{"error", std::string(s.message())}});
  }
  out.ranges = *std::move(ranges);
  return out;
}

// The model of a request, its hash checked.
absl::StatusOr<ModelListing> RequestedModel(ModelStore& models, const v1::ModelRef& ref) {
  if (ref.id().empty()) return absl::InvalidArgumentError("model.id: is empty");
  absl::StatusOr<ModelListing> m = models.Find(ref.id());
  if (!m.ok()) return AsInvalid(m.status(), "model.id");
  if (!ref.content_hash().empty() && ref.content_hash() != m->content_hash) {
    return absl::FailedPreconditionError(absl::StrCat("model.content_hash: '", ref.content_hash(),
                                                      "' differs from ", m->id, " held here (",
                                                      m->content_hash, ")"));
  }
  return m;
}

// The dataset of a subset, its hash checked.
absl::StatusOr<DatasetListing> RequestedDataset(DatasetStore& datasets,
                                                const v1::DatasetSubset& subset,
                                                absl::string_view field) {
  absl::StatusOr<DatasetListing> d = datasets.Find(subset.dataset().id());
  if (!d.ok()) return AsInvalid(d.status(), absl::StrCat(field, ".dataset.id"));
  const std::string& want = subset.dataset().content_hash();
  if (!want.empty() && want != d->content_hash) {
    return absl::FailedPreconditionError(absl::StrCat(field, ".dataset.content_hash: '", want,
                                                      "' differs from ", d->info.name,
                                                      " held here (", d->content_hash, ")"));
  }
  return d;
}

// The images a parsed subset selects, at the model's input size.
struct SubsetImages {
  std::shared_ptr<const data::ImageSet> images;
  std::vector<int64_t> indices;
};

absl::StatusOr<SubsetImages> LoadSubset(DatasetStore& datasets, const Subset& subset,
                                        const nn::LoadedModel& model, absl::string_view field) {
  absl::StatusOr<std::shared_ptr<const data::ImageSet>> images =
      datasets.Split(subset.dataset, subset.split, model.description.architecture.img_size);
  if (!images.ok()) return AsInvalid(images.status(), absl::StrCat(field, ".split"));
  absl::StatusOr<std::vector<int64_t>> indices = SubsetIndices(subset, **images, field);
  if (!indices.ok()) return indices.status();
  return SubsetImages{*std::move(images), *std::move(indices)};
}

// The accuracy of the model as configured; an interruption ends it with
// the interruption's status.
absl::StatusOr<nn::EvalResult> RunEvaluation(nn::LoadedModel& model, const SubsetImages& subset,
                                             int batch_size,
                                             const std::function<absl::Status()>& interrupted) {
  nn::EvalRun run;
  run.batch_size = batch_size;
  run.cancelled = [&interrupted] { return !interrupted().ok(); };
  absl::StatusOr<nn::EvalResult> result = nn::Evaluate(model, *subset.images, subset.indices, run);
  if (!result.ok() && result.status().code() == absl::StatusCode::kCancelled) return interrupted();
  return result;
}

}  // namespace

grpc::Status EvaluatorService::Calibrate(grpc::ServerContext* context,
                                         const v1::CalibrateRequest* request,
                                         v1::CalibrateResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("Calibrate", [&]() -> absl::Status {
    const auto interrupted = Interruption(context);
    absl::StatusOr<ModelListing> m = RequestedModel(*models_, request->model());
    if (!m.ok()) return m.status();
    absl::StatusOr<CalibrationRecipe> recipe = ParseCalibration(request->calibration(), "", true);
    if (!recipe.ok()) return recipe.status();
    absl::StatusOr<DatasetListing> dataset =
        RequestedDataset(*datasets_, request->calibration().subset(), "calibration.subset");
    if (!dataset.ok()) return dataset.status();

    absl::StatusOr<Admission::Slot> slot = admission_->Enter(interrupted);
    if (!slot.ok()) return slot.status();
    const absl::Time start = absl::Now();
    absl::StatusOr<ModelStore::Lease> lease =
        models_->Acquire(m->id, m->content_hash, interrupted);
    if (!lease.ok()) return lease.status();
    absl::StatusOr<CalibrationOutcome> calibration = Calibration(
        lease->model(), *recipe, *datasets_, *calibrations_, *metrics_, interrupted);
    if (!calibration.ok()) return calibration.status();

    response->set_calibration_id(calibration->id);
    response->set_cached(calibration->cached);
    response->mutable_model()->set_id(m->id);
    response->mutable_model()->set_content_hash(m->content_hash);
    const bool weight_scales = request->include_weight_scales() ||
                               recipe->weight_quantization == approx::WeightQuantization::kPerTensor;
    for (const nn::ApproximableLayer& l : nn::ApproximableLayers(
             m->description.architecture, request->include_attention_matmuls())) {
      auto it = calibration->ranges.amax.find(l.name);
      if (it == calibration->ranges.amax.end() || it->second.empty()) continue;
      v1::LayerCalibration* out = response->add_layers();
      out->set_layer(l.name);
      out->set_input_amax(it->second[0]);
      out->set_input_scale(it->second[0] / 127.0);
      std::vector<double> b_amax;
      if (it->second.size() > 1) {
        b_amax = {it->second[1]};  // attention: operand B is an activation
      } else if (weight_scales) {
        b_amax = WeightAmax(lease->model(), l.name, recipe->weight_quantization);
      }
      for (double a : b_amax) {
        out->add_weight_amax(a);
        out->add_weight_scale(a / 127.0);
      }
    }
    SetDuration(absl::Now() - start, response->mutable_wall_time());
    return absl::OkStatus();
  }));
}

grpc::Status EvaluatorService::Evaluate(grpc::ServerContext* context,
                                        const v1::EvaluateRequest* request,
                                        v1::EvaluateResponse* response) {
  const absl::Status status = rpc::Guarded("Evaluate", [&]() -> absl::Status {
    const auto interrupted = Interruption(context);
    const bool fp32 = request->precision() == v1::PRECISION_FP32;
    if (request->precision() != v1::PRECISION_UNSPECIFIED &&
        request->precision() != v1::PRECISION_INT8 && !fp32) {
      return absl::InvalidArgumentError(
          absl::StrCat("precision: unknown value ", request->precision()));
    }
    if (request->batch_size() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("batch_size: ", request->batch_size(), " is negative"));
    }
    absl::StatusOr<ModelListing> m = RequestedModel(*models_, request->model());
    if (!m.ok()) return m.status();
    if (!request->has_subset()) return absl::InvalidArgumentError("subset: is required");
    absl::StatusOr<Subset> subset = ParseSubset(request->subset(), "subset");
    if (!subset.ok()) return subset.status();
    absl::StatusOr<DatasetListing> dataset =
        RequestedDataset(*datasets_, request->subset(), "subset");
    if (!dataset.ok()) return dataset.status();

    std::vector<std::pair<std::string, std::string>> assignments;
    std::optional<CalibrationRecipe> recipe;
    if (fp32) {
      if (request->configuration().assignments_size() > 0 ||
          request->configuration().has_default_multiplier() ||
          request->include_attention_matmuls()) {
        return absl::InvalidArgumentError(
            "configuration: must be empty with PRECISION_FP32 (the float baseline)");
      }
    } else {
      absl::StatusOr<std::vector<std::pair<std::string, std::string>>> resolved =
          ParseConfiguration(request->configuration(), request->include_attention_matmuls(),
                             m->description.architecture, *catalog_);
      if (!resolved.ok()) return resolved.status();
      assignments = *std::move(resolved);
      absl::StatusOr<CalibrationRecipe> parsed =
          ParseCalibration(request->calibration(), subset->dataset, false);
      if (!parsed.ok()) return parsed.status();
      recipe = *parsed;
    }

    const absl::Time queued = absl::Now();
    absl::StatusOr<Admission::Slot> slot = admission_->Enter(interrupted);
    if (!slot.ok()) return slot.status();
    absl::StatusOr<ModelStore::Lease> lease =
        models_->Acquire(m->id, m->content_hash, interrupted);
    if (!lease.ok()) return lease.status();
    const absl::Time start = absl::Now();
    nn::LoadedModel& model = lease->model();
    absl::StatusOr<SubsetImages> images = LoadSubset(*datasets_, *subset, model, "subset");
    if (!images.ok()) return images.status();

    if (recipe) {
      absl::StatusOr<CalibrationOutcome> calibration =
          Calibration(model, *recipe, *datasets_, *calibrations_, *metrics_, interrupted);
      if (!calibration.ok()) return calibration.status();
      if (absl::Status s = nn::ApplyConfiguration(model, assignments, *catalog_,
                                                  calibration->ranges, recipe->weight_quantization);
          !s.ok()) {
        return s;
      }
      response->set_config_hash(ConfigurationHash(assignments, *catalog_));
      response->set_calibration_id(calibration->id);
    } else {
      nn::UseFloat(model);
    }
    absl::StatusOr<nn::EvalResult> result = RunEvaluation(
        model, *images,
        request->batch_size() > 0 ? request->batch_size() : options_.default_batch_size,
        interrupted);
    if (!result.ok()) return result.status();
    const absl::Duration wall = absl::Now() - start;
    FillAccuracy(*result, response->mutable_accuracy());
    SetDuration(wall, response->mutable_wall_time());
    SetDuration(start - queued, response->mutable_queue_time());
    response->set_images_per_second(result->n / std::max(absl::ToDoubleSeconds(wall), 1e-9));
    FillDevice(options_.device, response->mutable_device());
    response->mutable_model()->set_id(m->id);
    response->mutable_model()->set_content_hash(m->content_hash);
    response->mutable_dataset()->set_id(dataset->info.name);
    response->mutable_dataset()->set_content_hash(dataset->content_hash);
    metrics_->evaluation_seconds.Observe(absl::ToDoubleSeconds(wall));
    metrics_->images_per_second.Set(response->images_per_second());
    return absl::OkStatus();
  });
  metrics_->evaluations.WithLabels({absl::StatusCodeToString(status.code())}).Increment();
  return rpc::ToGrpc(status);
}

namespace {

// A subset of a request, parsed, its dataset and hash checked.
absl::StatusOr<Subset> RequestedSubset(DatasetStore& datasets, const v1::DatasetSubset& proto,
                                       absl::string_view field) {
  absl::StatusOr<Subset> subset = ParseSubset(proto, field);
  if (!subset.ok()) return subset.status();
  if (absl::StatusOr<DatasetListing> d = RequestedDataset(datasets, proto, field); !d.ok()) {
    return d.status();
  }
  return subset;
}

// What a fine-tuned model's model.json tells about its origin.
nlohmann::json FineTuneProvenance(const ModelListing& base, const std::string& config_hash,
                                  const std::vector<std::pair<std::string, std::string>>& assignments,
                                  const v1::FineTuneRequest& request, int64_t steps) {
  nlohmann::json configuration = nlohmann::json::object();
  for (const auto& [layer, id] : assignments) configuration[layer] = id;
  nlohmann::json out = base.description.provenance;
  out["description"] = absl::StrCat("fine-tuned from ", base.id, " for configuration ",
                                    config_hash.substr(0, 12));
  out["fine_tuned_from"] = {{"id", base.id}, {"content_hash", base.content_hash}};
  out["fine_tuning"] = {
      {"config_hash", config_hash},
      {"configuration", configuration},
      {"train_subset", {{"dataset", request.train_subset().dataset().id()},
                        {"split", request.train_subset().split()}}},
      {"steps", steps},
      {"seed", request.seed()},
      {"gradient_mode", v1::GradientMode_Name(request.gradient_mode())},
      {"optimizer", v1::OptimizerKind_Name(request.optimizer().kind())}};
  return out;
}

}  // namespace

grpc::Status EvaluatorService::FineTune(grpc::ServerContext* context,
                                        const v1::FineTuneRequest* request,
                                        grpc::ServerWriter<v1::FineTuneEvent>* writer) {
  const absl::Status status = rpc::Guarded("FineTune", [&]() -> absl::Status {
    const auto interrupted = Interruption(context);
    absl::StatusOr<ModelListing> base = RequestedModel(*models_, request->model());
    if (!base.ok()) return base.status();
    if (!request->has_configuration()) return absl::InvalidArgumentError("configuration: is required");
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> assignments =
        ParseConfiguration(request->configuration(), request->include_attention_matmuls(),
                           base->description.architecture, *catalog_);
    if (!assignments.ok()) return assignments.status();
    if (!request->has_train_subset()) return absl::InvalidArgumentError("train_subset: is required");
    absl::StatusOr<Subset> train_subset =
        RequestedSubset(*datasets_, request->train_subset(), "train_subset");
    if (!train_subset.ok()) return train_subset.status();
    std::optional<Subset> validation_subset;
    if (request->has_validation_subset()) {
      absl::StatusOr<Subset> parsed =
          RequestedSubset(*datasets_, request->validation_subset(), "validation_subset");
      if (!parsed.ok()) return parsed.status();
      validation_subset = *parsed;
    }
    absl::StatusOr<CalibrationRecipe> recipe =
        ParseCalibration(request->calibration(), train_subset->dataset, false);
    if (!recipe.ok()) return recipe.status();
    absl::StatusOr<FineTuneSettings> settings = ParseFineTuneSettings(*request);
    if (!settings.ok()) return settings.status();
    if (!settings->output_model_id.empty() && models_->Find(settings->output_model_id).ok()) {
      return OutputIdTaken(settings->output_model_id);
    }

    absl::StatusOr<Admission::Slot> slot = admission_->Enter(interrupted);
    if (!slot.ok()) return slot.status();
    const absl::Time start = absl::Now();
    // A private copy: the store's instance keeps serving evaluations.
    absl::StatusOr<nn::LoadedModel> model = nn::LoadModelDir(base->dir);
    if (!model.ok()) return model.status();
    if (model->content_hash != base->content_hash) {
      return absl::FailedPreconditionError(absl::StrCat(
          "model.id: ", base->id, " changed on disk while the request was checked; retry"));
    }
    model->module->to(options_.device);
    absl::StatusOr<SubsetImages> train = LoadSubset(*datasets_, *train_subset, *model, "train_subset");
    if (!train.ok()) return train.status();
    std::optional<SubsetImages> validation;
    if (validation_subset) {
      absl::StatusOr<SubsetImages> loaded =
          LoadSubset(*datasets_, *validation_subset, *model, "validation_subset");
      if (!loaded.ok()) return loaded.status();
      validation = *std::move(loaded);
    }
    const int batch = static_cast<int>(settings->train.batch_size);

    // Quantizes the model's current weights for the configuration, as
    // Evaluate does, and measures the validation accuracy when asked.
    auto configure = [&](v1::Accuracy* accuracy) -> absl::StatusOr<std::string> {
      nn::UseFloat(*model);
      absl::StatusOr<CalibrationOutcome> calibration =
          Calibration(*model, *recipe, *datasets_, *calibrations_, *metrics_, interrupted);
      if (!calibration.ok()) return calibration.status();
      if (absl::Status s = nn::ApplyConfiguration(*model, *assignments, *catalog_,
                                                  calibration->ranges, recipe->weight_quantization,
                                                  settings->gradient_mode);
          !s.ok()) {
        return s;
      }
      if (validation && accuracy != nullptr) {
        absl::StatusOr<nn::EvalResult> r = RunEvaluation(*model, *validation, batch, interrupted);
        if (!r.ok()) return r.status();
        FillAccuracy(*r, accuracy);
      }
      return calibration->id;
    };
    v1::FineTuneEvent done;
    v1::FineTuneResult* result = done.mutable_result();
    if (absl::StatusOr<std::string> id = configure(result->mutable_validation_before()); !id.ok()) {
      return id.status();
    }
    if (!validation) result->clear_validation_before();

    nn::TrainOptions options = TrainOptionsFor(*settings, static_cast<int64_t>(train->indices.size()));
    bool client_gone = false;
    double last_loss = 0;
    absl::Time last_event = absl::Now();
    int64_t last_step = 0;
    options.cancelled = [&] { return client_gone || !interrupted().ok(); };
    options.progress = [&](const nn::TrainProgress& p) {
      const absl::Time now = absl::Now();
      v1::FineTuneEvent event;
      SetTime(now, event.mutable_time());
      v1::FineTuneProgress* out = event.mutable_progress();
      out->set_epoch(static_cast<int32_t>(p.epoch));
      out->set_step(p.step);
      out->set_loss(p.window_loss);
      out->set_running_top1(p.window_accuracy);
      out->set_learning_rate(p.learning_rate);
      const double seconds = absl::ToDoubleSeconds(now - last_event);
      out->set_images_per_second(seconds > 0 ? (p.step - last_step) * batch / seconds : 0);
      out->mutable_progress()->set_done(p.step);
      out->mutable_progress()->set_total(p.total_steps);
      out->mutable_progress()->set_unit("steps");
      SetDuration(now - start, out->mutable_progress()->mutable_elapsed());
      SetDuration(absl::Seconds(p.eta_seconds), out->mutable_progress()->mutable_eta());
      last_loss = p.window_loss;
      last_event = now;
      last_step = p.step;
      if (!writer->Write(event)) client_gone = true;
    };
    if (absl::Status s = nn::Train(*model, *train->images, train->indices, options); !s.ok()) {
      if (s.code() != absl::StatusCode::kCancelled) return s;
      if (absl::Status why = interrupted(); !why.ok()) return why;
      return absl::CancelledError("the client stopped reading the progress stream");
    }

    // The new version: staged (hidden) until it is recalibrated and
    // validated, then published under its id.
    nn::ModelDescription description = base->description;
    const std::string config_hash = ConfigurationHash(*assignments, *catalog_);
    description.provenance =
        FineTuneProvenance(*base, config_hash, *assignments, *request, options.steps);
    absl::StatusOr<StagedModel> staged =
        StagedModel::Write(models_->root(), description, model->module);
    if (!staged.ok()) return staged.status();
    model->content_hash = staged->content_hash();
    absl::StatusOr<std::string> calibration_id = configure(result->mutable_validation_after());
    if (!calibration_id.ok()) return calibration_id.status();
    if (!validation) result->clear_validation_after();
    if (absl::Status s = interrupted(); !s.ok()) return s;
    absl::StatusOr<std::string> id = staged->Publish(settings->output_model_id, base->id);
    if (!id.ok()) return id.status();

    result->mutable_model()->set_id(*id);
    result->mutable_model()->set_content_hash(staged->content_hash());
    result->mutable_base_model()->set_id(base->id);
    result->mutable_base_model()->set_content_hash(base->content_hash);
    result->set_config_hash(config_hash);
    result->set_calibration_id(*calibration_id);
    result->set_steps(options.steps);
    result->set_final_loss(last_loss);
    SetDuration(absl::Now() - start, result->mutable_wall_time());
    SetTime(absl::Now(), done.mutable_time());
    writer->Write(done);
    return absl::OkStatus();
  });
  metrics_->fine_tunes.WithLabels({absl::StatusCodeToString(status.code())}).Increment();
  return rpc::ToGrpc(status);
}

}  // namespace transaxx::evaluator
