#include "tools/bench/stats.h"

#include <algorithm>
#include <cmath>

namespace turnout::bench {

Summary Summarize(std::vector<Sample> samples, absl::Duration warmup) {
  Summary s;
  if (samples.empty()) return s;
  int64_t first_start = samples[0].end_us - samples[0].latency_us;
  int64_t last_end = samples[0].end_us;
  for (const Sample& x : samples) {
    first_start = std::min(first_start, x.end_us - x.latency_us);
    last_end = std::max(last_end, x.end_us);
  }
  const int64_t window_start = first_start + absl::ToInt64Microseconds(warmup);
  std::vector<int64_t> latencies;
  double sum = 0;
  for (const Sample& x : samples) {
    if (x.end_us < window_start) continue;
    latencies.push_back(x.latency_us);
    sum += x.latency_us;
  }
  if (latencies.empty() || last_end <= window_start) return s;
  std::sort(latencies.begin(), latencies.end());
  auto percentile_ms = [&](double p) {
    size_t rank = static_cast<size_t>(std::ceil(p * latencies.size()));
    rank = std::clamp<size_t>(rank, 1, latencies.size());
    return latencies[rank - 1] / 1000.0;
  };
  s.count = static_cast<int64_t>(latencies.size());
  s.seconds = (last_end - window_start) / 1e6;
  s.per_second = s.count / s.seconds;
  s.p50_ms = percentile_ms(0.50);
  s.p99_ms = percentile_ms(0.99);
  s.avg_ms = sum / latencies.size() / 1000.0;
  return s;
}

}  // namespace turnout::bench
