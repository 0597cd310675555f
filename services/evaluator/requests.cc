#include "services/evaluator/requests.h"

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/approx/config_power.h"
#include "libs/approx/sha256.h"
#include "libs/data/subset.h"

namespace transaxx::evaluator {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

std::string CanonicalSubset(const Subset& s) {
  std::string text = absl::StrCat(s.dataset, "@", s.dataset_hash, ":", s.split);
  switch (s.kind) {
    case Subset::Kind::kAll:
      return absl::StrCat(text, ":all");
    case Subset::Kind::kRange:
      return absl::StrCat(text, ":range:", s.offset, ":", s.limit);
    case Subset::Kind::kStratified:
      return absl::StrCat(text, ":stratified:", s.size, ":", s.seed);
  }
  return text;
}

// Looks a referenced multiplier up and checks its content hash.
absl::StatusOr<std::string> CheckedMultiplier(const v1::MultiplierRef& ref, absl::string_view field,
                                              const approx::Catalog& catalog) {
  if (ref.id().empty()) return Invalid(field, "multiplier id is empty");
  if (ref.content_hash().empty()) {
    return Invalid(field, absl::StrCat("multiplier '", ref.id(),
                                       "' has no content_hash (required, see common.proto)"));
  }
  absl::StatusOr<approx::CatalogEntry> entry = catalog.Get(ref.id());
  if (!entry.ok()) {
    return Invalid(field, absl::StrCat("unknown multiplier '", ref.id(), "': ",
                                       entry.status().message()));
  }
  if (entry->multiplier.content_hash() != ref.content_hash()) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": multiplier '", ref.id(), "' has content hash ", ref.content_hash(),
        " in the request but ", entry->multiplier.content_hash(), " on this evaluator"));
  }
  return ref.id();
}

}  // namespace

absl::StatusOr<Subset> ParseSubset(const v1::DatasetSubset& proto, absl::string_view field) {
  Subset s;
  s.dataset = proto.dataset().id();
  s.split = proto.split();
  if (s.dataset.empty()) return Invalid(absl::StrCat(field, ".dataset.id"), "is empty");
  if (s.split.empty()) return Invalid(absl::StrCat(field, ".split"), "is empty");
  switch (proto.selection_case()) {
    case v1::DatasetSubset::kRange:
      s.kind = Subset::Kind::kRange;
      s.offset = proto.range().offset();
      s.limit = proto.range().limit();
      if (s.offset < 0 || s.limit < 0) {
        return Invalid(absl::StrCat(field, ".range"), "offset and limit must be >= 0");
      }
      break;
    case v1::DatasetSubset::kStratified:
      s.kind = Subset::Kind::kStratified;
      s.size = proto.stratified().size();
      s.seed = proto.stratified().seed();
      if (s.size < 1) return Invalid(absl::StrCat(field, ".stratified.size"), "must be >= 1");
      break;
    case v1::DatasetSubset::SELECTION_NOT_SET:
      break;
  }
  return s;
}

absl::StatusOr<std::vector<int64_t>> SubsetIndices(const Subset& subset,
                                                   const data::ImageSet& images,
                                                   absl::string_view field) {
  const int64_t n = images.size();
  absl::StatusOr<std::vector<int64_t>> indices;
  switch (subset.kind) {
    case Subset::Kind::kAll:
      indices = data::OffsetLimitSubset(n, 0, 0);
      break;
    case Subset::Kind::kRange:
      if (subset.offset + subset.limit > n || subset.offset >= n) {
        return Invalid(absl::StrCat(field, ".range"),
                       absl::StrFormat("offset %d + limit %d is beyond split %s (%d images)",
                                       subset.offset, subset.limit, subset.split, n));
      }
      indices = data::OffsetLimitSubset(n, subset.offset, subset.limit);
      break;
    case Subset::Kind::kStratified:
      if (subset.size > n) {
        return Invalid(absl::StrCat(field, ".stratified.size"),
                       absl::StrFormat("%d is larger than split %s (%d images)", subset.size,
                                       subset.split, n));
      }
      indices = data::StratifiedSample(images.labels, images.num_classes, subset.size, subset.seed);
      break;
  }
  if (!indices.ok()) return Invalid(field, indices.status().message());
  if (indices->empty()) return Invalid(field, absl::StrCat("split ", subset.split, " is empty"));
  return indices;
}

