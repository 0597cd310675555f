// Client channels to transaxx services: one address, a comma-separated list
// of addresses, or a DNS name resolved and re-resolved by gRPC
// ("dns:///evaluator.transaxx.svc:50051", e.g. a Kubernetes headless
// Service), always balanced round-robin over every address, with keepalive
// and a default deadline for each call.
//
// Thread-safety: a ClientChannel may be shared by any number of threads.
#ifndef TRANSAXX_LIBS_RPC_CLIENT_CHANNEL_H_
#define TRANSAXX_LIBS_RPC_CLIENT_CHANNEL_H_

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/rpc/security.h"

namespace transaxx::rpc {

struct ChannelOptions {
  // "HOST:PORT", "HOST:PORT,HOST:PORT,…" or "dns:///NAME:PORT".
  std::string target;
  SecurityOptions security;
  // The name the server certificate must carry; default: the first host.
  std::string tls_server_name;
  // Deadline of calls made through NewCall() without an explicit one.
  absl::Duration default_deadline = absl::Seconds(30);
  // Interval of HTTP/2 keepalive pings on idle connections.
  absl::Duration keepalive_time = absl::Seconds(30);
};

// Turns a target into a gRPC target URI: a single "HOST:PORT" becomes
// "dns:///HOST:PORT", a list of IP literals "ipv4:a,b" or "ipv6:[a],[b]",
// a list naming hosts is resolved once, now, and "dns:///" passes through.
// INVALID_ARGUMENT naming the bad entry; NOT_FOUND for a host that does not resolve.
absl::StatusOr<std::string> ToGrpcTarget(absl::string_view target);

class ClientChannel {
 public:
  // Errors: those of ToGrpcTarget and MakeChannelCredentials. Connecting is
  // lazy: an unreachable server shows up as UNAVAILABLE on the first call.
  static absl::StatusOr<ClientChannel> Create(const ChannelOptions& options);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // A context for one call, with the default deadline.
  std::unique_ptr<grpc::ClientContext> NewCall() const { return NewCall(default_deadline_); }
  std::unique_ptr<grpc::ClientContext> NewCall(absl::Duration deadline) const;

 private:
  ClientChannel(std::shared_ptr<grpc::Channel> channel, absl::Duration deadline)
      : channel_(std::move(channel)), default_deadline_(deadline) {}
  std::shared_ptr<grpc::Channel> channel_;
  absl::Duration default_deadline_;
};

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_CLIENT_CHANNEL_H_
