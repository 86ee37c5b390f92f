// What `turnout-bench watch` computes from what its streams received: broadcast-to-subscriber
// latency, scan-to-screen latency, percentiles. Pure; tested in tests/unit/watch_stats_test.cc.
#ifndef TURNOUT_TOOLS_BENCH_WATCH_STATS_H_
#define TURNOUT_TOOLS_BENCH_WATCH_STATS_H_

#include <cstdint>
#include <vector>

namespace turnout::bench {

// One message as a stream received it.
struct Received {
  int64_t received_ns = 0;  // Unix nanoseconds, on arrival
  int64_t stamp_ns = 0;     // when the server made it (as_of, or the floor's sent time)
  int64_t value = 0;        // the entrance's checked_in, or the floor's sequence
  bool fresh = false;       // a new update: not a snapshot, not a heartbeat, not a first message
  int32_t bytes = 0;        // the message's size on the wire
};

struct LatencySummary {
  int64_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

// Nearest-rank percentiles of latencies in nanoseconds.
LatencySummary SummarizeLatencies(std::vector<int64_t> ns);

// Broadcast-to-subscriber: received - stamp of every fresh message made in [from_ns, to_ns).
std::vector<int64_t> BroadcastLatencies(const std::vector<std::vector<Received>>& streams,
                                        int64_t from_ns, int64_t to_ns);

// How many distinct updates (stamps) made in [from_ns, to_ns) reached any stream.
int64_t DistinctUpdates(const std::vector<std::vector<Received>>& streams, int64_t from_ns,
                        int64_t to_ns);

// Scan-to-screen, for scans that are all first entries, answered OK, in the order they started:
// scan k (1-based) is on a screen when that stream first receives checked_in >= base + k (a screen
// shows "k more" once k scans are in, whichever scans they are). For each scan started in
// [from_ns, to_ns) and each stream: the time from the scan's start to that message. A stream
// that never showed it counts in `missed`.
struct ScreenLatencies {
  std::vector<int64_t> ns;
  int64_t missed = 0;
};
ScreenLatencies ScanToScreen(const std::vector<int64_t>& scan_started_ns, int64_t base,
                             const std::vector<std::vector<Received>>& streams, int64_t from_ns,
                             int64_t to_ns);

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_WATCH_STATS_H_
