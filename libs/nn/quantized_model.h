// Post-training int8 quantization of a model with approximate multipliers:
// calibrate the activation ranges of every approximable operation on a set
// of images (the model runs in float meanwhile), then apply a resolved
// configuration (approx_config.h): the listed layers run quantized on their
// multipliers with those ranges, every other operation in float.
//
// Thread-safety: functions mutate the model's sites; one caller per model.
#ifndef TRANSAXX_LIBS_NN_QUANTIZED_MODEL_H_
#define TRANSAXX_LIBS_NN_QUANTIZED_MODEL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/approx/calibration.h"
#include "libs/approx/catalog.h"
#include "libs/approx/torch/approx_ops.h"
#include "libs/approx/torch/table_gradient.h"
#include "libs/data/image_set.h"
#include "libs/nn/model_dir.h"

namespace transaxx::nn {

// Clipping ranges of every site's activation operands (one each, two for
// attention matmuls), by site name.
struct ActivationRanges {
  std::map<std::string, std::vector<float>> amax;
  approx::CalibrationOptions options;
  int64_t images = 0;
};

nlohmann::json ActivationRangesToJson(const ActivationRanges& ranges);
// INVALID_ARGUMENT for a malformed document.
absl::StatusOr<ActivationRanges> ActivationRangesFromJson(const nlohmann::json& json);

struct CalibrationRun {
  approx::CalibrationOptions options;
  int histogram_bins = approx::AbsHistogram::kDefaultBins;
  int64_t batch_size = 128;
  // Polled between batches: true stops with CANCELLED.
  std::function<bool()> cancelled;
};

// Runs `indices` of `images` through the float model and calibrates every
// site. FAILED_PRECONDITION when the images do not fit the model;
// INVALID_ARGUMENT for no images or bad options. Leaves every site in float.
absl::StatusOr<ActivationRanges> CalibrateActivations(LoadedModel& model,
                                                      const data::ImageSet& images,
                                                      std::span<const int64_t> indices,
                                                      const CalibrationRun& run);

// Every site back to float32.
void UseFloat(LoadedModel& model);

// Quantizes each (layer, multiplier ID) of `assignments` (ResolveConfig)
// with the catalog's multiplier and the calibrated ranges; every other site
// runs in float. `gradient_mode` chooses the backward pass of the quantized
// sites for fine-tuning (approx_ops.h); it does not change the forward. All or nothing: NOT_FOUND / INVALID_ARGUMENT naming an
// unknown multiplier or layer, FAILED_PRECONDITION for a layer the ranges
// do not cover, and the model is left unchanged.
absl::Status ApplyConfiguration(LoadedModel& model,
                                const std::vector<std::pair<std::string, std::string>>& assignments,
                                const approx::Catalog& catalog, const ActivationRanges& ranges,
                                approx::WeightQuantization weight_quantization,
                                approx::GradientMode gradient_mode =
                                    approx::GradientMode::kStraightThrough);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_QUANTIZED_MODEL_H_
