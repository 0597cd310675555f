// Prometheus metrics: counters, gauges and histograms grouped in labelled
// families, kept in a registry that renders the Prometheus text exposition
// format (version 0.0.4). Debian 12 has no prometheus-cpp, so this is the
// small subset the services need.
//
//   MetricsRegistry registry;
//   auto& calls = registry.AddCounter("transaxx_calls_total", "Calls.", {"method"});
//   calls.WithLabels({"Evaluate"}).Increment();
//   std::string text = registry.Render();
//
// Thread-safety: every method may be called concurrently. References returned
// by Add* and WithLabels stay valid for the registry's lifetime.
#ifndef TRANSAXX_LIBS_RPC_METRICS_H_
#define TRANSAXX_LIBS_RPC_METRICS_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace transaxx::rpc {

// A value that only goes up (resets only when the process restarts).
class Counter {
 public:
  // REQUIRES: delta >= 0.
  void Increment(double delta = 1.0);
  // Raises the value to `total` (never lowers it): for counters mirrored
  // from a source that keeps its own running total, like the kernel's CPU time.
  void IncrementTo(double total);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations in cumulative buckets with fixed upper bounds.
class Histogram {
 public:
  // REQUIRES: `bounds` strictly increasing and finite.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (non-cumulative) counts; the last entry is the +Inf bucket.
  std::vector<uint64_t> BucketCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
  std::atomic<uint64_t> count_{0};
};

// Default latency buckets in seconds, from 1 ms to 10 min: evaluations of a
// configuration take seconds to minutes, health checks well under 1 ms.
std::vector<double> LatencyBucketsSeconds();

// One metric name with a fixed set of label names; each distinct tuple of
// label values is one time series of type T.
template <typename T>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  // REQUIRES: values.size() == number of label names. Label values must come
  // from small fixed sets (method names, status codes), never from IDs.
  T& WithLabels(const std::vector<std::string>& values);

  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls `fn(values, series)` for every series, in label-value order.
  void ForEach(const std::function<void(const std::vector<std::string>&, const T&)>& fn) const;

 private:
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
};

class MetricsRegistry {
 public:
  // REQUIRES: `name` is a valid Prometheus metric name not registered yet,
  // label names are valid and do not start with "__". Violations abort: they
  // are programming errors, caught by the first test that starts the service.
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds);

  // Registers `hook` to run before every Render(), e.g. to refresh gauges
  // read from the operating system.
  void AddCollectHook(std::function<void()> hook);

  // The text exposition format of every registered family, in name order.
  std::string Render() const;

 private:
  struct Entry {
    std::string help;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
  };
  Entry& NewEntry(const std::string& name, const std::string& help,
                  const std::vector<std::string>& label_names);

  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::vector<std::function<void()>> hooks_;
};

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_METRICS_H_
