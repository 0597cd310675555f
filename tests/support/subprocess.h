// A child process for integration tests: started with an argument vector,
// its stdout and stderr captured line by line, signalled, waited for with a
// timeout, and killed if still running when the object is destroyed.
//
// Thread-safety: one thread per Subprocess.
#ifndef TRANSAXX_TESTS_SUPPORT_SUBPROCESS_H_
#define TRANSAXX_TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace transaxx::testing {

class Subprocess {
 public:
  // REQUIRES: argv[0] is a path to an executable.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(const std::vector<std::string>& argv);
  ~Subprocess();

  // Reads output until a line containing `needle` appears; returns that line.
  // DEADLINE_EXCEEDED after `timeout`, ABORTED when the output ends first.
  absl::StatusOr<std::string> WaitForLine(const std::string& needle, absl::Duration timeout);

  void Signal(int sig);

  // Waits for exit; returns the exit code, 128+N for a death by signal N, or
  // DEADLINE_EXCEEDED (the process is then killed).
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // Everything the process printed so far, for failure messages.
  const std::string& output() const { return output_; }

 private:
  Subprocess(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  // Appends available output; false at end of output.
  bool ReadSome(absl::Duration timeout);

  pid_t pid_;
  int fd_;
  bool exited_ = false;
  std::optional<int> exit_code_;  // set once reaped
  std::string output_;
  size_t scanned_ = 0;
};

// The value of `"key":"value"` in a JSON log line; "" when absent.
std::string JsonField(const std::string& line, const std::string& key);

}  // namespace transaxx::testing

#endif  // TRANSAXX_TESTS_SUPPORT_SUBPROCESS_H_
