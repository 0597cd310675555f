// A gRPC server interceptor that records, per method and status code:
//   transaxx_grpc_server_started_total{grpc_service,grpc_method,grpc_type}
//   transaxx_grpc_server_handled_total{grpc_service,grpc_method,grpc_type,grpc_code}
//   transaxx_grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type} (histogram)
// Methods outside the set the server registered are counted as
// grpc_service="unknown", so clients cannot blow up label cardinality.
//
// Thread-safety: the factory and its interceptors may be used from any thread.
#ifndef TRANSAXX_LIBS_RPC_GRPC_METRICS_H_
#define TRANSAXX_LIBS_RPC_GRPC_METRICS_H_

#include <memory>
#include <set>
#include <string>

#include <grpcpp/support/server_interceptor.h>

#include "libs/rpc/metrics.h"

namespace transaxx::rpc {

// REQUIRES: `registry` outlives the factory and every call it intercepts.
// `known_methods` holds full method paths such as "/grpc.health.v1.Health/Check".
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewGrpcMetricsInterceptorFactory(MetricsRegistry& registry, std::set<std::string> known_methods);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_GRPC_METRICS_H_
