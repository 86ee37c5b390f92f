// Prometheus metrics in the text exposition format (version 0.0.4), written by hand: counters and
// histograms keyed by a few labels, and gauges read when scraped.
//
//   metrics::Registry registry;
//   metrics::Counter& scans = registry.AddCounter("turnout_scans_total", "Scans decided.",
//                                                 {"status"});
//   scans.Add({"ADMITTED"});
//   std::string text = registry.Render();   // what GET /metrics answers
//
// Label values must come from small sets the code chooses (a status name, a kind), never from a
// caller: every distinct value is a series kept for the life of the process.
#ifndef TURNOUT_SERVER_UTIL_METRICS_H_
#define TURNOUT_SERVER_UTIL_METRICS_H_

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace turnout::metrics {

using LabelValues = std::vector<std::string>;

// A family of monotonic counters, one per combination of label values.
class Counter {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> label_names);
  // `values` has one value per label name, in order.
  void Add(std::initializer_list<absl::string_view> values, double amount = 1);
  void Add(double amount = 1) { Add({}, amount); }
  double Value(std::initializer_list<absl::string_view> values = {}) const;
  void Render(std::string& out) const;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, double> values_ ABSL_GUARDED_BY(mu_);
};

// A family of histograms with fixed upper bounds (the +Inf bucket is implied).
class Histogram {
 public:
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> bounds);
  void Observe(std::initializer_list<absl::string_view> values, double value);
  void Observe(double value) { Observe({}, value); }
  // How many observations, for tests.
  uint64_t Count(std::initializer_list<absl::string_view> values = {}) const;
  void Render(std::string& out) const;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // per bound, not cumulative; the last is +Inf
    uint64_t count = 0;
    double sum = 0;
  };
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, Series> series_ ABSL_GUARDED_BY(mu_);
};

// A metric without labels whose value is read when the registry renders: a gauge, or a counter
// kept by someone else (the database pool counts its own reconnects).
class Gauge {
 public:
  Gauge(std::string name, std::string help, std::string type, std::function<double()> read)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(std::move(type)),
        read_(std::move(read)) {}
  void Render(std::string& out) const;

 private:
  const std::string name_;
  const std::string help_;
  const std::string type_;  // "gauge" or "counter"
  const std::function<double()> read_;
};

// Owns the metrics; renders them in the order they were added.
class Registry {
 public:
  Counter& AddCounter(std::string name, std::string help, std::vector<std::string> labels = {});
  Histogram& AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                          std::vector<double> bounds);
  // `read` runs on the scraping thread and must be thread-safe.
  void AddGauge(std::string name, std::string help, std::function<double()> read);
  // A counter that `read` returns whole, for counts kept elsewhere; it must never decrease.
  void AddCounterReader(std::string name, std::string help, std::function<double()> read);

  std::string Render() const;

 private:
  void AddRead(std::unique_ptr<Gauge> metric);

  mutable absl::Mutex mu_;
  std::vector<std::function<void(std::string&)>> renderers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Counter>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Histogram>> histograms_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Gauge>> gauges_ ABSL_GUARDED_BY(mu_);
};

// The text format's escaping of a label value: backslash, double quote and newline.
std::string EscapeLabelValue(absl::string_view value);

// Seconds from 1 ms to 10 s, for call latencies.
std::vector<double> LatencyBounds();

}  // namespace turnout::metrics

#endif  // TURNOUT_SERVER_UTIL_METRICS_H_
