#include "node/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

namespace cl::node {
namespace {

TEST(MetricsTest, RendersCountersGaugesAndHistogramsExactly) {
  MetricsRegistry r;
  r.GetCounter("cl_requests_total", "Requests served.", {{"route", "/v1/blocks/{height}"}, {"status", "200"}}).Inc(3);
  r.GetCounter("cl_requests_total", "ignored: help is taken from the first registration",
               {{"route", "/healthz"}, {"status", "200"}}).Inc();
  r.GetGauge("cl_peers_connected", "Authenticated peer links.").Set(2);
  Histogram& h = r.GetHistogram("cl_latency_seconds", "Latency.", {0.1, 1}, {{"route", "/x"}});
  h.Observe(0.05);
  h.Observe(0.1);  // on the bound: counted in le="0.1"
  h.Observe(0.5);
  h.Observe(7);

  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP cl_latency_seconds Latency.\n"
            "# TYPE cl_latency_seconds histogram\n"
            "cl_latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "cl_latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
            "cl_latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
            "cl_latency_seconds_sum{route=\"/x\"} 7.65\n"
            "cl_latency_seconds_count{route=\"/x\"} 4\n"
            "# HELP cl_peers_connected Authenticated peer links.\n"
            "# TYPE cl_peers_connected gauge\n"
            "cl_peers_connected 2\n"
            "# HELP cl_requests_total Requests served.\n"
            "# TYPE cl_requests_total counter\n"
            "cl_requests_total{route=\"/healthz\",status=\"200\"} 1\n"
            "cl_requests_total{route=\"/v1/blocks/{height}\",status=\"200\"} 3\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry r;
  r.GetCounter("c", "line1\nback\\slash \"quoted\"", {{"v", "a\"b\\c\nd"}}).Inc();
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP c line1\\nback\\\\slash \"quoted\"\n"
            "# TYPE c counter\n"
            "c{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, SameSeriesReturnsSameObject) {
  MetricsRegistry r;
  Counter& a = r.GetCounter("x_total", "x", {{"k", "1"}});
  Counter& b = r.GetCounter("x_total", "x", {{"k", "1"}});
  Counter& c = r.GetCounter("x_total", "x", {{"k", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(MetricsTest, FormatsSpecialValues) {
  struct Case { const char* name; double v; const char* want; };
  const Case cases[] = {
      {"integer", 2, "2"},
      {"fraction", 0.25, "0.25"},
      {"negative", -1.5, "-1.5"},
      {"pos_inf", std::numeric_limits<double>::infinity(), "+Inf"},
      {"neg_inf", -std::numeric_limits<double>::infinity(), "-Inf"},
      {"nan", std::nan(""), "NaN"},
      {"tiny", 5e-4, "0.0005"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatMetricValue(c.v), c.want) << c.name;
}

TEST(MetricsTest, GaugeAddsAndCounterIsExactUnderConcurrency) {
  MetricsRegistry r;
  Counter& c = r.GetCounter("n_total", "n");
  Gauge& g = r.GetGauge("g", "g");
  Histogram& h = r.GetHistogram("h", "h", LatencyBucketsSeconds());
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        g.Add(1);
        h.Observe(0.001);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(g.value(), 40000.0);
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.bucket_count(1), 40000u);  // le=0.001
}

TEST(MetricsDeathTest, TypeClashCrashes) {
  MetricsRegistry r;
  r.GetCounter("dup", "d");
  EXPECT_DEATH(r.GetGauge("dup", "d"), "two different types");
}

TEST(MetricsDeathTest, InvalidNameCrashes) {
  MetricsRegistry r;
  EXPECT_DEATH(r.GetCounter("bad-name", "d"), "invalid metric name");
  EXPECT_DEATH(r.GetCounter("ok", "d", {{"0bad", "v"}}), "invalid label name");
}

}  // namespace
}  // namespace cl::node
