#include "libs/rpc/security.h"

#include <gtest/gtest.h>

namespace transaxx::rpc {
namespace {

TEST(SecurityTest, NoOptionsMeansInsecure) {
  EXPECT_TRUE(MakeServerCredentials({}).ok());
  EXPECT_TRUE(MakeChannelCredentials({}).ok());
}

TEST(SecurityTest, RefusesInconsistentServerOptions) {
  SecurityOptions key_only;
  key_only.tls_key_file = "k.pem";
  EXPECT_EQ(MakeServerCredentials(key_only).status().code(), absl::StatusCode::kInvalidArgument);
  SecurityOptions token_plaintext;
  token_plaintext.auth_token_file = "token";
  auto s = MakeServerCredentials(token_plaintext).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--tls_cert"), std::string::npos) << s;
  SecurityOptions ca_only;
  ca_only.tls_ca_file = "ca.pem";
  EXPECT_EQ(MakeServerCredentials(ca_only).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SecurityTest, RefusesTokenOrCertificateWithoutCaOnClients) {
  SecurityOptions token;
  token.auth_token_file = "token";
  EXPECT_EQ(MakeChannelCredentials(token).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SecurityTest, MissingFilesAreNamed) {
  SecurityOptions o;
  o.tls_cert_file = "/nonexistent/cert.pem";
  o.tls_key_file = "/nonexistent/key.pem";
  auto s = MakeServerCredentials(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/cert.pem"), std::string::npos) << s;
}

}  // namespace
}  // namespace transaxx::rpc
