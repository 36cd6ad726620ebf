#include "node/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <variant>

#include "base/check.h"

namespace cl::node {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names: [a-zA-Z_][a-zA-Z0-9_]*.
bool ValidName(std::string_view n, bool allow_colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (i == 0 ? IsNameStart(c) : IsNameChar(c)) || (allow_colon && c == ':');
    if (!ok) return false;
  }
  return true;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string RenderLabels(const Labels& labels, std::string_view extra_name = {},
                         std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
  }
  out += '}';
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  CL_CHECK(ec == std::errc(), "to_chars(double) cannot fail with 64 bytes");
  return std::string(buf, end);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    CL_CHECK(std::isfinite(bounds_[i]), "histogram bounds must be finite");
    CL_CHECK(i == 0 || bounds_[i - 1] < bounds_[i], "histogram bounds must increase");
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<double> LatencyBucketsSeconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct MetricsRegistry::Series {
  std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>> metric;
};

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  Type type;
  std::vector<double> bounds;             // histograms only
  std::map<Labels, Series> series;        // ordered: deterministic rendering
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::FamilyFor(std::string_view name, std::string_view help,
                                                    Type type) {
  CL_CHECK(ValidName(name, /*allow_colon=*/true), "invalid metric name");
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto f = std::make_unique<Family>();
    f->name = std::string(name);
    f->help = std::string(help);
    f->type = type;
    it = families_.emplace(f->name, std::move(f)).first;
  }
  CL_CHECK(it->second->type == type, "metric family registered with two different types");
  return *it->second;
}

MetricsRegistry::Series& MetricsRegistry::SeriesFor(Family& family, const Labels& labels) {
  for (const auto& [k, v] : labels) {
    CL_CHECK(ValidName(k, /*allow_colon=*/false) && !k.starts_with("__"), "invalid label name");
    CL_CHECK(!(family.type == Type::kHistogram && k == "le"), "'le' is reserved in histograms");
  }
  auto it = family.series.find(labels);
  if (it != family.series.end()) return it->second;
  Series s;
  switch (family.type) {
    case Type::kCounter: s.metric = std::make_unique<Counter>(); break;
    case Type::kGauge: s.metric = std::make_unique<Gauge>(); break;
    case Type::kHistogram: s.metric = std::make_unique<Histogram>(family.bounds); break;
  }
  return family.series.emplace(labels, std::move(s)).first->second;
}

Counter& MetricsRegistry::GetCounter(std::string_view name, std::string_view help,
                                     const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, help, Type::kCounter);
  return *std::get<std::unique_ptr<Counter>>(SeriesFor(f, labels).metric);
}

Gauge& MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, help, Type::kGauge);
  return *std::get<std::unique_ptr<Gauge>>(SeriesFor(f, labels).metric);
}

Histogram& MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const std::vector<double>& bounds,
                                         const Labels& labels) {
  std::lock_guard lock(mu_);
  Family& f = FamilyFor(name, help, Type::kHistogram);
  if (f.series.empty() && f.bounds.empty()) f.bounds = bounds;
  CL_CHECK(f.bounds == bounds, "histogram family registered with different bounds");
  return *std::get<std::unique_ptr<Histogram>>(SeriesFor(f, labels).metric);
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    static constexpr std::string_view kTypeNames[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + " " + EscapeHelp(f->help) + "\n";
    out += "# TYPE " + name + " " + std::string(kTypeNames[static_cast<int>(f->type)]) + "\n";
    for (const auto& [labels, s] : f->series) {
      if (f->type == Type::kCounter) {
        out += name + RenderLabels(labels) + " " +
               std::to_string(std::get<std::unique_ptr<Counter>>(s.metric)->value()) + "\n";
      } else if (f->type == Type::kGauge) {
        out += name + RenderLabels(labels) + " " +
               FormatMetricValue(std::get<std::unique_ptr<Gauge>>(s.metric)->value()) + "\n";
      } else {
        const Histogram& h = *std::get<std::unique_ptr<Histogram>>(s.metric);
        // Buckets are read one by one while writers may add: the cumulative
        // counts stay monotone, and _count is rendered as the +Inf bucket so
        // the two always agree within one scrape.
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= h.bounds().size(); ++i) {
          cumulative += h.bucket_count(i);
          std::string le = i < h.bounds().size() ? FormatMetricValue(h.bounds()[i]) : "+Inf";
          out += name + "_bucket" + RenderLabels(labels, "le", le) + " " +
                 std::to_string(cumulative) + "\n";
        }
        out += name + "_sum" + RenderLabels(labels) + " " + FormatMetricValue(h.sum()) + "\n";
        out += name + "_count" + RenderLabels(labels) + " " + std::to_string(cumulative) + "\n";
      }
    }
  }
  return out;
}

}  // namespace cl::node
