// The remote side of the `transaxx` CLI: talking to a PowerModel server.
//   transaxx power estimate --server HOST:PORT --layers FILE --config FILE
//   (and the --server variants of `transaxx multipliers list|show`)
//
// Client flags: cli/remote.h.
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_POWER_COMMAND_H_
#define TRANSAXX_CLI_POWER_COMMAND_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "libs/approx/error_metrics.h"

namespace transaxx::cli {

// What `multipliers list|show` print of one multiplier, local or remote.
struct MultiplierSummary {
  std::string id, family, content_hash, source;
  bool is_signed = true;
  approx::ErrorReport errors{};
  std::optional<double> power_mw, area_um2, delay_ns;
  std::string provenance;  // of the hardware figures: published, estimated, unknown
  // The structure analysis: KernelPathName (e.g. "low_rank") and the
  // one-line description; empty when not analysed.
  std::string kernel_path, structure;
  // What this machine's CPU runs its GEMM with (approx_ops.h
  // CpuGemmKernel); empty when not analysed here (a server's summary).
  std::string cpu_kernel;
};

// Every catalog multiplier of the server matching `glob` (all when empty).
absl::StatusOr<std::vector<MultiplierSummary>> FetchMultipliers(const Args& args,
                                                                const std::string& glob);
// One multiplier by id.
absl::StatusOr<MultiplierSummary> FetchMultiplier(const Args& args, const std::string& id);

// `args` are the words after "power". Returns the exit code.
int RunPowerCommand(const std::vector<std::string>& args);

extern const char kPowerHelp[];

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_POWER_COMMAND_H_
