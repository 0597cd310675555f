#include "cli/evaluator_requests.h"

#include "absl/strings/str_cat.h"
#include "cli/local_flags.h"
#include "cli/remote.h"
#include "libs/approx/calibration.h"
#include "libs/nn/approx_config.h"

namespace transaxx::cli {

absl::StatusOr<v1::MultiplierRef> MultiplierRef(const std::string& id,
                                                const approx::Catalog& catalog,
                                                v1::Evaluator::Stub& stub,
                                                rpc::ClientChannel& channel, const Args& args) {
  v1::MultiplierRef ref;
  ref.set_id(id);
  if (absl::StatusOr<approx::CatalogEntry> local = catalog.Get(id); local.ok()) {
    ref.set_content_hash(local->multiplier.content_hash());
    return ref;
  }
  v1::ListEvaluatorMultipliersRequest request;
  request.mutable_filter()->add_id_globs(id);
  v1::ListEvaluatorMultipliersResponse response;
  auto context = channel.NewCall();
  if (absl::Status s = FromGrpc(stub.ListMultipliers(context.get(), request, &response), args);
      !s.ok()) {
    return s;
  }
  for (const v1::MultiplierInfo& m : response.multipliers()) {
    if (m.ref().id() == id) return m.ref();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown multiplier '", id, "' (neither built in, in --multipliers_dir, nor on the server)"));
}

absl::StatusOr<bool> ConfigurationFromFlags(const Args& args, v1::Evaluator::Stub& stub,
                                            rpc::ClientChannel& channel,
                                            const v1::ModelRef& model, v1::Configuration& out) {
  absl::StatusOr<approx::Catalog> catalog = CatalogFromFlags(args);
  if (!catalog.ok()) return catalog.status();
  nn::ApproxConfig config;
  if (auto file = args.Value("config")) {
    if (args.Has("attention_matmuls")) {
      return absl::InvalidArgumentError(
          "--attention_matmuls goes with --multiplier; a --config file says "
          "include_attention_matmuls itself");
    }
    absl::StatusOr<nn::ApproxConfig> read = nn::ReadApproxConfig(*file);
    if (!read.ok()) return read.status();
    config = *std::move(read);
  } else {
    v1::DescribeModelRequest describe;
    *describe.mutable_model() = model;
    v1::DescribeModelResponse layers;
    auto context = channel.NewCall();
    if (absl::Status s = FromGrpc(stub.DescribeModel(context.get(), describe, &layers), args);
        !s.ok()) {
      return s;
    }
    config.default_multiplier = *args.Value("multiplier");
    for (const v1::ApproximableLayer& l : layers.layers()) {
      if (l.exact_by_default()) config.layers[l.name()] = "exact";
    }
    config.include_attention_matmuls = args.Has("attention_matmuls");
  }
  out.Clear();
  if (config.default_multiplier) {
    absl::StatusOr<v1::MultiplierRef> ref =
        MultiplierRef(*config.default_multiplier, *catalog, stub, channel, args);
    if (!ref.ok()) return ref.status();
    *out.mutable_default_multiplier() = *ref;
  }
  for (const auto& [layer, id] : config.layers) {
    absl::StatusOr<v1::MultiplierRef> ref = MultiplierRef(id, *catalog, stub, channel, args);
    if (!ref.ok()) return ref.status();
    v1::LayerAssignment* a = out.add_assignments();
    a->set_layer(layer);
    *a->mutable_multiplier() = *ref;
  }
  return config.include_attention_matmuls;
}

absl::Status FillCalibration(const Args& args, const data::DatasetSpec& dataset,
                             v1::CalibrationSpec& out) {
  absl::StatusOr<data::DatasetSpec> spec = data::ParseDatasetSpec(
      args.Value("calibration").value_or(absl::StrCat(dataset.name, ":train")));
  if (!spec.ok()) return spec.status();
  absl::StatusOr<int64_t> samples = IntFlag(args, "calibration_samples", 1024, 1);
  if (!samples.ok()) return samples.status();
  out.mutable_subset()->mutable_dataset()->set_id(spec->name);
  out.mutable_subset()->set_split(spec->split);
  out.mutable_subset()->mutable_stratified()->set_size(*samples);
  absl::StatusOr<approx::CalibrationMethod> method =
      approx::ParseCalibrationMethod(args.Value("calibration_method").value_or("percentile"));
  if (!method.ok()) return method.status();
  switch (*method) {
    case approx::CalibrationMethod::kMax: out.set_method(v1::CALIBRATION_METHOD_MAX); break;
    case approx::CalibrationMethod::kPercentile: out.set_method(v1::CALIBRATION_METHOD_PERCENTILE); break;
    case approx::CalibrationMethod::kMse: out.set_method(v1::CALIBRATION_METHOD_MSE); break;
    case approx::CalibrationMethod::kEntropy: out.set_method(v1::CALIBRATION_METHOD_ENTROPY); break;
  }
  if (args.Value("percentile")) {
    absl::StatusOr<double> percentile = NumberFlag(args, "percentile", 99.99, true);
    if (!percentile.ok()) return percentile.status();
    out.set_percentile(*percentile);
  }
  absl::StatusOr<approx::WeightQuantization> granularity = WeightGranularityFlag(args);
  if (!granularity.ok()) return granularity.status();
  out.set_weight_granularity(*granularity == approx::WeightQuantization::kPerChannel
                                 ? v1::WEIGHT_GRANULARITY_PER_CHANNEL
                                 : v1::WEIGHT_GRANULARITY_PER_TENSOR);
  return absl::OkStatus();
}

absl::Status SubsetFromFlags(const Args& args, const std::string& prefix,
                             const data::DatasetSpec& dataset, v1::DatasetSubset& out) {
  const std::string sample = prefix + "sample", seed_flag = prefix + "seed";
  const std::string offset_flag = prefix + "offset", limit_flag = prefix + "limit";
  out.Clear();
  out.mutable_dataset()->set_id(dataset.name);
  out.set_split(dataset.split);
  if (args.Value(sample)) {
    if (args.Value(offset_flag) || args.Value(limit_flag)) {
      return absl::InvalidArgumentError(absl::StrCat("--", sample, " does not combine with --",
                                                     offset_flag, "/--", limit_flag));
    }
    absl::StatusOr<int64_t> n = IntFlag(args, sample, 0, 1);
    if (!n.ok()) return n.status();
    absl::StatusOr<int64_t> seed = IntFlag(args, seed_flag, 0, 0);
    if (!seed.ok()) return seed.status();
    out.mutable_stratified()->set_size(*n);
    out.mutable_stratified()->set_seed(static_cast<uint64_t>(*seed));
  } else if (args.Value(offset_flag) || args.Value(limit_flag)) {
    absl::StatusOr<int64_t> offset = IntFlag(args, offset_flag, 0, 0);
    if (!offset.ok()) return offset.status();
    absl::StatusOr<int64_t> limit = IntFlag(args, limit_flag, 0, 0);
    if (!limit.ok()) return limit.status();
    out.mutable_range()->set_offset(*offset);
    out.mutable_range()->set_limit(*limit);
  }
  return absl::OkStatus();
}

}  // namespace transaxx::cli
