#include "tools/bench/watch_stats.h"

#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_set.h"

namespace turnout::bench {

LatencySummary SummarizeLatencies(std::vector<int64_t> ns) {
  LatencySummary s;
  s.count = static_cast<int64_t>(ns.size());
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  auto rank = [&](double p) {
    const size_t r = static_cast<size_t>(std::ceil(p * static_cast<double>(ns.size())));
    return static_cast<double>(ns[std::max<size_t>(r, 1) - 1]) / 1e6;
  };
  s.p50_ms = rank(0.50);
  s.p99_ms = rank(0.99);
  s.max_ms = static_cast<double>(ns.back()) / 1e6;
  return s;
}

std::vector<int64_t> BroadcastLatencies(const std::vector<std::vector<Received>>& streams,
                                        int64_t from_ns, int64_t to_ns) {
  std::vector<int64_t> out;
  for (const auto& stream : streams) {
    for (const Received& r : stream) {
      if (r.fresh && r.stamp_ns >= from_ns && r.stamp_ns < to_ns) {
        out.push_back(r.received_ns - r.stamp_ns);
      }
    }
  }
  return out;
}

int64_t DistinctUpdates(const std::vector<std::vector<Received>>& streams, int64_t from_ns,
                        int64_t to_ns) {
  absl::flat_hash_set<int64_t> stamps;
  for (const auto& stream : streams) {
    for (const Received& r : stream) {
      if (r.fresh && r.stamp_ns >= from_ns && r.stamp_ns < to_ns) stamps.insert(r.stamp_ns);
    }
  }
  return static_cast<int64_t>(stamps.size());
}

ScreenLatencies ScanToScreen(const std::vector<int64_t>& scan_started_ns, int64_t base,
                             const std::vector<std::vector<Received>>& streams, int64_t from_ns,
                             int64_t to_ns) {
  ScreenLatencies out;
  for (const auto& stream : streams) {
    size_t m = 0;  // counts only grow, so one pass over the stream serves every scan
    for (size_t k = 0; k < scan_started_ns.size(); ++k) {
      const int64_t started = scan_started_ns[k];
      const int64_t needed = base + static_cast<int64_t>(k) + 1;
      while (m < stream.size() && stream[m].value < needed) ++m;
      if (started < from_ns || started >= to_ns) continue;
      if (m == stream.size()) {
        ++out.missed;
        continue;
      }
      out.ns.push_back(std::max<int64_t>(0, stream[m].received_ns - started));
    }
  }
  return out;
}

}  // namespace turnout::bench
