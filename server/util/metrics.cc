#include "server/util/metrics.h"

#include <cmath>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

namespace turnout::metrics {
namespace {

// Whole numbers as such (a counter of a million reads 1000000, not 1e+06); others in full.
std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Header(std::string& out, const std::string& name, const std::string& help,
            absl::string_view type) {
  absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ", type,
                  "\n");
}

// {a="x",b="y"} plus an optional extra pair (a histogram's le); "" for no labels at all.
std::string Labels(const std::vector<std::string>& names, const LabelValues& values,
                   absl::string_view extra_name = "", absl::string_view extra_value = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "{" : ",", names[i], "=\"", EscapeLabelValue(values[i]),
                    "\"");
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, out.empty() ? "{" : ",", extra_name, "=\"", extra_value, "\"");
  }
  if (!out.empty()) out += "}";
  return out;
}

LabelValues ValuesOf(const std::vector<std::string>& names,
                     std::initializer_list<absl::string_view> values) {
  LabelValues out(values.begin(), values.end());
  // A wrong count is a programming error; keep the output well-formed all the same.
  out.resize(names.size());
  return out;
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<double> LatencyBounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Counter::Counter(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void Counter::Add(std::initializer_list<absl::string_view> values, double amount) {
  LabelValues key = ValuesOf(label_names_, values);
  absl::MutexLock lock(&mu_);
  values_[std::move(key)] += amount;
}

double Counter::Value(std::initializer_list<absl::string_view> values) const {
  LabelValues key = ValuesOf(label_names_, values);
  absl::MutexLock lock(&mu_);
  auto it = values_.find(key);
  return it == values_.end() ? 0 : it->second;
}

void Counter::Render(std::string& out) const {
  Header(out, name_, help_, "counter");
  absl::MutexLock lock(&mu_);
  // A counter without labels reads 0 before its first increment rather than being absent.
  if (label_names_.empty() && values_.empty()) absl::StrAppend(&out, name_, " 0\n");
  for (const auto& [values, value] : values_) {
    absl::StrAppend(&out, name_, Labels(label_names_, values), " ", Number(value), "\n");
  }
}

Histogram::Histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

void Histogram::Observe(std::initializer_list<absl::string_view> values, double value) {
  LabelValues key = ValuesOf(label_names_, values);
  size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  absl::MutexLock lock(&mu_);
  Series& s = series_[std::move(key)];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  ++s.buckets[bucket];
  ++s.count;
  s.sum += value;
}

uint64_t Histogram::Count(std::initializer_list<absl::string_view> values) const {
  LabelValues key = ValuesOf(label_names_, values);
  absl::MutexLock lock(&mu_);
  auto it = series_.find(key);
  return it == series_.end() ? 0 : it->second.count;
}

void Histogram::Render(std::string& out) const {
  Header(out, name_, help_, "histogram");
  absl::MutexLock lock(&mu_);
  for (const auto& [values, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += s.buckets[i];
      const std::string le = i < bounds_.size() ? Number(bounds_[i]) : "+Inf";
      absl::StrAppend(&out, name_, "_bucket", Labels(label_names_, values, "le", le), " ",
                      cumulative, "\n");
    }
    const std::string labels = Labels(label_names_, values);
    absl::StrAppend(&out, name_, "_sum", labels, " ", Number(s.sum), "\n");
    absl::StrAppend(&out, name_, "_count", labels, " ", s.count, "\n");
  }
}

void Gauge::Render(std::string& out) const {
  Header(out, name_, help_, type_);
  absl::StrAppend(&out, name_, " ", Number(read_()), "\n");
}

Counter& Registry::AddCounter(std::string name, std::string help,
                              std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  counters_.push_back(
      std::make_unique<Counter>(std::move(name), std::move(help), std::move(labels)));
  Counter* c = counters_.back().get();
  renderers_.push_back([c](std::string& out) { c->Render(out); });
  return *c;
}

Histogram& Registry::AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels, std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  histograms_.push_back(std::make_unique<Histogram>(std::move(name), std::move(help),
                                                    std::move(labels), std::move(bounds)));
  Histogram* h = histograms_.back().get();
  renderers_.push_back([h](std::string& out) { h->Render(out); });
  return *h;
}

void Registry::AddGauge(std::string name, std::string help, std::function<double()> read) {
  AddRead(std::make_unique<Gauge>(std::move(name), std::move(help), "gauge", std::move(read)));
}

void Registry::AddCounterReader(std::string name, std::string help,
                                std::function<double()> read) {
  AddRead(std::make_unique<Gauge>(std::move(name), std::move(help), "counter", std::move(read)));
}

void Registry::AddRead(std::unique_ptr<Gauge> metric) {
  absl::MutexLock lock(&mu_);
  gauges_.push_back(std::move(metric));
  Gauge* g = gauges_.back().get();
  renderers_.push_back([g](std::string& out) { g->Render(out); });
}

std::string Registry::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& render : renderers_) render(out);
  return out;
}

}  // namespace turnout::metrics
