// Estimated hardware figures of a multiplier, relative to the exact
// multiplier of the same signedness synthesized by the same flow
// (synthesis.h), so that estimates share one scale with published figures
// once those are divided by their own exact circuit's.
//
// Relative area is the ratio of CMOS transistor counts. Relative power is,
// by default, the ratio of the switched load (netlist.h) under a fixed
// pseudo-random stream of uniformly distributed operands with unit gate
// delays: dynamic power including glitches, which are a large share of an
// array multiplier's power, under the operands EvoApproxLib characterizes
// with. Against the five EvoApproxLib circuits that equal built-in masking
// multipliers it has the smallest error of the proxies offered here (mean
// 5% against 6-9% for the others; bench/results/
// power_estimate_vs_published.md). Unit delays overstate glitching in deep
// mux logic (leading-one detectors, shifters), which published data do not
// check yet, so the other proxies stay selectable.
//
// Thread-safety: the functions may run concurrently (see synthesis.h).
#ifndef TRANSAXX_LIBS_APPROX_HARDWARE_ESTIMATE_H_
#define TRANSAXX_LIBS_APPROX_HARDWARE_ESTIMATE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/approx/hardware/netlist.h"
#include "libs/approx/hardware/synthesis.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx::hardware {

enum class PowerProxy {
  // Relative power = relative transistor count: power proportional to the
  // capacitance present, as if every node switched equally often.
  kTransistors,
  // Relative power = relative switched load under an operand stream.
  kSwitchedLoad,
};

// The operands streamed through the netlist for kSwitchedLoad: 65,537
// pairs from a fixed seed, so estimates are reproducible.
enum class OperandStream {
  // Every byte equally likely: how EvoApproxLib characterizes its circuits.
  kUniform,
  // int8-quantized N(0, (127/4)²), clamped to [-127, 127] (magnitudes for
  // unsigned circuits): typical of quantized weights and activations.
  kGaussianInt8,
};

struct EstimateOptions {
  SynthesisOptions synthesis;
  PowerProxy power_proxy = PowerProxy::kSwitchedLoad;
  DelayModel delay_model = DelayModel::kUnitDelay;
  OperandStream operands = OperandStream::kUniform;
};

struct EstimatedFigures {
  double relative_area = 0;   // transistors / the exact multiplier's
  double relative_power = 0;  // power proxy / the exact multiplier's
  int64_t transistors = 0;
  int64_t cells = 0;
};

// Figures of built-in multiplier `id`, relative to the exact signed
// multiplier. Errors as SynthesizeBuiltin.
absl::StatusOr<EstimatedFigures> EstimateBuiltin(absl::string_view id,
                                                 const EstimateOptions& options);

// Figures of module `top_module` of a user's Verilog ("" = its top) for
// `expected`'s table, relative to the exact multiplier of `expected`'s
// signedness. Errors as SynthesizeUserVerilog.
absl::StatusOr<EstimatedFigures> EstimateUserVerilog(absl::string_view verilog,
                                                     absl::string_view top_module,
                                                     const Multiplier& expected,
                                                     const EstimateOptions& options);

// Figures of the synthesized `circuit` relative to the synthesized `exact`
// multiplier of `signedness`. INVALID_ARGUMENT when a netlist cannot be read
// or the exact one has no transistors.
absl::StatusOr<EstimatedFigures> RelativeFigures(const SynthesisResult& circuit,
                                                 const SynthesisResult& exact,
                                                 Signedness signedness,
                                                 const EstimateOptions& options);

}  // namespace transaxx::approx::hardware

#endif  // TRANSAXX_LIBS_APPROX_HARDWARE_ESTIMATE_H_
