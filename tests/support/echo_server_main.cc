// transaxx-test-echo-server: the Echo test service on the service scaffold,
// with every flag of libs/rpc/service_flags.h. Used by the integration tests
// to check health, reflection, metrics, security and graceful shutdown.
#include <grpcpp/grpcpp.h>

#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "echo.grpc.pb.h"
#include "libs/rpc/log.h"
#include "libs/rpc/serve.h"
#include "libs/rpc/service_flags.h"
#include "libs/rpc/termination_signal.h"

namespace {

class EchoService final : public transaxx::testing::Echo::Service {
  grpc::Status Say(grpc::ServerContext* context, const transaxx::testing::SayRequest* request,
                   transaxx::testing::SayReply* reply) override {
    if (request->delay_ms() < 0 || request->delay_ms() > 60000) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "delay_ms must be in 0..60000");
    }
    // Sleeps in slices so that cancellation is noticed promptly.
    absl::Time until = absl::Now() + absl::Milliseconds(request->delay_ms());
    while (absl::Now() < until) {
      if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (request->fail_code() != 0) {
      return grpc::Status(static_cast<grpc::StatusCode>(request->fail_code()), "asked to fail");
    }
    reply->set_text(request->text());
    return grpc::Status::OK;
  }
};

}  // namespace

int main(int argc, char** argv) {
  transaxx::rpc::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  auto options = transaxx::rpc::ServerOptionsFromFlags("transaxx-test-echo-server");
  if (!options.ok()) {
    transaxx::rpc::LogError("bad flags", {{"error", std::string(options.status().message())}});
    return 2;
  }
  transaxx::rpc::MetricsRegistry registry;
  EchoService echo;
  return transaxx::rpc::ServeUntilTerminated(
      *options, {{&echo, transaxx::testing::Echo::service_full_name()}}, registry);
}
