#include "tests/support/service_process.h"

#include <csignal>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace transaxx::testing {

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    const std::vector<std::string>& argv, absl::Duration startup) {
  absl::StatusOr<std::unique_ptr<Subprocess>> p = Subprocess::Start(argv);
  if (!p.ok()) return p.status();
  std::unique_ptr<ServiceProcess> service(new ServiceProcess(*std::move(p)));
  absl::StatusOr<std::string> line = service->process_->WaitForLine("\"msg\":\"serving\"", startup);
  if (!line.ok()) {
    return absl::Status(line.status().code(),
                        absl::StrCat(argv[0], " did not start: ", line.status().message(), "\n",
                                     service->process_->output()));
  }
  service->target_ = absl::StrCat("127.0.0.1:", JsonField(*line, "grpc_port"));
  service->metrics_port_ = std::atoi(JsonField(*line, "metrics_port").c_str());
  return service;
}

ServiceProcess::~ServiceProcess() {
  process_->Signal(SIGTERM);
  process_->Wait(absl::Seconds(60)).IgnoreError();
}

}  // namespace transaxx::testing
