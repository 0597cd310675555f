// LibTorch (PyPI wheel) and Debian's gRPC and protobuf in one process, as in
// the evaluator: a gRPC handler on the service scaffold runs a LibTorch
// computation, and the v1 contract's messages round-trip through protobuf.
// The wheel keeps its own protobuf symbols hidden; this test guards that.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "echo.grpc.pb.h"
#include "libs/rpc/client_channel.h"
#include "libs/rpc/server.h"
#include "transaxx/v1/evaluator.pb.h"

namespace transaxx {
namespace {

// Echoes the trace of text.size() x text.size() identity matrices' product.
class TorchEcho final : public transaxx::testing::Echo::Service {
  grpc::Status Say(grpc::ServerContext*, const transaxx::testing::SayRequest* request,
                   transaxx::testing::SayReply* reply) override {
    const int64_t n = static_cast<int64_t>(request->text().size());
    at::Tensor eye = at::eye(n);
    reply->set_text(std::to_string(at::matmul(eye, eye).trace().item<float>()));
    return grpc::Status::OK;
  }
};

TEST(TorchGrpcCoexistenceTest, TorchRunsInsideAGrpcHandler) {
  at::set_num_threads(1);
  rpc::MetricsRegistry registry;
  TorchEcho service;
  rpc::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "";
  auto server = rpc::Server::Start(
      options, {{&service, transaxx::testing::Echo::service_full_name()}}, registry);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = rpc::ClientChannel::Create({.target = "127.0.0.1:" + std::to_string((*server)->port())});
  ASSERT_TRUE(channel.ok());
  auto stub = transaxx::testing::Echo::NewStub(channel->channel());
  transaxx::testing::SayRequest request;
  request.set_text("seven!!");
  transaxx::testing::SayReply reply;
  auto context = channel->NewCall();
  ASSERT_TRUE(stub->Say(context.get(), request, &reply).ok());
  EXPECT_EQ(reply.text(), "7.000000");
  (*server)->Shutdown();
}

TEST(TorchGrpcCoexistenceTest, ContractMessagesRoundTripBesideTorch) {
  transaxx::v1::DescribeModelRequest request;
  request.mutable_model()->set_id("deit_tiny_patch16_224");
  std::string wire;
  ASSERT_TRUE(request.SerializeToString(&wire));
  transaxx::v1::DescribeModelRequest back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.model().id(), "deit_tiny_patch16_224");
  EXPECT_EQ(at::ones({3}).sum().item<float>(), 3.0f);
}

}  // namespace
}  // namespace transaxx
