// `transaxx search watch`: follows a job's WatchSearch stream. A progress
// line on stderr (a bar with evaluations done/total, the best feasible
// power saving so far and the ETA; redrawn in place on a terminal, a line
// per tenth of the budget in a log), and on `events` one line per state
// change and per new Pareto point (and log line with `logs`). Ctrl-C stops
// watching, not the job.
//
// Thread-safety: call from main; installs a SIGINT handler while watching.
#ifndef TRANSAXX_CLI_SEARCH_WATCH_H_
#define TRANSAXX_CLI_SEARCH_WATCH_H_

#include <cstdio>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cli/args.h"
#include "transaxx/v1/search.grpc.pb.h"

namespace transaxx::cli {

struct WatchOutcome {
  enum class End {
    kTerminal,     // the job reached `state` (SUCCEEDED, FAILED, CANCELLED)
    kInterrupted,  // Ctrl-C: the job goes on
    kError,        // the stream failed: `error`
  };
  End end = End::kError;
  v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
  std::string message;  // why a job FAILED or was CANCELLED, when given
  absl::Status error;
};

// Watches `job_id` until the stream ends. `deadline`: of the whole watch
// (none when not set).
WatchOutcome WatchJob(v1::SearchCoordinator::Stub& stub, const Args& args,
                      const std::string& job_id, std::FILE* events, bool logs,
                      std::optional<absl::Duration> deadline);

// The exit code of a watch, after printing how it ended to stderr: 0 for a
// SUCCEEDED job and for Ctrl-C (with the command to continue watching), 1
// for a FAILED or CANCELLED job (with its message) and for stream errors.
int WatchExitCode(const WatchOutcome& outcome, const std::string& job_id);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_SEARCH_WATCH_H_
