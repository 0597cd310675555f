#include "libs/rpc/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace transaxx::rpc {
namespace {

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "metrics: %s\n", message.c_str());
  std::abort();
}

void AtomicAdd(std::atomic<double>& target, double delta) {
  double old = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
  }
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.17g", v);
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string EscapeHelp(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// `{a="x",b="y"}`, with `extra` (already formatted) appended; "" when empty.
std::string LabelSet(const std::vector<std::string>& names,
                     const std::vector<std::string>& values,
                     const std::string& extra = "") {
  std::vector<std::string> parts;
  for (size_t i = 0; i < names.size(); ++i) {
    parts.push_back(absl::StrCat(names[i], "=\"", EscapeLabelValue(values[i]), "\""));
  }
  if (!extra.empty()) parts.push_back(extra);
  if (parts.empty()) return "";
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

}  // namespace

void Counter::Increment(double delta) {
  if (!(delta >= 0)) Die("counter increment must be >= 0");
  AtomicAdd(value_, delta);
}

void Counter::IncrementTo(double total) {
  double old = value_.load(std::memory_order_relaxed);
  while (total > old &&
         !value_.compare_exchange_weak(old, total, std::memory_order_relaxed)) {
  }
}

void Gauge::Add(double delta) { AtomicAdd(value_, delta); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      Die("histogram bounds must be finite and strictly increasing");
    }
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> LatencyBucketsSeconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
          1,     2.5,    5,     10,   30,    60,   120, 300, 600};
}

template <typename T>
T& Family<T>::WithLabels(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) {
    Die(absl::StrCat("expected ", label_names_.size(), " label values, got ", values.size()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = series_[values];
  if (!slot) slot = make_();
  return *slot;
}

template <typename T>
void Family<T>::ForEach(
    const std::function<void(const std::vector<std::string>&, const T&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, series] : series_) fn(values, *series);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

MetricsRegistry::Entry& MetricsRegistry::NewEntry(const std::string& name,
                                                  const std::string& help,
                                                  const std::vector<std::string>& label_names) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabel("[a-zA-Z_][a-zA-Z0-9_]*");
  if (!std::regex_match(name, kName)) Die("invalid metric name: " + name);
  for (const auto& l : label_names) {
    if (!std::regex_match(l, kLabel) || l.rfind("__", 0) == 0 || l == "le") {
      Die("invalid label name '" + l + "' for " + name);
    }
  }
  if (entries_.count(name)) Die("metric registered twice: " + name);
  Entry& e = entries_[name];
  e.help = help;
  return e;
}

Family<Counter>& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                             std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = NewEntry(name, help, label_names);
  e.counter = std::make_unique<Family<Counter>>(std::move(label_names),
                                                [] { return std::make_unique<Counter>(); });
  return *e.counter;
}

Family<Gauge>& MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                         std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = NewEntry(name, help, label_names);
  e.gauge = std::make_unique<Family<Gauge>>(std::move(label_names),
                                            [] { return std::make_unique<Gauge>(); });
  return *e.gauge;
}

Family<Histogram>& MetricsRegistry::AddHistogram(const std::string& name,
                                                 const std::string& help,
                                                 std::vector<std::string> label_names,
                                                 std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = NewEntry(name, help, label_names);
  Histogram validate(bounds);  // Fails fast here rather than at first use.
  e.histogram = std::make_unique<Family<Histogram>>(
      std::move(label_names), [bounds] { return std::make_unique<Histogram>(bounds); });
  return *e.histogram;
}

void MetricsRegistry::AddCollectHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string MetricsRegistry::Render() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hooks = hooks_;
  }
  for (const auto& hook : hooks) hook();

  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, e] : entries_) {
    const char* type = e.counter ? "counter" : e.gauge ? "gauge" : "histogram";
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(e.help), "\n# TYPE ", name, " ",
                    type, "\n");
    if (e.counter) {
      e.counter->ForEach([&](const std::vector<std::string>& values, const Counter& c) {
        absl::StrAppend(&out, name, LabelSet(e.counter->label_names(), values), " ",
                        FormatValue(c.Value()), "\n");
      });
    } else if (e.gauge) {
      e.gauge->ForEach([&](const std::vector<std::string>& values, const Gauge& g) {
        absl::StrAppend(&out, name, LabelSet(e.gauge->label_names(), values), " ",
                        FormatValue(g.Value()), "\n");
      });
    } else {
      const auto& names = e.histogram->label_names();
      e.histogram->ForEach([&](const std::vector<std::string>& values, const Histogram& h) {
        std::vector<uint64_t> counts = h.BucketCounts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::string le = i < h.bounds().size() ? FormatValue(h.bounds()[i]) : "+Inf";
          absl::StrAppend(&out, name, "_bucket",
                          LabelSet(names, values, absl::StrCat("le=\"", le, "\"")), " ",
                          cumulative, "\n");
        }
        absl::StrAppend(&out, name, "_sum", LabelSet(names, values), " ", FormatValue(h.Sum()),
                        "\n", name, "_count", LabelSet(names, values), " ", cumulative, "\n");
      });
    }
  }
  return out;
}

}  // namespace transaxx::rpc
