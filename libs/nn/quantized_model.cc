#include "libs/nn/quantized_model.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/utils.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "libs/nn/image_batch.h"

namespace transaxx::nn {

nlohmann::json ActivationRangesToJson(const ActivationRanges& ranges) {
  nlohmann::json layers = nlohmann::json::object();
  for (const auto& [name, amax] : ranges.amax) layers[name] = amax;
  return {{"method", approx::CalibrationMethodName(ranges.options.method)},
          {"percentile", ranges.options.percentile},
          {"images", ranges.images},
          {"amax", layers}};
}

absl::StatusOr<ActivationRanges> ActivationRangesFromJson(const nlohmann::json& json) {
  auto invalid = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("activation ranges: ", what));
  };
  if (!json.is_object() || !json.contains("method") || !json["method"].is_string() ||
      !json.contains("amax") || !json["amax"].is_object()) {
    return invalid("expected an object with method and amax");
  }
  ActivationRanges ranges;
  absl::StatusOr<approx::CalibrationMethod> method =
      approx::ParseCalibrationMethod(json["method"].get<std::string>());
  if (!method.ok()) return invalid(method.status().message());
  ranges.options.method = *method;
  if (json.contains("percentile") && json["percentile"].is_number()) {
    ranges.options.percentile = json["percentile"].get<double>();
  }
  if (json.contains("images") && json["images"].is_number_integer()) {
    ranges.images = json["images"].get<int64_t>();
  }
  for (const auto& [name, values] : json["amax"].items()) {
    if (!values.is_array() || values.empty()) return invalid(absl::StrCat(name, ": not a list"));
    for (const auto& v : values) {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) {
        return invalid(absl::StrCat(name, ": ranges must be finite and >= 0"));
      }
      ranges.amax[name].push_back(v.get<float>());
    }
  }
  return ranges;
}

absl::StatusOr<ActivationRanges> CalibrateActivations(LoadedModel& model,
                                                      const data::ImageSet& images,
                                                      std::span<const int64_t> indices,
                                                      const CalibrationRun& run) {
  if (indices.empty()) return absl::InvalidArgumentError("calibration needs at least one image");
  if (run.batch_size < 1) return absl::InvalidArgumentError("calibration batch size must be >= 1");
  if (absl::Status s = CheckImagesFitModel(images, model.description); !s.ok()) return s;
  if (!approx::AbsHistogram::Create(run.histogram_bins).ok()) {
    return absl::InvalidArgumentError(absl::StrCat("histogram bins must be even and >= ",
                                                   approx::AbsHistogram::kMinBins, ", got ",
                                                   run.histogram_bins));
  }
  UseFloat(model);
  const std::vector<ApproxSite*> sites = model.module->sites();
  for (ApproxSite* s : sites) s->set_recording(run.histogram_bins);
  absl::Status status;
  const at::Device device = ModelDevice(model);
  try {
    torch::NoGradGuard no_grad;
    for (size_t begin = 0; begin < indices.size(); begin += static_cast<size_t>(run.batch_size)) {
      if (run.cancelled && run.cancelled()) {
        status = absl::CancelledError("calibration cancelled");
        break;
      }
      const auto batch = indices.subspan(
          begin, std::min(indices.size() - begin, static_cast<size_t>(run.batch_size)));
      model.module->forward(ImageBatch(images, batch, model.description).to(device));
    }
  } catch (const c10::Error& e) {
    status = absl::InvalidArgumentError(e.what_without_backtrace());
  }
  ActivationRanges ranges;
  ranges.options = run.options;
  ranges.images = static_cast<int64_t>(indices.size());
  for (ApproxSite* s : sites) {
    for (const approx::AbsHistogram& h : s->histograms()) {
      if (!status.ok()) break;
      absl::StatusOr<float> amax = approx::Calibrate(h, run.options);
      if (!amax.ok()) {
        status = amax.status();
        break;
      }
      ranges.amax[s->name()].push_back(*amax);
    }
    s->set_recording(std::nullopt);
  }
  if (!status.ok()) return status;
  return ranges;
}

void UseFloat(LoadedModel& model) {
  for (ApproxSite* s : model.module->sites()) s->set_quantization(std::nullopt);
}

absl::Status ApplyConfiguration(LoadedModel& model,
                                const std::vector<std::pair<std::string, std::string>>& assignments,
                                const approx::Catalog& catalog, const ActivationRanges& ranges,
                                approx::WeightQuantization weight_quantization,
                                approx::GradientMode gradient_mode) {
  std::map<ApproxSite*, SiteQuantization> plan;
  for (const auto& [layer, id] : assignments) {
    ApproxSite* site = model.module->site(layer);
    if (site == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("the model has no layer ", layer));
    }
    absl::StatusOr<approx::CatalogEntry> entry = catalog.Get(id);
    if (!entry.ok()) {
      return absl::Status(entry.status().code(),
                          absl::StrCat("layer ", layer, ": ", entry.status().message()));
    }
    auto range = ranges.amax.find(layer);
    if (range == ranges.amax.end() ||
        static_cast<int>(range->second.size()) != site->num_activation_operands()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the calibration has no activation range for layer ", layer));
    }
    plan.emplace(site, SiteQuantization{entry->multiplier, range->second, weight_quantization,
                                        gradient_mode == approx::GradientMode::kTableAware
                                            ? approx::CachedTableGradient(entry->multiplier)
                                            : nullptr});
  }
  for (ApproxSite* s : model.module->sites()) {
    auto it = plan.find(s);
    s->set_quantization(it == plan.end() ? std::nullopt
                                         : std::optional<SiteQuantization>(it->second));
  }
  return absl::OkStatus();
}

}  // namespace transaxx::nn
