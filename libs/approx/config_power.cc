#include "libs/approx/config_power.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "libs/approx/sha256.h"

namespace transaxx::approx {

std::string ConfigHash(std::vector<std::pair<std::string, std::string>> layer_hashes) {
  std::sort(layer_hashes.begin(), layer_hashes.end());
  std::string text = "transaxx-config-v1\n";
  for (const auto& [layer, hash] : layer_hashes) absl::StrAppend(&text, layer, "\t", hash, "\n");
  return Sha256Hex(text);
}

absl::StatusOr<ConfigPowerEstimate> EstimateConfigPower(const std::vector<LayerMacs>& layers,
                                                        const PowerConfiguration& config) {
  if (layers.empty()) {
    return absl::InvalidArgumentError(
        "layers: empty; list every layer the configuration covers with its MACs per image");
  }
  // Layer name -> index in `layers`; std::map keeps the lookups logarithmic
  // without hashing strings twice.
  std::map<std::string, size_t, std::less<>> index;
  int64_t total = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerMacs& layer = layers[i];
    if (layer.name.empty()) return absl::InvalidArgumentError(absl::StrCat("layers[", i, "].name: empty"));
    if (auto [it, inserted] = index.emplace(layer.name, i); !inserted) {
      return absl::InvalidArgumentError(absl::StrCat("layers[", i, "].name: '", layer.name,
                                                     "' is listed twice (also layers[", it->second,
                                                     "])"));
    }
    if (layer.macs_per_image < 0) {
      return absl::InvalidArgumentError(absl::StrCat("layers[", i, "].macs_per_image: ",
                                                     layer.macs_per_image, " for layer '",
                                                     layer.name, "'; must be >= 0"));
    }
    if (layer.macs_per_image > INT64_MAX - total) {
      return absl::InvalidArgumentError(
          absl::StrCat("layers[", i, "].macs_per_image: the total over all layers overflows int64"));
    }
    total += layer.macs_per_image;
  }
  if (total == 0) {
    return absl::InvalidArgumentError(
        "layers: every macs_per_image is 0; at least one layer must have MACs");
  }
  if (config.assignments.empty() && !config.default_multiplier) {
    return absl::InvalidArgumentError(
        "configuration: empty; give assignments, a default_multiplier, or both");
  }
  std::vector<const MultiplierCost*> chosen(layers.size(), nullptr);
  std::vector<size_t> assigned_by(layers.size(), 0);
  for (size_t k = 0; k < config.assignments.size(); ++k) {
    const LayerAssignment& a = config.assignments[k];
    const std::string field = absl::StrCat("configuration.assignments[", k, "].layer");
    if (a.layer.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": empty"));
    auto it = index.find(a.layer);
    if (it == index.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": '", a.layer, "' is not one of the request's layers"));
    }
    if (chosen[it->second] != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": '", a.layer,
                                                     "' is assigned twice (also assignments[",
                                                     assigned_by[it->second], "])"));
    }
    chosen[it->second] = &a.multiplier;
    assigned_by[it->second] = k;
  }

  ConfigPowerEstimate out;
  out.total_macs_per_image = total;
  out.layers.reserve(layers.size());
  double power_mw = 0, energy_pj = 0;
  bool power_known = true, energy_known = true;
  std::vector<std::pair<std::string, std::string>> layer_hashes;
  layer_hashes.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerMacs& layer = layers[i];
    const MultiplierCost* m = chosen[i];
    if (m == nullptr && config.default_multiplier) m = &*config.default_multiplier;
    if (m == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layers[", i, "]: layer '", layer.name,
          "' has no multiplier; assign one or set configuration.default_multiplier"));
    }
    if (!m->exact && !m->relative_power) {
      return absl::FailedPreconditionError(absl::StrCat(
          "multiplier '", m->id, "' (layer '", layer.name,
          "') has no known relative power; characterize it with Verilog or choose another"));
    }
    LayerPowerEstimate& l = out.layers.emplace_back();
    l.layer = layer.name;
    l.kind = layer.kind;
    l.macs_per_image = layer.macs_per_image;
    l.mac_fraction = static_cast<double>(layer.macs_per_image) / static_cast<double>(total);
    l.multiplier_id = m->id;
    l.multiplier_hash = m->content_hash;
    l.multiplier_relative_power = m->exact ? 1.0 : *m->relative_power;
    l.relative_power_contribution = l.mac_fraction * l.multiplier_relative_power;
    l.provenance = m->provenance;
    if (m->power_mw) {
      l.power_mw_contribution = l.mac_fraction * *m->power_mw;
      power_mw += *l.power_mw_contribution;
      if (m->delay_ns) {
        l.energy_pj_per_inference =
            static_cast<double>(layer.macs_per_image) * *m->power_mw * *m->delay_ns;
        energy_pj += *l.energy_pj_per_inference;
      }
    }
    power_known = power_known && l.power_mw_contribution.has_value();
    energy_known = energy_known && l.energy_pj_per_inference.has_value();
    out.relative_power += l.relative_power_contribution;
    if (!m->exact) {
      out.approximated_mac_fraction += l.mac_fraction;
      out.approximated_power_share += l.relative_power_contribution;
    }
    out.provenance = std::max(out.provenance, l.provenance);
    layer_hashes.emplace_back(layer.name, m->content_hash);
  }
  if (power_known) out.power_mw = power_mw;
  if (energy_known) out.energy_pj_per_inference = energy_pj;
  out.config_hash = ConfigHash(std::move(layer_hashes));
  return out;
}

}  // namespace transaxx::approx
