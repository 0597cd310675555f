#include "libs/rpc/service_flags.h"

#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "libs/rpc/host_port.h"
#include "libs/rpc/log.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC listen address HOST:PORT; port 0 picks a free port; 0.0.0.0 in containers");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "Prometheus /metrics listen address HOST:PORT; empty disables metrics");
ABSL_FLAG(std::string, state_dir, "", "directory for the service's persistent state");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of this server (turns on TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA that client certificates must chain to (turns on mutual TLS)");
ABSL_FLAG(std::string, auth_token_file, "",
          "file holding the bearer token every client must present (needs TLS); health "
          "checks stay open");
ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "on SIGTERM, how long health reports NOT_SERVING before new calls are refused");
ABSL_FLAG(absl::Duration, shutdown_timeout, absl::Seconds(30),
          "on SIGTERM, how long in-flight calls may run before they are cancelled");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");

namespace transaxx::rpc {

absl::StatusOr<ServerOptions> ServerOptionsFromFlags(const std::string& name) {
  LogLevel level;
  if (absl::Status s = ParseLogLevel(absl::GetFlag(FLAGS_log_level), &level); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--log_level: ", s.message()));
  }
  SetLogLevel(level);
  ServerOptions o;
  o.name = name;
  o.listen = absl::GetFlag(FLAGS_listen);
  if (auto hp = ParseHostPort(o.listen); !hp.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--listen: ", hp.status().message()));
  }
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  if (auto hp = ParseHostPort(o.metrics_listen); !o.metrics_listen.empty() && !hp.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics_listen: ", hp.status().message()));
  }
  o.security.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  o.security.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  o.security.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  o.security.auth_token_file = absl::GetFlag(FLAGS_auth_token_file);
  o.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  o.shutdown_timeout = absl::GetFlag(FLAGS_shutdown_timeout);
  if (o.drain_delay < absl::ZeroDuration() || o.shutdown_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--drain_delay and --shutdown_timeout must be >= 0");
  }
  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  if (!state_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("--state_dir: cannot create '", state_dir, "': ", ec.message()));
    }
  }
  return o;
}

}  // namespace transaxx::rpc
