#include "libs/rpc/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace transaxx::rpc {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_seconds_since_boot = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double threads = 0;
};

// Fields of /proc/self/stat after the command name, which may hold spaces
// and is therefore skipped up to its closing parenthesis.
bool ReadProcStat(ProcStat* out) {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string tok; rest >> tok;) f.push_back(tok);
  // f[0] is field 3 (state); field N is f[N - 3].
  if (f.size() < 22) return false;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  out->cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime, stime
  out->threads = std::stod(f[17]);
  out->start_seconds_since_boot = std::stod(f[19]) / ticks;
  out->virtual_bytes = std::stod(f[20]);
  out->resident_bytes = std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
  return true;
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
  }
  return 0;
}

}  // namespace

void RegisterProcessMetrics(MetricsRegistry& registry) {
  Counter& cpu = registry.AddCounter("process_cpu_seconds_total",
                                          "Total user and system CPU time spent in seconds.")
                            .WithLabels({});
  Gauge& resident = registry.AddGauge("process_resident_memory_bytes",
                                      "Resident memory size in bytes.").WithLabels({});
  Gauge& virt = registry.AddGauge("process_virtual_memory_bytes",
                                  "Virtual memory size in bytes.").WithLabels({});
  Gauge& open_fds = registry.AddGauge("process_open_fds",
                                      "Number of open file descriptors.").WithLabels({});
  Gauge& max_fds = registry.AddGauge("process_max_fds",
                                     "Maximum number of open file descriptors.").WithLabels({});
  Gauge& start = registry.AddGauge("process_start_time_seconds",
                                   "Start time of the process since unix epoch in seconds.")
                     .WithLabels({});
  Gauge& threads = registry.AddGauge("process_threads", "Number of OS threads in the process.")
                       .WithLabels({});
  const double boot = BootTimeSeconds();
  registry.AddCollectHook([=, &cpu, &resident, &virt, &open_fds, &max_fds, &start,
                           &threads] {
    ProcStat s;
    if (ReadProcStat(&s)) {
      cpu.IncrementTo(s.cpu_seconds);
      resident.Set(s.resident_bytes);
      virt.Set(s.virtual_bytes);
      threads.Set(s.threads);
      start.Set(boot + s.start_seconds_since_boot);
    }
    std::error_code ec;
    double n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++n;
    }
    open_fds.Set(n);
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) max_fds.Set(static_cast<double>(lim.rlim_cur));
  });
}

}  // namespace transaxx::rpc
