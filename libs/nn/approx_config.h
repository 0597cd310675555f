// A configuration as users write it: which multiplier every approximable
// layer (approximable_layers.h) runs on. JSON file form:
//   {"default": "exact",                       optional
//    "layers": {"blocks.0.mlp.fc1": "evo:mul8s_1L2J", ...},
//    "include_attention_matmuls": false}       optional, default false
// The covered layers are the Linear and Conv2d layers, plus the attention
// matmuls when included. Every covered layer needs a multiplier, from
// "layers" or from "default"; there is no implicit exactness (the contract
// of common.proto's Configuration). Multiplier IDs are checked against a
// catalog when the configuration is applied (quantized_model.h).
//
// Thread-safety: plain values and pure functions.
#ifndef TRANSAXX_LIBS_NN_APPROX_CONFIG_H_
#define TRANSAXX_LIBS_NN_APPROX_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/nn/approximable_layers.h"

namespace transaxx::nn {

struct ApproxConfig {
  std::map<std::string, std::string> layers;
  std::optional<std::string> default_multiplier;
  bool include_attention_matmuls = false;
};

// Parses the JSON form; INVALID_ARGUMENT naming `source` and the problem.
absl::StatusOr<ApproxConfig> ParseApproxConfig(absl::string_view json, absl::string_view source);

// Reads and parses a configuration file; NOT_FOUND when it cannot be read,
// otherwise as ParseApproxConfig with the path as source.
absl::StatusOr<ApproxConfig> ReadApproxConfig(const std::string& path);

// `multiplier_id` on every layer except those exact by default (the
// classifier heads), which get "exact".
ApproxConfig UniformConfig(const std::string& multiplier_id, const VitConfig& architecture);

// (layer, multiplier ID) for every covered layer, in model order.
// INVALID_ARGUMENT naming a layer the model does not have (or an attention
// matmul while they are not included) or a covered layer left without a
// multiplier.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ResolveConfig(
    const ApproxConfig& config, const VitConfig& architecture);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_APPROX_CONFIG_H_
