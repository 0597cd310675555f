#include "libs/rpc/grpc_metrics.h"

#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"

namespace transaxx::rpc {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

// Names of grpc::StatusCode as in the gRPC specification.
const char* CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS",    "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",       "DATA_LOSS",
      "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY: return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING: return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING: return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING: return "bidi_stream";
  }
  return "unknown";
}

struct Families {
  Family<Counter>& started;
  Family<Counter>& handled;
  Family<Histogram>& seconds;
};

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(Families& families, std::vector<std::string> labels)
      : families_(families), labels_(std::move(labels)) {}

  // A call that ends without sending a status (the client cancelled, or the
  // server shut down under it) is counted as CANCELLED.
  ~MetricsInterceptor() override {
    if (started_ && !handled_) Finish(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      started_ = true;
      start_ = std::chrono::steady_clock::now();
      families_.started.WithLabels(labels_).Increment();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        started_ && !handled_) {
      Finish(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Finish(grpc::StatusCode code) {
    handled_ = true;
    std::vector<std::string> with_code = labels_;
    with_code.push_back(CodeName(code));
    families_.handled.WithLabels(with_code).Increment();
    std::chrono::duration<double> dt = std::chrono::steady_clock::now() - start_;
    families_.seconds.WithLabels(labels_).Observe(dt.count());
  }

  Families& families_;
  const std::vector<std::string> labels_;
  bool started_ = false;
  bool handled_ = false;
  std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  MetricsInterceptorFactory(MetricsRegistry& registry, std::set<std::string> known)
      : known_(std::move(known)),
        families_{registry.AddCounter("transaxx_grpc_server_started_total",
                                      "RPCs started on the server.",
                                      {"grpc_service", "grpc_method", "grpc_type"}),
                  registry.AddCounter("transaxx_grpc_server_handled_total",
                                      "RPCs completed on the server, by status code.",
                                      {"grpc_service", "grpc_method", "grpc_type", "grpc_code"}),
                  registry.AddHistogram("transaxx_grpc_server_handling_seconds",
                                        "Time from receiving a call to sending its status.",
                                        {"grpc_service", "grpc_method", "grpc_type"},
                                        LatencyBucketsSeconds())} {}

  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    std::string service = "unknown", method = "unknown";
    const std::string path = info->method() ? info->method() : "";
    if (known_.count(path)) {
      size_t slash = path.rfind('/');
      service = path.substr(1, slash - 1);
      method = path.substr(slash + 1);
    }
    return new MetricsInterceptor(families_, {service, method, TypeName(info->type())});
  }

 private:
  const std::set<std::string> known_;
  Families families_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewGrpcMetricsInterceptorFactory(MetricsRegistry& registry, std::set<std::string> known_methods) {
  return std::make_unique<MetricsInterceptorFactory>(registry, std::move(known_methods));
}

}  // namespace transaxx::rpc
