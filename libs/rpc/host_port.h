// HOST:PORT addresses as given on command lines: "127.0.0.1:50051",
// "0.0.0.0:0", "[::1]:50051", "localhost:9090".
//
// Thread-safety: plain values and pure functions.
#ifndef TRANSAXX_LIBS_RPC_HOST_PORT_H_
#define TRANSAXX_LIBS_RPC_HOST_PORT_H_

#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace transaxx::rpc {

struct HostPort {
  std::string host;  // Without brackets, e.g. "::1".
  int port = 0;      // 0..65535; 0 asks a server for any free port.

  // Brackets IPv6 hosts: "[::1]:50051".
  std::string ToString() const;
  bool IsLoopback() const;
};

// INVALID_ARGUMENT naming `text` when it is not HOST:PORT with a port in
// 0..65535 and a non-empty host.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text);

// The IP addresses (literals, without brackets) `host` stands for: an IP
// literal itself, else every address the resolver gives, in its order,
// without repeats. NOT_FOUND naming the host when it does not resolve.
absl::StatusOr<std::vector<std::string>> ResolveAddresses(const std::string& host);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_HOST_PORT_H_
