#include "libs/rpc/client_channel.h"

#include <gtest/gtest.h>

namespace transaxx::rpc {
namespace {

TEST(ClientChannelTest, TurnsTargetsIntoGrpcUris) {
  EXPECT_EQ(*ToGrpcTarget("127.0.0.1:5"), "dns:///127.0.0.1:5");
  EXPECT_EQ(*ToGrpcTarget("dns:///evaluator:7000"), "dns:///evaluator:7000");
  EXPECT_EQ(*ToGrpcTarget("127.0.0.1:5, 127.0.0.2:6"), "ipv4:127.0.0.1:5,127.0.0.2:6");
  EXPECT_EQ(*ToGrpcTarget("[::1]:5,[::1]:6"), "ipv6:[::1]:5,[::1]:6");
  EXPECT_EQ(ToGrpcTarget("localhost:5,127.0.0.1:6")->substr(0, 5), "ipv4:");
}

TEST(ClientChannelTest, RejectsBadTargets) {
  EXPECT_EQ(ToGrpcTarget("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToGrpcTarget("dns:///noport").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToGrpcTarget("127.0.0.1:5,nope").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToGrpcTarget("127.0.0.1:5,[::1]:6").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToGrpcTarget("127.0.0.1:5,no-such-host.invalid:6").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ClientChannelTest, CallsCarryTheDefaultOrGivenDeadline) {
  ChannelOptions options;
  options.target = "127.0.0.1:1";
  options.default_deadline = absl::Seconds(7);
  auto channel = ClientChannel::Create(options);
  ASSERT_TRUE(channel.ok()) << channel.status();
  auto remaining = [](const grpc::ClientContext& c) {
    return absl::ToDoubleSeconds(absl::FromChrono(c.deadline()) - absl::Now());
  };
  EXPECT_NEAR(remaining(*channel->NewCall()), 7, 1);
  EXPECT_NEAR(remaining(*channel->NewCall(absl::Milliseconds(500))), 0.5, 0.4);
}

}  // namespace
}  // namespace transaxx::rpc
