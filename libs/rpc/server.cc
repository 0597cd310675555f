#include "libs/rpc/server.h"

#include <set>
#include <thread>

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/rpc/grpc_metrics.h"
#include "libs/rpc/host_port.h"
#include "libs/rpc/log.h"
#include "libs/rpc/process_metrics.h"

namespace transaxx::rpc {
namespace {

// Full method paths of the given services plus the built-in ones, for the
// metrics' label allow-list.
std::set<std::string> KnownMethods(const std::vector<std::string>& service_names) {
  std::set<std::string> known = {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                                 "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                 "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"};
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const std::string& name : service_names) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      known.insert(absl::StrCat("/", name, "/", service->method(i)->name()));
    }
  }
  return known;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      const std::vector<ServiceEntry>& services,
                                                      MetricsRegistry& registry) {
  absl::StatusOr<HostPort> listen = ParseHostPort(options.listen);
  if (!listen.ok()) return listen.status();
  auto creds = MakeServerCredentials(options.security);
  if (!creds.ok()) return creds.status();

  std::unique_ptr<Server> server(new Server());
  server->options_ = options;
  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsExposer>> exposer =
        MetricsExposer::Start(options.metrics_listen, &registry);
    if (!exposer.ok()) return exposer.status();
    server->exposer_ = std::move(*exposer);
  }
  RegisterProcessMetrics(registry);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen->ToString(), *creds, &server->port_);
  // Clients keep idle connections alive with pings every 30 s; allow them.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  for (const ServiceEntry& entry : services) {
    builder.RegisterService(entry.service);
    server->service_names_.push_back(entry.full_name);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(NewGrpcMetricsInterceptorFactory(registry, KnownMethods(server->service_names_)));
  builder.experimental().SetInterceptorCreators(std::move(creators));

  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen, ": the port is in use or the address is not local"));
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  health->SetServingStatus(true);
  for (const std::string& name : server->service_names_) health->SetServingStatus(name, true);
  return server;
}

void Server::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  LogInfo("draining", {{"server", options_.name},
                       {"drain_delay_s", absl::StrCat(absl::ToDoubleSeconds(options_.drain_delay))},
                       {"shutdown_timeout_s",
                        absl::StrCat(absl::ToDoubleSeconds(options_.shutdown_timeout))}});
  server_->GetHealthCheckService()->SetServingStatus(false);
  absl::SleepFor(options_.drain_delay);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_timeout));
  server_->Wait();
  exposer_.reset();
  LogInfo("stopped", {{"server", options_.name}});
}

Server::~Server() { Shutdown(); }

}  // namespace transaxx::rpc
