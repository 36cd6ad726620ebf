// Metrics: counters, gauges and histograms with labels, rendered in the
// Prometheus text exposition format (version 0.0.4) for GET /metrics.
//
// A MetricsRegistry owns every metric; Counter/Gauge/Histogram references it
// hands out stay valid for the registry's lifetime, so hot paths look a series
// up once and keep the reference. Updating a metric is a relaxed atomic
// operation (no lock); looking a series up and rendering take one mutex.
//
// Names and label names are constants chosen in code: an invalid one, or
// registering one name as two different types, is a programming error and
// crashes (CL_CHECK). Label values are arbitrary text and are escaped.
//
// Thread-safety: everything here is safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cl::node {

// Label pairs of one series, e.g. {{"route", "/v1/blocks/{height}"}, {"status", "200"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class Counter {
 public:
  void Inc(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double d) { v_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Observations counted into cumulative buckets with fixed upper bounds.
class Histogram {
 public:
  // `bounds` are the finite upper bounds, strictly increasing; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);

  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is the +Inf bucket).
  uint64_t bucket_count(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Default latency buckets in seconds: 0.5 ms .. 10 s.
std::vector<double> LatencyBucketsSeconds();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The series of family `name` with `labels`, created on first use. `help` is
  // taken from the first registration of the family. For histograms, `bounds`
  // must be the same on every call for one family.
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help,
                          const std::vector<double>& bounds, const Labels& labels = {});

  // Every family in name order, every series in label order, as Prometheus
  // text (Content-Type: text/plain; version=0.0.4).
  std::string RenderPrometheus() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series;
  struct Family;
  Family& FamilyFor(std::string_view name, std::string_view help, Type type);
  Series& SeriesFor(Family& family, const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

// Escapes a label value: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view v);
// Formats a sample value as Prometheus expects ("+Inf", "-Inf", "NaN", shortest decimal).
std::string FormatMetricValue(double v);

}  // namespace cl::node
