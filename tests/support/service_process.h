// A transaxx service binary (power model, evaluator, coordinator) running
// for a test: started with its flags (listening on port 0), ready once its
// JSON log announces "serving" with the ports it bound, stopped with SIGTERM
// (a graceful drain) when destroyed.
//
// Thread-safety: one thread per ServiceProcess.
#ifndef TRANSAXX_TESTS_SUPPORT_SERVICE_PROCESS_H_
#define TRANSAXX_TESTS_SUPPORT_SERVICE_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/support/subprocess.h"

namespace transaxx::testing {

class ServiceProcess {
 public:
  // Starts argv and waits up to `startup` for the "serving" line.
  // DEADLINE_EXCEEDED or ABORTED (it exited) with everything it printed.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      const std::vector<std::string>& argv, absl::Duration startup = absl::Seconds(120));
  ~ServiceProcess();

  // "127.0.0.1:PORT" of its gRPC server.
  const std::string& target() const { return target_; }
  // Its /metrics port; 0 when it serves none.
  int metrics_port() const { return metrics_port_; }
  Subprocess& process() { return *process_; }

 private:
  explicit ServiceProcess(std::unique_ptr<Subprocess> p) : process_(std::move(p)) {}
  std::unique_ptr<Subprocess> process_;
  std::string target_;
  int metrics_port_ = 0;
};

}  // namespace transaxx::testing

#endif  // TRANSAXX_TESTS_SUPPORT_SERVICE_PROCESS_H_
