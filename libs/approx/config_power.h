// The power of a whole accelerator configuration, the paper's metric: every
// approximable layer l runs its MAC_l multiply-accumulates per image on the
// multiplier m_l, and with w_l = MAC_l / MAC_total
//
//   relative_power = Σ_l w_l · P(m_l) / P(exact)
//
// where layers left exact count 1. Beside it: the MAC share and the power
// share of the approximated layers, absolute power Σ_l w_l · P(m_l) in mW
// and energy Σ_l MAC_l · E(m_l) in pJ per image where every figure is known,
// a per-layer breakdown and the configuration's canonical hash.
//
// The energy of one multiplication is E = power_mw × delay_ns (mW · ns = pJ):
// the circuit's power over one critical-path period, the figure EvoApproxLib
// publishes its PDK45 power and delay for.
//
// The estimate is pure arithmetic over figures looked up beforehand (no
// synthesis, no I/O), linear in the number of layers: well under 1 ms for a
// 100-layer model.
//
// The canonical configuration hash is the one common.proto defines for
// Configuration: SHA-256 (lowercase hex) of "transaxx-config-v1\n" followed
// by "<layer>\t<content_hash>\n" per layer, sorted bytewise by layer name,
// after expanding the default multiplier.
//
// Thread-safety: pure functions of their arguments.
#ifndef TRANSAXX_LIBS_APPROX_CONFIG_POWER_H_
#define TRANSAXX_LIBS_APPROX_CONFIG_POWER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace transaxx::approx {

// Where hardware figures come from, weakest last: a combination of figures
// has the provenance of its weakest member.
enum class Provenance { kPublished = 0, kEstimated = 1, kUnknown = 2 };

// Kind of an approximable layer; informational, echoed in the breakdown.
enum class LayerKind { kUnspecified, kLinear, kConv2d, kAttentionQk, kAttentionAv };

// One layer of the costed model.
struct LayerMacs {
  std::string name;            // unique, non-empty
  int64_t macs_per_image = 0;  // >= 0
  LayerKind kind = LayerKind::kUnspecified;
};

// The figures of a multiplier that the estimate needs, resolved by the
// caller (from a catalog) before the estimate.
struct MultiplierCost {
  std::string id;
  std::string content_hash;
  // The table is the exact product: relative power 1 by definition, and the
  // layer counts as not approximated, whatever relative_power says.
  bool exact = false;
  std::optional<double> relative_power;  // P(m) / P(exact)
  std::optional<double> power_mw;
  std::optional<double> delay_ns;  // with power_mw gives the energy per MAC
  Provenance provenance = Provenance::kUnknown;
};

struct LayerAssignment {
  std::string layer;
  MultiplierCost multiplier;
};

// Layer -> multiplier; `default_multiplier` covers every layer not listed.
struct PowerConfiguration {
  std::vector<LayerAssignment> assignments;
  std::optional<MultiplierCost> default_multiplier;
};

struct LayerPowerEstimate {
  std::string layer;
  LayerKind kind = LayerKind::kUnspecified;
  int64_t macs_per_image = 0;
  double mac_fraction = 0;  // w_l
  std::string multiplier_id;
  std::string multiplier_hash;
  double multiplier_relative_power = 1;
  double relative_power_contribution = 0;        // w_l · P(m_l)/P(exact)
  std::optional<double> power_mw_contribution;   // w_l · P(m_l)
  std::optional<double> energy_pj_per_inference;  // MAC_l · E(m_l)
  Provenance provenance = Provenance::kUnknown;
};

struct ConfigPowerEstimate {
  double relative_power = 0;
  std::optional<double> power_mw;                 // set when every P(m_l) is known
  std::optional<double> energy_pj_per_inference;  // set when every E(m_l) is known
  Provenance provenance = Provenance::kPublished;  // the weakest of the layers'
  std::string config_hash;
  int64_t total_macs_per_image = 0;
  double approximated_mac_fraction = 0;  // Σ w_l over layers whose table is not exact
  double approximated_power_share = 0;   // their part of relative_power
  std::vector<LayerPowerEstimate> layers;  // in the order of the input layers
};

// Estimates `config` over `layers`. Errors, each naming the culprit by its
// field path (`layers[3].name`, `configuration.assignments[2].layer`):
//   INVALID_ARGUMENT     no layers; an empty or repeated layer name; a
//                        negative MAC count; all counts zero; an empty
//                        configuration; an assignment with an empty or
//                        unknown layer, or a layer assigned twice; a layer
//                        left without a multiplier.
//   FAILED_PRECONDITION  a multiplier used by a layer that is not exact has
//                        no relative power (named, with the layer).
absl::StatusOr<ConfigPowerEstimate> EstimateConfigPower(const std::vector<LayerMacs>& layers,
                                                        const PowerConfiguration& config);

// The canonical hash of layer -> multiplier content hash (see above).
// REQUIRES: layer names unique.
std::string ConfigHash(std::vector<std::pair<std::string, std::string>> layer_hashes);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CONFIG_POWER_H_
