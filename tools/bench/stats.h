// Throughput and latency of a measured phase, counted the same way for gRPC and for pgbench: the
// first `warmup` after the first call starts is left out (pgbench connects and prepares then), and
// the rest is the steady state.
#ifndef TURNOUT_TOOLS_BENCH_STATS_H_
#define TURNOUT_TOOLS_BENCH_STATS_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace turnout::bench {

// One transaction (or call): when it ended, on any clock shared by the phase, and how long it took.
struct Sample {
  int64_t end_us = 0;
  int64_t latency_us = 0;
};

struct Summary {
  int64_t count = 0;   // samples that ended in the window
  double seconds = 0;  // the window: warmup after the first start, to the last end
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double avg_ms = 0;
};

// Nearest-rank percentiles over the samples that ended after the warm-up.
Summary Summarize(std::vector<Sample> samples, absl::Duration warmup);

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_STATS_H_
