#include "cli/remote.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace transaxx::cli {

const std::set<std::string>& ClientFlags() {
  static const std::set<std::string> flags = {"server", "tls_ca", "tls_cert", "tls_key",
                                              "auth_token_file", "timeout"};
  return flags;
}

std::string FlagOrEnv(const Args& args, const std::string& flag, const char* env) {
  if (auto v = args.Value(flag)) return *v;
  const char* e = std::getenv(env);
  return e ? e : "";
}

absl::StatusOr<rpc::ClientChannel> ConnectFromFlags(const Args& args) {
  const std::string target = FlagOrEnv(args, "server", "TRANSAXX_SERVER");
  if (target.empty()) {
    return absl::InvalidArgumentError("--server: required (or set TRANSAXX_SERVER)");
  }
  return ConnectTo(args, target);
}

absl::StatusOr<rpc::ClientChannel> ConnectTo(const Args& args, const std::string& target) {
  rpc::ChannelOptions options;
  options.target = target;
  options.security.tls_ca_file = FlagOrEnv(args, "tls_ca", "TRANSAXX_TLS_CA");
  options.security.tls_cert_file = FlagOrEnv(args, "tls_cert", "TRANSAXX_TLS_CERT");
  options.security.tls_key_file = FlagOrEnv(args, "tls_key", "TRANSAXX_TLS_KEY");
  options.security.auth_token_file = FlagOrEnv(args, "auth_token_file", "TRANSAXX_AUTH_TOKEN_FILE");
  if (auto t = args.Value("timeout")) {
    if (!absl::ParseDuration(*t, &options.default_deadline) ||
        options.default_deadline <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("--timeout: '", *t, "' is not a duration like 30s"));
    }
  }
  return rpc::ClientChannel::Create(options);
}

absl::Status FromGrpc(const grpc::Status& s, const Args& args, const std::string& server_kind) {
  return FromGrpcAt(s, FlagOrEnv(args, "server", "TRANSAXX_SERVER"), server_kind);
}

absl::Status FromGrpcAt(const grpc::Status& s, const std::string& server,
                        const std::string& server_kind) {
  if (s.ok()) return absl::OkStatus();
  const std::string& m = s.error_message();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
      (absl::StrContains(m, "failed to connect") || absl::StrContains(m, "Failed to connect") ||
       absl::StrContains(m, "Connection refused") || absl::StrContains(m, "DNS resolution failed") ||
       absl::StrContains(m, "connections to all backends failing"))) {
    return absl::UnavailableError(absl::StrCat("cannot reach the ", server_kind, " at ", server,
                                               ": is it running? (--server or TRANSAXX_SERVER); ",
                                               m));
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(server, ": ", m));
}

}  // namespace transaxx::cli
