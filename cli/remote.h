// What every remote command of the `transaxx` CLI shares: the client flags
// (--server, default $TRANSAXX_SERVER; --tls_ca/--tls_cert/--tls_key/
// --auth_token_file, default $TRANSAXX_TLS_CA, $TRANSAXX_TLS_CERT,
// $TRANSAXX_TLS_KEY, $TRANSAXX_AUTH_TOKEN_FILE; --timeout, a duration,
// default 30s), the channel they describe, and RPC errors carried back with
// the server's message.
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_REMOTE_H_
#define TRANSAXX_CLI_REMOTE_H_

#include <set>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/args.h"
#include "libs/rpc/client_channel.h"

namespace transaxx::cli {

// The value flags every remote command accepts.
const std::set<std::string>& ClientFlags();

// The flag's value, else the environment variable's, else "".
std::string FlagOrEnv(const Args& args, const std::string& flag, const char* env);

// A channel to --server with the security and timeout flags.
// INVALID_ARGUMENT naming the flag for a missing server or a bad timeout.
absl::StatusOr<rpc::ClientChannel> ConnectFromFlags(const Args& args);
// The same to `target` (a second server of one command).
absl::StatusOr<rpc::ClientChannel> ConnectTo(const Args& args, const std::string& target);

// `s` as an absl::Status whose message starts with the server's address.
// A server that cannot be reached (connection refused, unknown host) gives
// "cannot reach the SERVER_KIND at ADDR: is it running? (--server or
// TRANSAXX_SERVER)", SERVER_KIND naming the service, e.g. "coordinator".
absl::Status FromGrpc(const grpc::Status& s, const Args& args,
                      const std::string& server_kind = "server");
// The same for a call to `address` rather than --server.
absl::Status FromGrpcAt(const grpc::Status& s, const std::string& address,
                        const std::string& server_kind);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_REMOTE_H_
