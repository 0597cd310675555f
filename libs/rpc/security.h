// Transport security and authentication shared by servers and clients:
// TLS (server certificate), mutual TLS (a CA that client certificates must
// chain to) and bearer tokens ("authorization: Bearer <token>").
//
// A token is a secret: it is only ever sent over TLS. Health checks stay
// open without a token so that Kubernetes probes work; every other method,
// reflection included, needs it when a token file is configured.
//
// Thread-safety: plain values and functions without shared state.
#ifndef TRANSAXX_LIBS_RPC_SECURITY_H_
#define TRANSAXX_LIBS_RPC_SECURITY_H_

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/status/statusor.h"

namespace transaxx::rpc {

// Paths of PEM files and of the token file; empty = not used.
struct SecurityOptions {
  // Server: its certificate chain and key; both or neither.
  // Client: its certificate and key for mutual TLS; both or neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Server: the CA that client certificates must chain to (turns on mTLS).
  // Client: the CA that the server's certificate must chain to; turns on TLS.
  std::string tls_ca_file;
  // Server: the token clients must present. Client: the token to present.
  // One line; surrounding whitespace is ignored.
  std::string auth_token_file;
};

// Reads a whole file. NOT_FOUND / PERMISSION_DENIED naming `what` and `path`.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const std::string& what);

// Insecure credentials when no option is set; TLS with a certificate; mTLS
// when a CA is given too; token checking on top when a token file is given.
// INVALID_ARGUMENT for inconsistent options (key without certificate, CA or
// token without a certificate); the errors of ReadSecretFile for bad files.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityOptions& options);

// Insecure credentials when no option is set; TLS when a CA is given (the
// system roots are not trusted implicitly); client certificate for mTLS;
// the token as call credentials. INVALID_ARGUMENT when a certificate or a
// token is given without a CA.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const SecurityOptions& options);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_SECURITY_H_
