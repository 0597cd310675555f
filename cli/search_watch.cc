#include "cli/search_watch.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "cli/search_results.h"
#include "cli/sigint_cancel.h"

namespace transaxx::cli {
namespace {

double Seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(d.seconds()) + 1e-9 * d.nanos();
}

// The progress line on stderr: redrawn in place on a terminal, where event
// lines are printed above it; in a log, a line per tenth of the budget (or
// per minute without an evaluation budget).
class StatusLine {
 public:
  StatusLine() : terminal_(isatty(STDERR_FILENO) == 1) {}

  void Update(const std::string& job_id, const v1::SearchProgress& p) {
    const int64_t done = std::max(p.progress().done(), p.counts().evaluations_completed());
    const int64_t total = p.progress().total();
    std::string line = job_id + " ";
    if (total > 0) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(kWidth * std::min<int64_t>(done, total) / total);
      absl::StrAppend(&line, "[", std::string(filled, '#'), std::string(kWidth - filled, '-'), "] ",
                      done, "/", total, absl::StrFormat(" (%.0f%%)", 100.0 * done / total));
    } else {
      absl::StrAppend(&line, done, " evaluations");
    }
    absl::StrAppend(&line, ", best feasible saving ",
                    p.has_best_feasible_power_saving()
                        ? absl::StrFormat("%.1f%%", 100 * p.best_feasible_power_saving())
                        : std::string("none yet"));
    if (p.counts().evaluations_failed() > 0) {
      absl::StrAppend(&line, ", ", p.counts().evaluations_failed(), " failed");
    }
    absl::StrAppend(&line, ", elapsed ", FormatDuration(Seconds(p.progress().elapsed())), ", ETA ",
                    p.progress().has_eta() ? FormatDuration(Seconds(p.progress().eta())) : "?");
    line_ = line;
    if (terminal_) {
      Draw();
      return;
    }
    const int64_t step =
        total > 0 ? done * 10 / total : static_cast<int64_t>(Seconds(p.progress().elapsed()) / 60);
    if (step == last_step_) return;
    last_step_ = step;
    std::fprintf(stderr, "%s\n", line_.c_str());
    std::fflush(stderr);
  }

  // Prints `text` (a whole line) on `out` above the progress line.
  void Print(std::FILE* out, const std::string& text) {
    Clear();
    std::fprintf(out, "%s\n", text.c_str());
    std::fflush(out);
    if (terminal_ && !line_.empty()) Draw();
  }

  // Leaves the terminal on a fresh line.
  void Finish() {
    if (terminal_ && drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  void Draw() {
    std::fprintf(stderr, "\r\033[K%s", line_.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void Clear() {
    if (terminal_ && drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

  bool terminal_;
  bool drawn_ = false;
  std::string line_;
  int64_t last_step_ = -1;
};

bool IsTerminal(v1::JobState s) {
  return s == v1::JOB_STATE_SUCCEEDED || s == v1::JOB_STATE_FAILED || s == v1::JOB_STATE_CANCELLED;
}

std::string Clock(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("[%H:%M:%S] ", absl::FromUnixSeconds(t.seconds()), absl::LocalTimeZone());
}

std::string Severity(v1::LogSeverity s) {
  switch (s) {
    case v1::LOG_SEVERITY_WARNING:
      return "warning";
    case v1::LOG_SEVERITY_ERROR:
      return "error";
    default:
      return "info";
  }
}

}  // namespace

WatchOutcome WatchJob(v1::SearchCoordinator::Stub& stub, const Args& args,
                      const std::string& job_id, std::FILE* events, bool logs,
                      std::optional<absl::Duration> deadline) {
  v1::WatchSearchRequest request;
  request.set_job_id(job_id);
  request.set_include_logs(logs);
  grpc::ClientContext context;
  if (deadline) context.set_deadline(absl::ToChronoTime(absl::Now() + *deadline));
  WatchOutcome outcome;
  StatusLine status;
  SigintCancel sigint(&context);
  auto reader = stub.WatchSearch(&context, request);
  v1::SearchEvent event;
  while (reader->Read(&event)) {
    const std::string when = Clock(event.time());
    if (event.has_progress()) {
      status.Update(job_id, event.progress());
    } else if (event.has_state_change()) {
      const v1::JobStateChange& c = event.state_change();
      std::string line = when + "job " + job_id + ": ";
      if (c.previous() != v1::JOB_STATE_UNSPECIFIED) line += StateName(c.previous()) + " -> ";
      line += StateName(c.state());
      if (!c.message().empty()) line += " (" + c.message() + ")";
      status.Print(events, line);
      if (IsTerminal(c.state())) {
        outcome.state = c.state();
        outcome.message = c.message();
      }
    } else if (event.has_pareto_update()) {
      const v1::ParetoUpdate& u = event.pareto_update();
      std::string line = when + "pareto: " + PointLine(u.point());
      if (u.removed_config_hashes_size() > 0) {
        absl::StrAppend(&line, "; pushes off ", u.removed_config_hashes_size(), " point",
                        u.removed_config_hashes_size() == 1 ? "" : "s");
      }
      status.Print(events, line);
    } else if (event.has_log()) {
      status.Print(events, absl::StrCat(when, Severity(event.log().severity()), ": ",
                                        event.log().message()));
    }
  }
  const grpc::Status finish = reader->Finish();
  status.Finish();
  if (sigint.interrupted()) {
    outcome.end = WatchOutcome::End::kInterrupted;
  } else if (!finish.ok()) {
    outcome.end = WatchOutcome::End::kError;
    outcome.error = FromGrpc(finish, args, "coordinator");
  } else if (IsTerminal(outcome.state)) {
    outcome.end = WatchOutcome::End::kTerminal;
    if (outcome.state == v1::JOB_STATE_FAILED && outcome.message.empty()) {
      // The error of a FAILED job is stored with it.
      grpc::ClientContext get_context;
      get_context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
      v1::GetSearchRequest get;
      get.set_job_id(job_id);
      v1::GetSearchResponse job;
      if (stub.GetSearch(&get_context, get, &job).ok()) outcome.message = job.job().error_message();
    }
  } else {
    outcome.end = WatchOutcome::End::kError;
    outcome.error = absl::UnavailableError("the stream ended before the job finished");
  }
  return outcome;
}

int WatchExitCode(const WatchOutcome& outcome, const std::string& job_id) {
  const std::string again = "transaxx search watch " + job_id;
  switch (outcome.end) {
    case WatchOutcome::End::kInterrupted:
      std::fprintf(stderr,
                   "stopped watching; job %s goes on (cancel it with transaxx search cancel %s).\n"
                   "Continue watching with: %s\n",
                   job_id.c_str(), job_id.c_str(), again.c_str());
      return kExitOk;
    case WatchOutcome::End::kError:
      return ReportError(
          absl::Status(outcome.error.code(),
                       absl::StrCat(outcome.error.message(), "; to watch again: ", again)));
    case WatchOutcome::End::kTerminal:
      break;
  }
  if (outcome.state == v1::JOB_STATE_SUCCEEDED) return kExitOk;
  return ReportError(
      absl::AbortedError(absl::StrCat("job ", job_id, " ", StateName(outcome.state),
                                      outcome.message.empty() ? "" : ": " + outcome.message,
                                      "; partial results: transaxx search results ", job_id)));
}

}  // namespace transaxx::cli
