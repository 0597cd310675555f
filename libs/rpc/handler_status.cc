#include "libs/rpc/handler_status.h"

#include <exception>
#include <string>

#include "absl/strings/str_cat.h"

namespace transaxx::rpc {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

absl::Status Guarded(const char* method, const std::function<absl::Status()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(method, ": ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(method, ": unknown exception"));
  }
}

}  // namespace transaxx::rpc
