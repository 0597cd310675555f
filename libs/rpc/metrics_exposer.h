// Serves a MetricsRegistry over HTTP at /metrics, on its own port, for
// Prometheus to scrape: a minimal HTTP/1.0-style server (GET and HEAD of
// /metrics, one request per connection) on one thread of its own.
//
// Why not an embedded web server library: Debian's civetweb starts its
// threads with a fixed 100 KB stack, and glibc carves a thread's static TLS
// out of its stack; in a process that also holds LibTorch and the CUDA
// libraries (over 250 KB of static TLS) every such thread fails to start.
// A std::thread gets the default stack, and a scrape endpoint needs nothing
// more than this.
//
// Thread-safety: Start and the destructor must not race; scrapes are served
// from the exposer's thread while the registry is being updated.
#ifndef TRANSAXX_LIBS_RPC_METRICS_EXPOSER_H_
#define TRANSAXX_LIBS_RPC_METRICS_EXPOSER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "libs/rpc/metrics.h"

namespace transaxx::rpc {

class MetricsExposer {
 public:
  // Listens on `address` ("HOST:PORT"; port 0 picks a free one) and serves
  // `registry`, which must outlive the exposer. INVALID_ARGUMENT for a
  // malformed address, UNAVAILABLE when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsExposer>> Start(const std::string& address,
                                                               const MetricsRegistry* registry);
  // Stops serving within a fraction of a second.
  ~MetricsExposer();

  MetricsExposer(const MetricsExposer&) = delete;
  MetricsExposer& operator=(const MetricsExposer&) = delete;

  // The bound port (the real one when 0 was asked for).
  int port() const { return port_; }

 private:
  MetricsExposer(int fd, int port, const MetricsRegistry* registry);
  void Serve();

  const int fd_;
  const int port_;
  const MetricsRegistry* const registry_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_METRICS_EXPOSER_H_
