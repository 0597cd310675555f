// What every gRPC handler of a transaxx service does with its outcome: the
// absl::Status of the libs becomes the gRPC status with the same code and
// message, and an exception escaping a handler body becomes INTERNAL instead
// of killing the server.
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_LIBS_RPC_HANDLER_STATUS_H_
#define TRANSAXX_LIBS_RPC_HANDLER_STATUS_H_

#include <functional>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace transaxx::rpc {

// `s` with its code and message.
grpc::Status ToGrpc(const absl::Status& s);

// body(), or INTERNAL "<method>: <what>" when it throws.
absl::Status Guarded(const char* method, const std::function<absl::Status()>& body);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_HANDLER_STATUS_H_
