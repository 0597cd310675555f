#include "libs/rpc/metrics_exposer.h"

#include <civetweb.h>

#include "absl/strings/str_cat.h"
#include "libs/rpc/host_port.h"

namespace transaxx::rpc {
namespace {

int HandleMetrics(mg_connection* conn, void* data) {
  const auto* registry = static_cast<const MetricsRegistry*>(data);
  const mg_request_info* info = mg_get_request_info(conn);
  if (absl::string_view(info->request_method) != "GET" &&
      absl::string_view(info->request_method) != "HEAD") {
    mg_send_http_error(conn, 405, "only GET and HEAD are served");
    return 405;
  }
  std::string body = registry->Render();
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            body.size());
  if (absl::string_view(info->request_method) == "GET") {
    mg_write(conn, body.data(), body.size());
  }
  return 200;
}

// civetweb's own log lines would bypass our structured log; drop them, the
// errors that matter surface through Start's status.
int SilenceLog(const mg_connection*, const char*) { return 1; }

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsExposer>> MetricsExposer::Start(
    const std::string& address, const MetricsRegistry* registry) {
  absl::StatusOr<HostPort> hp = ParseHostPort(address);
  if (!hp.ok()) return hp.status();
  // civetweb writes IPv6 listening addresses as [addr]:port, like we do.
  const std::string ports = hp->ToString();
  const char* options[] = {"listening_ports", ports.c_str(), "num_threads", "2",
                           "enable_keep_alive", "no", nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = SilenceLog;
  mg_init_library(0);
  mg_context* ctx = mg_start(&callbacks, nullptr, options);
  if (ctx == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": the address is in use or not local"));
  }
  mg_set_request_handler(ctx, "/metrics$", HandleMetrics, const_cast<MetricsRegistry*>(registry));
  mg_server_port bound[4] = {};
  int n = mg_get_server_ports(ctx, 4, bound);
  int port = n > 0 ? bound[0].port : hp->port;
  return std::unique_ptr<MetricsExposer>(new MetricsExposer(ctx, port));
}

MetricsExposer::~MetricsExposer() { mg_stop(ctx_); }

}  // namespace transaxx::rpc
