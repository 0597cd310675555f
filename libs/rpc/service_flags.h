// Command-line flags shared by every transaxx service, and their conversion
// to ServerOptions:
//   --listen HOST:PORT          gRPC address (default 127.0.0.1:50051)
//   --metrics_listen HOST:PORT  Prometheus /metrics address ("" disables)
//   --state_dir DIR             where the service keeps its persistent state
//   --tls_cert/--tls_key FILE   server certificate chain and key (PEM)
//   --tls_ca FILE               CA for client certificates (mutual TLS)
//   --auth_token_file FILE      bearer token clients must present (needs TLS)
//   --drain_delay DURATION      NOT_SERVING time before refusing calls
//   --shutdown_timeout DURATION how long in-flight calls may finish
//   --log_level LEVEL           debug, info, warning or error
//
// Thread-safety: call from main after absl::ParseCommandLine.
#ifndef TRANSAXX_LIBS_RPC_SERVICE_FLAGS_H_
#define TRANSAXX_LIBS_RPC_SERVICE_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/server.h"

ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, metrics_listen);
ABSL_DECLARE_FLAG(std::string, state_dir);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, auth_token_file);
ABSL_DECLARE_FLAG(absl::Duration, drain_delay);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_timeout);
ABSL_DECLARE_FLAG(std::string, log_level);

namespace transaxx::rpc {

// Reads the flags into ServerOptions named `name` and applies --log_level.
// INVALID_ARGUMENT naming the flag when a value is malformed; creates
// --state_dir when given and missing (FAILED_PRECONDITION if it cannot).
absl::StatusOr<ServerOptions> ServerOptionsFromFlags(const std::string& name);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_SERVICE_FLAGS_H_
