// Synthesizable Verilog-2005 RTL of the built-in multipliers, written as the
// circuits their papers publish (partial-product arrays with the omitted
// bits left out, leading-one detectors, shifters, adders, 2x2 blocks), not
// as lookup tables, so that synthesizing them estimates their hardware cost.
//
// Every module has the interface
//   module mult(input [7:0] a, input [7:0] b, output [W-1:0] p);
// with a the activation and b the weight as two's-complement int8 bytes and
// p the signed product. W is 16 except for the built-ins whose products leave
// int16 (drum:k=2 reaches 192·192 = 36,864), which get the fewest bits that
// hold every product. Families defined on unsigned operands run on the
// operands' magnitudes (|-128| = 128 still fits 8 unsigned bits) behind a
// sign unit that negates the product when the operands' signs differ, as
// libs/approx/builtin.h defines them. Helper modules, where a family has
// them, are prefixed with the family's name.
//
// The RTL is functionally identical to the table of MakeBuiltin(id); the
// tests check every module's synthesized netlist on all 65,536 operand pairs.
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_LIBS_APPROX_HARDWARE_VERILOG_H_
#define TRANSAXX_LIBS_APPROX_HARDWARE_VERILOG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx::hardware {

// The RTL of built-in multiplier `id` (any spelling MakeBuiltin accepts).
// INVALID_ARGUMENT as MakeBuiltin for an unknown or malformed ID.
absl::StatusOr<std::string> BuiltinVerilog(absl::string_view id);

// The RTL of the exact 8x8 multiplier of `signedness`, the reference that
// relative figures are measured against: for kSigned the same module as
// BuiltinVerilog("exact") (a Baugh-Wooley array), for kUnsigned an AND array
// on bytes 0..255 with a 16-bit unsigned p.
std::string ExactVerilog(Signedness signedness);

}  // namespace transaxx::approx::hardware

#endif  // TRANSAXX_LIBS_APPROX_HARDWARE_VERILOG_H_
