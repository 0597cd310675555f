// What every `transaxx` subcommand returns: its exit code. Scripts rely on
//   0  success
//   1  the operation failed (bad file, unknown multiplier, server error)
//   2  usage error (unknown command or flag, missing argument)
// Errors are printed to stderr as "transaxx: error: MESSAGE".
//
// Thread-safety: functions here write to stdout/stderr; call from main.
#ifndef TRANSAXX_CLI_COMMAND_H_
#define TRANSAXX_CLI_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace transaxx::cli {

enum ExitCode { kExitOk = 0, kExitFailure = 1, kExitUsage = 2 };

// Prints the error and returns kExitUsage for INVALID_ARGUMENT coming from
// the command line itself (`usage` true), kExitFailure otherwise.
int ReportError(const absl::Status& status, bool usage = false);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_COMMAND_H_
