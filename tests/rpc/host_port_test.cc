#include "libs/rpc/host_port.h"

#include <gtest/gtest.h>

namespace transaxx::rpc {
namespace {

TEST(HostPortTest, ParsesHostsAndPorts) {
  auto a = ParseHostPort("127.0.0.1:50051");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 50051);
  EXPECT_TRUE(a->IsLoopback());
  auto b = ParseHostPort("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->ToString(), "[::1]:0");
  auto c = ParseHostPort("evaluator.transaxx.svc:7000");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->IsLoopback());
}

TEST(HostPortTest, RejectsMalformedAddressesWithActionableMessage) {
  for (const char* bad : {"", "50051", ":50051", "host:", "host:65536", "host:-1", "host:x",
                          "::1:80", "[::1:80", "0.0.0.0:1e3"}) {
    auto r = ParseHostPort(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("HOST:PORT"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace transaxx::rpc