absl::StatusOr<CalibrationRecipe> ParseCalibration(const v1::CalibrationSpec& spec,
                                                   const std::string& default_dataset,
                                                   bool subset_required) {
  CalibrationRecipe recipe;
  if (spec.has_subset()) {
    absl::StatusOr<Subset> subset = ParseSubset(spec.subset(), "calibration.subset");
    if (!subset.ok()) return subset.status();
    recipe.subset = *subset;
  } else if (subset_required) {
    return Invalid("calibration.subset", "is required");
  } else {
    recipe.subset.dataset = default_dataset;
    recipe.subset.split = "train";
    recipe.subset.kind = Subset::Kind::kStratified;
    recipe.subset.size = 1024;
  }
  switch (spec.method()) {
    case v1::CALIBRATION_METHOD_UNSPECIFIED:
    case v1::CALIBRATION_METHOD_PERCENTILE:
      recipe.options.method = approx::CalibrationMethod::kPercentile;
      break;
    case v1::CALIBRATION_METHOD_MAX:
      recipe.options.method = approx::CalibrationMethod::kMax;
      break;
    case v1::CALIBRATION_METHOD_MSE:
      recipe.options.method = approx::CalibrationMethod::kMse;
      break;
    case v1::CALIBRATION_METHOD_ENTROPY:
      recipe.options.method = approx::CalibrationMethod::kEntropy;
      break;
    default:
      return Invalid("calibration.method", absl::StrCat("unknown value ", spec.method()));
  }
  if (spec.has_percentile()) {
    if (recipe.options.method != approx::CalibrationMethod::kPercentile) {
      return Invalid("calibration.percentile", "is only for CALIBRATION_METHOD_PERCENTILE");
    }
    if (!(spec.percentile() > 0 && spec.percentile() <= 100)) {
      return Invalid("calibration.percentile",
                     absl::StrCat(spec.percentile(), " is outside (0, 100]"));
    }
    recipe.options.percentile = spec.percentile();
  }
  if (spec.histogram_bins() != 0) {
    if (spec.histogram_bins() < 128 || spec.histogram_bins() > 65536) {
      return Invalid("calibration.histogram_bins",
                     absl::StrCat(spec.histogram_bins(), " is outside 128..65536"));
    }
    recipe.histogram_bins = spec.histogram_bins();
  }
  switch (spec.weight_granularity()) {
    case v1::WEIGHT_GRANULARITY_UNSPECIFIED:
    case v1::WEIGHT_GRANULARITY_PER_CHANNEL:
      break;
    case v1::WEIGHT_GRANULARITY_PER_TENSOR:
      recipe.weight_quantization = approx::WeightQuantization::kPerTensor;
      break;
    default:
      return Invalid("calibration.weight_granularity",
                     absl::StrCat("unknown value ", spec.weight_granularity()));
  }
  return recipe;
}

std::string CalibrationId(const std::string& model_hash, const CalibrationRecipe& recipe) {
  const bool percentile = recipe.options.method == approx::CalibrationMethod::kPercentile;
  return approx::Sha256Hex(absl::StrCat(
      "transaxx-calibration-v1\n", model_hash, "\n", CanonicalSubset(recipe.subset), "\n",
      approx::CalibrationMethodName(recipe.options.method), "\n",
      percentile ? absl::StrFormat("%.17g", recipe.options.percentile) : "-", "\n",
      recipe.histogram_bins, "\n",
      recipe.weight_quantization == approx::WeightQuantization::kPerChannel ? "per_channel"
                                                                            : "per_tensor",
      "\n"));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseConfiguration(
    const v1::Configuration& proto, bool include_attention_matmuls,
    const nn::VitConfig& architecture, const approx::Catalog& catalog) {
  nn::ApproxConfig config;
  config.include_attention_matmuls = include_attention_matmuls;
  for (int i = 0; i < proto.assignments_size(); ++i) {
    const v1::LayerAssignment& a = proto.assignments(i);
    const std::string field = absl::StrCat("configuration.assignments[", i, "]");
    if (a.layer().empty()) return Invalid(absl::StrCat(field, ".layer"), "is empty");
    absl::StatusOr<std::string> id = CheckedMultiplier(a.multiplier(), field, catalog);
    if (!id.ok()) return id.status();
    if (!config.layers.emplace(a.layer(), *id).second) {
      return Invalid(field, absl::StrCat("layer '", a.layer(), "' is listed twice"));
    }
  }
  if (proto.has_default_multiplier()) {
    absl::StatusOr<std::string> id =
        CheckedMultiplier(proto.default_multiplier(), "configuration.default_multiplier", catalog);
    if (!id.ok()) return id.status();
    config.default_multiplier = *id;
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> resolved =
      nn::ResolveConfig(config, architecture);
  if (!resolved.ok()) return Invalid("configuration", resolved.status().message());
  return resolved;
}

std::string ConfigurationHash(const std::vector<std::pair<std::string, std::string>>& assignments,
                              const approx::Catalog& catalog) {
  std::vector<std::pair<std::string, std::string>> layer_hashes;
  for (const auto& [layer, id] : assignments) {
    layer_hashes.emplace_back(layer, catalog.Get(id)->multiplier.content_hash());
  }
  return approx::ConfigHash(std::move(layer_hashes));
}

}  // namespace transaxx::evaluator
