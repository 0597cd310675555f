// The standard Prometheus process metrics (process_cpu_seconds_total,
// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds,
// process_threads), read from /proc at every scrape.
//
// Thread-safety: as MetricsRegistry.
#ifndef TRANSAXX_LIBS_RPC_PROCESS_METRICS_H_
#define TRANSAXX_LIBS_RPC_PROCESS_METRICS_H_

#include "libs/rpc/metrics.h"

namespace transaxx::rpc {

// Registers the process metrics in `registry` and a hook that refreshes them
// before each render.
void RegisterProcessMetrics(MetricsRegistry& registry);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_PROCESS_METRICS_H_
