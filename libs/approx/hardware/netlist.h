// A combinational gate-level netlist of an 8x8 multiplier, read from the
// JSON that Yosys writes (`write_json`) after mapping to simple gates, and a
// bit-parallel simulator for it: the product it computes for every operand
// pair (to check it against a table) and how often its nets switch under a
// stream of operands (a dynamic-power proxy).
//
// The module must have ports `input [7:0] a`, `input [7:0] b` and
// `output [W-1:0] p` with 1 <= W <= 32, and only the cells Yosys's internal
// gate library has for combinational logic: $_BUF_, $_NOT_, $_AND_, $_NAND_,
// $_OR_, $_NOR_, $_XOR_, $_XNOR_, $_ANDNOT_, $_ORNOT_, $_MUX_ (what
// `abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX` produces).
//
// Thread-safety: immutable after construction; const methods may be called
// from any thread.
#ifndef TRANSAXX_LIBS_APPROX_HARDWARE_NETLIST_H_
#define TRANSAXX_LIBS_APPROX_HARDWARE_NETLIST_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx::hardware {

// How net transitions are counted when the operands change.
enum class DelayModel {
  // Every net switches at most once per operand change, to its final value:
  // the functional activity, without glitches.
  kZeroDelay,
  // Every gate takes one time step, so nets driven by paths of unequal
  // depth switch several times before they settle (glitches), which in
  // array multipliers is a large part of the dynamic power.
  kUnitDelay,
};

class GateNetlist {
 public:
  // Parses module `top` of a Yosys JSON netlist. INVALID_ARGUMENT for text
  // that is not such JSON, a missing module or port, a port of the wrong
  // width, an unsupported cell (named, with its type), an undriven or
  // constant-x bit, a net with two drivers, or a combinational loop.
  static absl::StatusOr<GateNetlist> FromYosysJson(absl::string_view json,
                                                   absl::string_view top = "mult");

  int64_t cells() const { return static_cast<int64_t>(gates_.size()); }
  int output_width() const { return static_cast<int>(outputs_.size()); }

  // The value of p for every operand pair, at index TableIndex(a, b):
  // p read as two's complement (kSigned) or unsigned (kUnsigned).
  Table Evaluate(Signedness signedness) const;

  // The first operand pair, in table-index order, where the netlist differs
  // from `expected`'s table (p read with `expected`'s signedness), as
  // INVALID_ARGUMENT naming the operands and both products; OK when equal.
  absl::Status CheckEquals(const Multiplier& expected) const;

  // Switched load while the operands run through `operands` in order: the
  // sum over nets of transitions × load, where a net's load is the gate
  // inputs and output bits it drives plus, for a gate's output, the gate
  // itself, one unit each (the operand inputs are driven from outside, so
  // an operand bit the circuit ignores costs nothing). Proportional to the
  // dynamic energy C·V² of the whole sequence when all pins have the same
  // capacitance.
  // REQUIRES: operands.size() >= 2.
  double SwitchedLoad(const std::vector<std::pair<uint8_t, uint8_t>>& operands,
                      DelayModel delay_model) const;

 private:
  enum class Op { kBuf, kNot, kAnd, kNand, kOr, kNor, kXor, kXnor, kAndNot, kOrNot, kMux };
  struct Gate {
    Op op;
    int inputs;  // how many of in[] the gate reads
    // Net indexes of the inputs (A, B, S; unused ones 0) and the output.
    int in[3];
    int out;
  };
  // Nets 0 and 1 are the constants; 2..9 are a[0..7], 10..17 are b[0..7].
  static constexpr int kConst0 = 0, kConst1 = 1, kFirstA = 2, kFirstB = 10, kFirstFree = 18;

  GateNetlist() = default;
  static uint64_t Apply(Op op, uint64_t x, uint64_t y, uint64_t s);
  // Evaluates all gates in topological order for 64 operand pairs at once;
  // `values` holds one word per net with the inputs already set.
  void Settle(std::vector<uint64_t>& values) const;
  // Sets the input nets of `values` from 64 operand pairs (bit k = pair k).
  static void SetInputs(const uint8_t* a, const uint8_t* b, int count,
                        std::vector<uint64_t>& values);

  int nets_ = kFirstFree;
  std::vector<Gate> gates_;   // in topological order
  std::vector<int> outputs_;  // net of p[i]
  std::vector<int> load_;     // per net, as SwitchedLoad describes
};

}  // namespace transaxx::approx::hardware

#endif  // TRANSAXX_LIBS_APPROX_HARDWARE_NETLIST_H_
