#include "libs/rpc/metrics.h"

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace transaxx::rpc {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersCountersGaugesAndHistogramsInTextFormat) {
  MetricsRegistry r;
  r.AddCounter("t_calls_total", "Calls.", {"method"}).WithLabels({"Say"}).Increment(2);
  r.AddGauge("t_inflight", "In flight.").WithLabels({}).Set(-1.5);
  auto& h = r.AddHistogram("t_seconds", "Latency.", {}, {0.1, 1});
  h.WithLabels({}).Observe(0.05);
  h.WithLabels({}).Observe(0.1);  // Upper bounds are inclusive.
  h.WithLabels({}).Observe(5);
  EXPECT_EQ(r.Render(),
            "# HELP t_calls_total Calls.\n"
            "# TYPE t_calls_total counter\n"
            "t_calls_total{method=\"Say\"} 2\n"
            "# HELP t_inflight In flight.\n"
            "# TYPE t_inflight gauge\n"
            "t_inflight -1.5\n"
            "# HELP t_seconds Latency.\n"
            "# TYPE t_seconds histogram\n"
            "t_seconds_bucket{le=\"0.10000000000000001\"} 2\n"
            "t_seconds_bucket{le=\"1\"} 2\n"
            "t_seconds_bucket{le=\"+Inf\"} 3\n"
            "t_seconds_sum 5.1500000000000004\n"
            "t_seconds_count 3\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry r;
  r.AddCounter("t_total", "a\\b\nc", {"l"}).WithLabels({"q\"\\\n"}).Increment();
  EXPECT_THAT(r.Render(), HasSubstr("# HELP t_total a\\\\b\\nc\n"));
  EXPECT_THAT(r.Render(), HasSubstr("t_total{l=\"q\\\"\\\\\\n\"} 1\n"));
}

TEST(MetricsTest, CountersNeverGoDown) {
  Counter c;
  c.IncrementTo(5);
  c.IncrementTo(3);
  EXPECT_EQ(c.Value(), 5);
  c.Increment(0.5);
  EXPECT_EQ(c.Value(), 5.5);
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry r;
  auto& family = r.AddCounter("t_total", "T.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family, t] {
      for (int i = 0; i < 10000; ++i) family.WithLabels({t % 2 ? "a" : "b"}).Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.WithLabels({"a"}).Value(), 20000);
  EXPECT_EQ(family.WithLabels({"b"}).Value(), 20000);
}

TEST(MetricsTest, CollectHooksRunBeforeRender) {
  MetricsRegistry r;
  Gauge& g = r.AddGauge("t_g", "G.").WithLabels({});
  int calls = 0;
  r.AddCollectHook([&] { g.Set(++calls); });
  EXPECT_THAT(r.Render(), HasSubstr("t_g 1\n"));
  EXPECT_THAT(r.Render(), HasSubstr("t_g 2\n"));
}

TEST(MetricsDeathTest, RejectsProgrammingErrors) {
  MetricsRegistry r;
  r.AddCounter("t_total", "T.", {"a"});
  EXPECT_DEATH(r.AddCounter("t_total", "again"), "registered twice");
  EXPECT_DEATH(r.AddCounter("bad-name", "x"), "invalid metric name");
  EXPECT_DEATH(r.AddCounter("t2_total", "x", {"le"}), "invalid label name");
  EXPECT_DEATH(r.AddHistogram("t_h", "x", {}, {1, 1}), "strictly increasing");
  EXPECT_DEATH(r.AddCounter("t3_total", "x", {"a"}).WithLabels({}), "expected 1 label");
  EXPECT_DEATH(Counter().Increment(-1), ">= 0");
}

}  // namespace
}  // namespace transaxx::rpc
