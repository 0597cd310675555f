#include "libs/rpc/serve.h"

#include <csignal>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "libs/rpc/log.h"
#include "libs/rpc/termination_signal.h"

namespace transaxx::rpc {

int ServeUntilTerminated(const ServerOptions& options, const std::vector<ServiceEntry>& services,
                         MetricsRegistry& registry, const std::function<void()>& on_signal) {
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options, services, registry);
  if (!server.ok()) {
    LogError("cannot start", {{"server", options.name},
                              {"error", std::string(server.status().message())}});
    return 1;
  }
  LogInfo("serving", {{"server", options.name},
                      {"grpc_port", absl::StrCat((*server)->port())},
                      {"metrics_port", absl::StrCat((*server)->metrics_port())},
                      {"tls", options.security.tls_cert_file.empty() ? "off" : "on"}});
  int sig = WaitForTerminationSignal();
  LogInfo("signal received", {{"server", options.name}, {"signal", strsignal(sig)}});
  if (on_signal) on_signal();
  (*server)->Shutdown();
  return 0;
}

}  // namespace transaxx::rpc
