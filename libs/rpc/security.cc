#include "libs/rpc/security.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <grpcpp/security/auth_metadata_processor.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"

namespace transaxx::rpc {
namespace {

// Rejects calls without "authorization: Bearer <token>", except health checks.
class TokenAuthProcessor : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenAuthProcessor(std::string token) : expected_(absl::StrCat("Bearer ", token)) {}

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext*,
                       OutputMetadata* consumed, OutputMetadata*) override {
    auto path = metadata.find(":path");
    if (path != metadata.end() &&
        absl::string_view(path->second.data(), path->second.size())
                .rfind("/grpc.health.v1.Health/", 0) == 0) {
      return grpc::Status::OK;
    }
    auto auth = metadata.find("authorization");
    if (auth == metadata.end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "missing bearer token: pass --auth_token_file (or "
                          "TRANSAXX_AUTH_TOKEN_FILE) with the cluster's token");
    }
    if (!ConstantTimeEquals(absl::string_view(auth->second.data(), auth->second.size()))) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "invalid bearer token: check the token file");
    }
    consumed->insert({"authorization", std::string(auth->second.data(), auth->second.size())});
    return grpc::Status::OK;
  }

 private:
  // Compares without an early exit so timing does not reveal the token.
  bool ConstantTimeEquals(absl::string_view got) const {
    unsigned char diff = got.size() == expected_.size() ? 0 : 1;
    for (size_t i = 0; i < expected_.size(); ++i) {
      diff |= static_cast<unsigned char>(expected_[i] ^ (i < got.size() ? got[i] : 0));
    }
    return diff == 0;
  }

  const std::string expected_;
};

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSecretFile(path, "auth token file");
  if (!text.ok()) return text.status();
  std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("auth token file '", path, "' is empty"));
  }
  return token;
}

}  // namespace

absl::StatusOr<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    std::string msg = absl::StrCat("cannot read ", what, " '", path, "': ", std::strerror(err));
    return err == EACCES ? absl::PermissionDeniedError(msg) : absl::NotFoundError(msg);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const SecurityOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key must be given together");
  }
  if (o.tls_cert_file.empty()) {
    if (!o.tls_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_ca (client certificate checking) needs --tls_cert and --tls_key");
    }
    if (!o.auth_token_file.empty()) {
      return absl::InvalidArgumentError(
          "--auth_token_file needs --tls_cert and --tls_key: a bearer token sent in plaintext "
          "can be read by anyone on the network");
    }
    return grpc::InsecureServerCredentials();
  }
  absl::StatusOr<std::string> cert = ReadSecretFile(o.tls_cert_file, "TLS certificate");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadSecretFile(o.tls_key_file, "TLS key");
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!o.tls_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadSecretFile(o.tls_ca_file, "TLS CA");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::SslServerCredentials(ssl);
  if (!o.auth_token_file.empty()) {
    absl::StatusOr<std::string> token = ReadToken(o.auth_token_file);
    if (!token.ok()) return token.status();
    creds->SetAuthMetadataProcessor(std::make_shared<TokenAuthProcessor>(*token));
  }
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const SecurityOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key must be given together");
  }
  if (o.tls_ca_file.empty()) {
    if (!o.tls_cert_file.empty() || !o.auth_token_file.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate or token needs --tls_ca, the CA of the server's certificate");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  absl::StatusOr<std::string> ca = ReadSecretFile(o.tls_ca_file, "TLS CA");
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *ca;
  if (!o.tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadSecretFile(o.tls_cert_file, "TLS certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadSecretFile(o.tls_key_file, "TLS key");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(ssl);
  if (!o.auth_token_file.empty()) {
    absl::StatusOr<std::string> token = ReadToken(o.auth_token_file);
    if (!token.ok()) return token.status();
    creds = grpc::CompositeChannelCredentials(creds, grpc::AccessTokenCredentials(*token));
  }
  return creds;
}

}  // namespace transaxx::rpc
