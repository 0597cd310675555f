// Serves a MetricsRegistry over HTTP at /metrics, on its own port, for
// Prometheus to scrape. Built on Debian's civetweb.
//
// Thread-safety: Start and the destructor must not race; scrapes are served
// from civetweb's worker threads while the registry is being updated.
#ifndef TRANSAXX_LIBS_RPC_METRICS_EXPOSER_H_
#define TRANSAXX_LIBS_RPC_METRICS_EXPOSER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/rpc/metrics.h"

struct mg_context;

namespace transaxx::rpc {

class MetricsExposer {
 public:
  // Listens on `address` ("HOST:PORT"; port 0 picks a free one) and serves
  // `registry`, which must outlive the exposer. INVALID_ARGUMENT for a
  // malformed address, UNAVAILABLE when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(const std::string& address,
                                                               const MetricsRegistry* registry);
  ~MetricsExposer();

  MetricsExposer(const MetricsExposer&) = delete;
  MetricsExposer& operator=(const MetricsExposer&) = delete;

  // The bound port (the real one when 0 was asked for).
  int port() const { return port_; }

 private:
  MetricsExposer(mg_context* ctx, int port) : ctx_(ctx), port_(port) {}
  mg_context* ctx_;
  int port_;
};

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_METRICS_EXPOSER_H_
