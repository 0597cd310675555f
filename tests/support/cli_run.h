// Runs a command-line program to completion for tests: its exit code and
// everything it printed (stdout and stderr interleaved).
//
// Thread-safety: reentrant.
#ifndef TRANSAXX_TESTS_SUPPORT_CLI_RUN_H_
#define TRANSAXX_TESTS_SUPPORT_CLI_RUN_H_

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace transaxx::testing {

struct CliRun {
  int code = -1;  // -1 when it could not be started or did not finish
  std::string output;
};

// Runs argv (argv[0] a path to an executable) and waits up to `timeout`;
// failures to start or finish are reported as GoogleTest failures.
CliRun RunCli(const std::vector<std::string>& argv, absl::Duration timeout = absl::Seconds(60));

}  // namespace transaxx::testing

#endif  // TRANSAXX_TESTS_SUPPORT_CLI_RUN_H_
