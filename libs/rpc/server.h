// The scaffold every transaxx service runs on: a gRPC server with the
// grpc.health.v1 health service, server reflection, per-method Prometheus
// metrics on a separate HTTP port, TLS / mTLS / token authentication, and a
// graceful shutdown that first reports NOT_SERVING, then lets in-flight calls
// finish within a deadline.
//
//   MetricsRegistry registry;
//   MyService service(&registry);
//   auto server = Server::Start(options, {{&service, MyApi::service_full_name()}}, registry);
//   ...
//   server->Shutdown();  // e.g. after WaitForTerminationSignal()
//
// Thread-safety: Shutdown may be called from any thread, once.
#ifndef TRANSAXX_LIBS_RPC_SERVER_H_
#define TRANSAXX_LIBS_RPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/server.h>
#include <grpcpp/impl/service_type.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/metrics.h"
#include "libs/rpc/metrics_exposer.h"
#include "libs/rpc/security.h"

namespace transaxx::rpc {

struct ServerOptions {
  // Name used in logs, e.g. "transaxx-evaluator".
  std::string name = "transaxx";
  // gRPC address; port 0 picks a free port. Use 0.0.0.0 in containers.
  std::string listen = "127.0.0.1:50051";
  // Prometheus /metrics address; empty disables it.
  std::string metrics_listen = "127.0.0.1:9464";
  SecurityOptions security;
  // After SIGTERM, how long health reports NOT_SERVING before new calls are
  // refused, so that load balancers stop routing here first.
  absl::Duration drain_delay = absl::ZeroDuration();
  // How long in-flight calls may run on after that; then they are cancelled.
  absl::Duration shutdown_timeout = absl::Seconds(30);
};

// A service implementation and its full protobuf name, which generated code
// provides as `Service::service_full_name()`.
struct ServiceEntry {
  grpc::Service* service;
  std::string full_name;
};

class Server {
 public:
  // Builds and starts the server with `services` (not owned; they must
  // outlive the Server), health reporting SERVING for the whole server and
  // for each service by its full name. `registry` (must outlive the Server)
  // receives the gRPC and process metrics.
  // Errors: INVALID_ARGUMENT for bad addresses or security options (naming
  // the option), UNAVAILABLE when a port cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                       const std::vector<ServiceEntry>& services,
                                                       MetricsRegistry& registry);
  ~Server();

  int port() const { return port_; }
  // 0 when metrics are disabled.
  int metrics_port() const { return exposer_ ? exposer_->port() : 0; }

  // NOT_SERVING, drain_delay, stop accepting calls, wait for in-flight calls
  // up to shutdown_timeout (then cancel them), stop the metrics endpoint.
  void Shutdown();

 private:
  Server() = default;

  ServerOptions options_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsExposer> exposer_;
  std::vector<std::string> service_names_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_SERVER_H_
