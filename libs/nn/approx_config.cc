#include "libs/nn/approx_config.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace transaxx::nn {
namespace {

absl::Status Invalid(absl::string_view source, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
}

}  // namespace

absl::StatusOr<ApproxConfig> ParseApproxConfig(absl::string_view text, absl::string_view source) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Invalid(source, "is not a JSON object");
  ApproxConfig config;
  for (const auto& [key, value] : json.items()) {
    if (key == "default") {
      if (!value.is_string() || value.get<std::string>().empty()) {
        return Invalid(source, "\"default\" must be a multiplier ID");
      }
      config.default_multiplier = value.get<std::string>();
    } else if (key == "layers") {
      if (!value.is_object()) return Invalid(source, "\"layers\" must map layer names to IDs");
      for (const auto& [layer, id] : value.items()) {
        if (!id.is_string() || id.get<std::string>().empty()) {
          return Invalid(source, absl::StrCat("layer ", layer, ": the multiplier must be an ID"));
        }
        config.layers[layer] = id.get<std::string>();
      }
    } else if (key == "include_attention_matmuls") {
      if (!value.is_boolean()) return Invalid(source, "\"include_attention_matmuls\" must be a boolean");
      config.include_attention_matmuls = value.get<bool>();
    } else {
      return Invalid(source, absl::StrCat("unknown key \"", key,
                                          "\" (expected default, layers, include_attention_matmuls)"));
    }
  }
  return config;
}

absl::StatusOr<ApproxConfig> ReadApproxConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open configuration file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseApproxConfig(text.str(), path);
}

ApproxConfig UniformConfig(const std::string& multiplier_id, const VitConfig& architecture) {
  ApproxConfig config;
  config.default_multiplier = multiplier_id;
  for (const ApproximableLayer& layer : ApproximableLayers(architecture, false)) {
    if (layer.exact_by_default) config.layers[layer.name] = "exact";
  }
  return config;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ResolveConfig(
    const ApproxConfig& config, const VitConfig& architecture) {
  const std::vector<ApproximableLayer> covered =
      ApproximableLayers(architecture, config.include_attention_matmuls);
  std::set<std::string> names;
  for (const ApproximableLayer& layer : covered) names.insert(layer.name);
  for (const auto& [layer, id] : config.layers) {
    if (!names.count(layer)) {
      const bool matmul = layer.ends_with(".attn.qk") || layer.ends_with(".attn.av");
      return absl::InvalidArgumentError(absl::StrCat(
          "configuration names layer ", layer, ", which ",
          matmul && !config.include_attention_matmuls
              ? "is an attention matmul: set include_attention_matmuls to approximate it"
              : "the model does not have (list them with `transaxx models describe`)"));
    }
  }
  std::vector<std::pair<std::string, std::string>> resolved;
  for (const ApproximableLayer& layer : covered) {
    auto it = config.layers.find(layer.name);
    if (it != config.layers.end()) {
      resolved.emplace_back(layer.name, it->second);
    } else if (config.default_multiplier) {
      resolved.emplace_back(layer.name, *config.default_multiplier);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "configuration leaves layer ", layer.name,
          " without a multiplier: assign one (\"exact\" keeps it exact) or give a default"));
    }
  }
  return resolved;
}

}  // namespace transaxx::nn
