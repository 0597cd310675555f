// A progress line on stderr for long local work (training, evaluation):
// on a terminal one line redrawn in place at most ten times a second; in
// a log (not a terminal) a line per tenth of the work, so logs stay short.
//
// Thread-safety: not thread-safe; one per task, updated from one thread.
#ifndef TRANSAXX_CLI_PROGRESS_H_
#define TRANSAXX_CLI_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace transaxx::cli {

class Progress {
 public:
  // `label` starts every line, e.g. "eval".
  explicit Progress(std::string label);

  // `done` of `total` units are finished; `detail` is appended (rates,
  // losses). The ETA comes from the average rate so far.
  void Update(int64_t done, int64_t total, const std::string& detail = "");
  // Ends the line on a terminal.
  void Finish();

 private:
  std::string label_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t last_tenth_ = -1;
  bool drawn_ = false;
};

// "1m05s", "42s", "2h03m".
std::string FormatDuration(double seconds);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_PROGRESS_H_
