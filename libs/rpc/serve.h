// The main loop of a service: start the server, log where it listens, wait
// for SIGTERM/SIGINT, drain gracefully, and return the process exit code.
//
// Thread-safety: call once, from main, after BlockTerminationSignals().
#ifndef TRANSAXX_LIBS_RPC_SERVE_H_
#define TRANSAXX_LIBS_RPC_SERVE_H_

#include <functional>
#include <vector>

#include "libs/rpc/metrics.h"
#include "libs/rpc/server.h"

namespace transaxx::rpc {

// Returns 0 after a graceful shutdown, 1 when the server could not start
// (the reason is logged). Logs {"msg":"serving","grpc_port":…,"metrics_port":…}
// once ready, which scripts and tests wait for. `on_signal`, when given, runs
// after the signal and before the drain (e.g. to stop background work that
// streaming calls wait on).
int ServeUntilTerminated(const ServerOptions& options, const std::vector<ServiceEntry>& services,
                         MetricsRegistry& registry,
                         const std::function<void()>& on_signal = {});

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_SERVE_H_
