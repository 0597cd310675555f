// Hardware cost of a multiplier by logic synthesis: Yosys, run as a child
// process, maps the top module of a Verilog design (ports as in verilog.h) to
// a flat netlist of simple CMOS gates with the script
//   read_verilog design.v
//   synth -top TOP -flatten          (or -auto-top when no top is named)
//   abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX
//   opt_clean; rename -top mult; stat; stat -tech cmos; write_json netlist.json
// and reports the gate count, the transistor estimate and the netlist.
//
// Every result is checked, by simulating the netlist on all 65,536 operand
// pairs, against the table the circuit claims to implement, so a figure is
// never attributed to a circuit that computes something else.
//
// Results are cached as files named by a SHA-256 over the script's version,
// the script, the multiplier's content hash and the Verilog text, so a
// repeated estimate costs one file read and one netlist simulation. The
// Yosys version is not part of the key (asking for it would cost a process
// per lookup): clear the cache folder after upgrading Yosys.
//
// Errors:
//   FAILED_PRECONDITION  Yosys (or its ABC) cannot be started: not installed,
//                        or the configured path is wrong; or the cache folder
//                        cannot be written.
//   DEADLINE_EXCEEDED    Yosys ran past the timeout (it was killed, with ABC).
//   INVALID_ARGUMENT     Yosys rejected the Verilog (its message included), the
//                        netlist lacks the ports a, b, p or has non-gate
//                        cells, or it differs from the expected table (the
//                        first differing operands named).
//   INTERNAL             Yosys failed otherwise (e.g. killed by a signal).
//
// Thread-safety: the functions may run concurrently, also on one cache
// folder (each run has its own temporary folder; cache files are replaced
// atomically).
#ifndef TRANSAXX_LIBS_APPROX_HARDWARE_SYNTHESIS_H_
#define TRANSAXX_LIBS_APPROX_HARDWARE_SYNTHESIS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx::hardware {

struct SynthesisOptions {
  // The Yosys executable: a path, or a name looked up in PATH.
  std::string yosys = "yosys";
  // Wall-clock limit of one Yosys run. An 8x8 multiplier takes about a
  // second; the limit guards against pathological user designs.
  absl::Duration timeout = absl::Minutes(2);
  // Folder of cached results, created when missing; "" disables the cache.
  std::string cache_dir;
};

struct SynthesisResult {
  int64_t cells = 0;         // gates of the mapped netlist (Yosys `stat`)
  int64_t transistors = 0;   // CMOS transistor estimate (`stat -tech cmos`)
  std::string netlist_json;  // the gate netlist as Yosys writes it (`write_json`)
};

// Synthesizes the RTL of built-in multiplier `id` (BuiltinVerilog) and checks
// it against MakeBuiltin(id). INVALID_ARGUMENT for a bad ID.
absl::StatusOr<SynthesisResult> SynthesizeBuiltin(absl::string_view id,
                                                  const SynthesisOptions& options);

// Synthesizes the exact multiplier of `signedness` (ExactVerilog), the
// reference of relative figures.
absl::StatusOr<SynthesisResult> SynthesizeExact(Signedness signedness,
                                                const SynthesisOptions& options);

// Synthesizes module `top_module` of a user's Verilog ("" = the top of its
// hierarchy as Yosys determines it; ports as in verilog.h, p read with
// `expected`'s signedness) and checks that it computes `expected`'s table on
// every operand pair. The text may not read files (`include,
// $readmemh/$readmemb are refused) and is limited to 16 MiB; `top_module`
// must be a plain Verilog identifier (INVALID_ARGUMENT otherwise).
absl::StatusOr<SynthesisResult> SynthesizeUserVerilog(absl::string_view verilog,
                                                      absl::string_view top_module,
                                                      const Multiplier& expected,
                                                      const SynthesisOptions& options);

// The version Yosys reports (`yosys -V`, e.g. "Yosys 0.23 (git sha1
// 7ce5011c24b)"), for the provenance of estimates. Errors as above for a
// Yosys that cannot be run.
absl::StatusOr<std::string> YosysVersion(const SynthesisOptions& options);

}  // namespace transaxx::approx::hardware

#endif  // TRANSAXX_LIBS_APPROX_HARDWARE_SYNTHESIS_H_
