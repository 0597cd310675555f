// Validation and canonical forms of the evaluator's request parts: dataset
// subsets, calibration recipes and configurations (common.proto). Errors
// name the request field, as the contract asks, e.g.
// "subset.stratified.size: 70000 is larger than split test (10000 images)".
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_SERVICES_EVALUATOR_REQUESTS_H_
#define TRANSAXX_SERVICES_EVALUATOR_REQUESTS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/approx/calibration.h"
#include "libs/approx/catalog.h"
#include "libs/approx/torch/approx_ops.h"
#include "libs/data/image_set.h"
#include "libs/nn/approx_config.h"
#include "transaxx/v1/common.pb.h"

namespace transaxx::evaluator {

struct Subset {
  enum class Kind { kAll, kRange, kStratified };
  std::string dataset, dataset_hash, split;
  Kind kind = Kind::kAll;
  int64_t offset = 0, limit = 0;  // kRange
  int64_t size = 0;               // kStratified
  uint64_t seed = 0;              // kStratified
};

// The subset of `proto`; `field` is its name in the request. INVALID_ARGUMENT
// for an empty dataset id or split, a negative offset or limit, a sample size
// below 1.
absl::StatusOr<Subset> ParseSubset(const v1::DatasetSubset& proto, absl::string_view field);

// The indices the subset selects of `images` (its split). INVALID_ARGUMENT
// naming `field` for a range or sample beyond the split, or an empty result.
absl::StatusOr<std::vector<int64_t>> SubsetIndices(const Subset& subset,
                                                   const data::ImageSet& images,
                                                   absl::string_view field);

struct CalibrationRecipe {
  Subset subset;
  approx::CalibrationOptions options;
  int histogram_bins = 2048;
  approx::WeightQuantization weight_quantization = approx::WeightQuantization::kPerChannel;
};

// The recipe of `spec` with the contract's defaults: percentile 99.99, per
// channel, 2048 bins, and, when `spec.subset` is not set and
// `subset_required` is false, a stratified sample of 1024 images (seed 0) of
// split "train" of `default_dataset`. INVALID_ARGUMENT naming the field for
// a missing required subset, a percentile outside (0, 100] or set with
// another method, bins outside 128..65536.
absl::StatusOr<CalibrationRecipe> ParseCalibration(const v1::CalibrationSpec& spec,
                                                   const std::string& default_dataset,
                                                   bool subset_required);

// The calibration id: SHA-256 of the model's content hash and the recipe's
// canonical text (subset with the dataset's content hash, method,
// percentile, bins, granularity). REQUIRES: recipe.subset.dataset_hash set.
std::string CalibrationId(const std::string& model_hash, const CalibrationRecipe& recipe);

// The configuration of `proto` as (layer, multiplier id) pairs in model order
// (nn::ResolveConfig), after checking every multiplier reference against
// `catalog`: INVALID_ARGUMENT naming the item for an empty layer or id, a
// layer listed twice, a missing content_hash, an unknown multiplier, and
// ResolveConfig's errors (unknown layer, uncovered layer, attention matmuls
// not included); FAILED_PRECONDITION naming the multiplier when its
// content_hash differs from the catalog's table.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseConfiguration(
    const v1::Configuration& proto, bool include_attention_matmuls,
    const nn::VitConfig& architecture, const approx::Catalog& catalog);

// The configuration hash (approx::ConfigHash) of resolved assignments.
std::string ConfigurationHash(const std::vector<std::pair<std::string, std::string>>& assignments,
                              const approx::Catalog& catalog);

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_REQUESTS_H_
