#include "libs/approx/hardware/estimate.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <utility>
#include <vector>

namespace transaxx::approx::hardware {
namespace {

constexpr int kStreamLength = 65537;
constexpr uint64_t kStreamSeed = 20240215;

// One operand of the stream. std::mt19937_64 is fully specified by the
// standard, and the Gaussian is drawn by hand (Box-Muller) because the
// standard distributions are not: the stream is the same everywhere.
uint8_t DrawOperand(std::mt19937_64& random, OperandStream stream, Signedness signedness) {
  if (stream == OperandStream::kUniform) return static_cast<uint8_t>(random() >> 56);
  const auto unit = [&] { return (static_cast<double>(random() >> 11) + 0.5) * 0x1.0p-53; };
  const double gaussian =
      std::sqrt(-2 * std::log(unit())) * std::cos(2 * std::numbers::pi * unit());
  const int q = std::clamp(static_cast<int>(std::lround(gaussian * 127.0 / 4)), -127, 127);
  return static_cast<uint8_t>(signedness == Signedness::kSigned ? q : std::abs(q));
}

std::vector<std::pair<uint8_t, uint8_t>> OperandSequence(OperandStream stream,
                                                         Signedness signedness) {
  std::mt19937_64 random(kStreamSeed);
  std::vector<std::pair<uint8_t, uint8_t>> operands(kStreamLength);
  for (auto& [a, b] : operands) {
    a = DrawOperand(random, stream, signedness);
    b = DrawOperand(random, stream, signedness);
  }
  return operands;
}

absl::StatusOr<double> SwitchedLoad(const SynthesisResult& result, Signedness signedness,
                                    const EstimateOptions& options) {
  absl::StatusOr<GateNetlist> netlist = GateNetlist::FromYosysJson(result.netlist_json);
  if (!netlist.ok()) return netlist.status();
  return netlist->SwitchedLoad(OperandSequence(options.operands, signedness), options.delay_model);
}

absl::StatusOr<EstimatedFigures> Estimate(const absl::StatusOr<SynthesisResult>& circuit,
                                          Signedness signedness, const EstimateOptions& options) {
  if (!circuit.ok()) return circuit.status();
  absl::StatusOr<SynthesisResult> exact = SynthesizeExact(signedness, options.synthesis);
  if (!exact.ok()) return exact.status();
  return RelativeFigures(*circuit, *exact, signedness, options);
}

}  // namespace

absl::StatusOr<EstimatedFigures> RelativeFigures(const SynthesisResult& circuit,
                                                 const SynthesisResult& exact,
                                                 Signedness signedness,
                                                 const EstimateOptions& options) {
  if (exact.transistors <= 0) {
    return absl::InvalidArgumentError("the exact multiplier's netlist has no transistors");
  }
  EstimatedFigures figures;
  figures.transistors = circuit.transistors;
  figures.cells = circuit.cells;
  figures.relative_area =
      static_cast<double>(circuit.transistors) / static_cast<double>(exact.transistors);
  if (options.power_proxy == PowerProxy::kTransistors) {
    figures.relative_power = figures.relative_area;
    return figures;
  }
  absl::StatusOr<double> load = SwitchedLoad(circuit, signedness, options);
  if (!load.ok()) return load.status();
  absl::StatusOr<double> exact_load = SwitchedLoad(exact, signedness, options);
  if (!exact_load.ok()) return exact_load.status();
  if (*exact_load <= 0) {
    return absl::InvalidArgumentError("the exact multiplier's netlist never switches");
  }
  figures.relative_power = *load / *exact_load;
  return figures;
}

absl::StatusOr<EstimatedFigures> EstimateBuiltin(absl::string_view id,
                                                 const EstimateOptions& options) {
  // Every built-in multiplier is signed (builtin.h).
  return Estimate(SynthesizeBuiltin(id, options.synthesis), Signedness::kSigned, options);
}

absl::StatusOr<EstimatedFigures> EstimateUserVerilog(absl::string_view verilog,
                                                     absl::string_view top_module,
                                                     const Multiplier& expected,
                                                     const EstimateOptions& options) {
  return Estimate(SynthesizeUserVerilog(verilog, top_module, expected, options.synthesis),
                  expected.signedness(), options);
}

}  // namespace transaxx::approx::hardware
