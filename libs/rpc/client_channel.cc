#include "libs/rpc/client_channel.h"

#include <arpa/inet.h>

#include <vector>

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "libs/rpc/host_port.h"

namespace transaxx::rpc {
namespace {

enum class Family { kIpv4, kIpv6 };

// The address of `host` as an IP literal of its family, resolving names
// (the resolver's first address).
absl::StatusOr<std::pair<Family, std::string>> ResolveHost(const std::string& host) {
  absl::StatusOr<std::vector<std::string>> addresses = ResolveAddresses(host);
  if (!addresses.ok()) return addresses.status();
  const std::string& first = addresses->front();
  in_addr v4{};
  return std::make_pair(inet_pton(AF_INET, first.c_str(), &v4) == 1 ? Family::kIpv4 : Family::kIpv6,
                        first);
}

}  // namespace

absl::StatusOr<std::string> ToGrpcTarget(absl::string_view target) {
  if (absl::StartsWith(target, "dns:///")) {
    if (!ParseHostPort(target.substr(7)).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad target '", target, "': expected dns:///NAME:PORT"));
    }
    return std::string(target);
  }
  std::vector<std::string> entries;
  for (absl::string_view entry : absl::StrSplit(target, ',', absl::SkipWhitespace())) {
    entries.emplace_back(absl::StripAsciiWhitespace(entry));
  }
  if (entries.empty()) {
    return absl::InvalidArgumentError(
        "empty target: give HOST:PORT, a comma-separated list or dns:///NAME:PORT");
  }
  if (entries.size() == 1) {
    absl::StatusOr<HostPort> hp = ParseHostPort(entries[0]);
    if (!hp.ok()) return hp.status();
    return absl::StrCat("dns:///", hp->ToString());
  }
  std::vector<std::string> addresses;
  Family family = Family::kIpv4;
  for (size_t i = 0; i < entries.size(); ++i) {
    absl::StatusOr<HostPort> hp = ParseHostPort(entries[i]);
    if (!hp.ok()) return hp.status();
    auto resolved = ResolveHost(hp->host);
    if (!resolved.ok()) return resolved.status();
    if (i > 0 && resolved->first != family) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target list '", target, "' mixes IPv4 and IPv6 addresses; use one family"));
    }
    family = resolved->first;
    addresses.push_back(HostPort{resolved->second, hp->port}.ToString());
  }
  return absl::StrCat(family == Family::kIpv4 ? "ipv4:" : "ipv6:",
                      absl::StrJoin(addresses, ","));
}

absl::StatusOr<ClientChannel> ClientChannel::Create(const ChannelOptions& options) {
  absl::StatusOr<std::string> target = ToGrpcTarget(options.target);
  if (!target.ok()) return target.status();
  auto creds = MakeChannelCredentials(options.security);
  if (!creds.ok()) return creds.status();
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(R"({"loadBalancingConfig":[{"round_robin":{}}]})");
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::string server_name = options.tls_server_name;
  if (server_name.empty() && !options.security.tls_ca_file.empty()) {
    std::string first(options.target.substr(0, options.target.find(',')));
    if (absl::StartsWith(first, "dns:///")) first = first.substr(7);
    absl::StatusOr<HostPort> hp = ParseHostPort(first);
    if (hp.ok()) server_name = hp->host;
  }
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  return ClientChannel(grpc::CreateCustomChannel(*target, *creds, args),
                       options.default_deadline);
}

std::unique_ptr<grpc::ClientContext> ClientChannel::NewCall(absl::Duration deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return context;
}

}  // namespace transaxx::rpc
