// `turnout-bench watch`: live attendance (WatchAttendance) measured against a bare gRPC fan-out of
// the same size, side by side in one run (docs/benchmarks.md):
//   1. the floor: --subscribers streams over --connections connections to a bare callback
//      server-streaming service (floor_server.h) broadcasting an update of --update_bytes every
//      250 ms: server memory per subscriber, broadcast-to-subscriber latency, CPU per broadcast;
//   2. the same streams on a real turnout-server process, its updates caused by scans at
//      --driver_scan_rate: the same figures, and their ratio to the floor;
//   3. with --scan_subscribers watchers on replica A and --remote_subscribers on replica B (a
//      second turnout-server on the same PostgreSQL): scan throughput with them against without
//      (--concurrency in flight), then scans at --scan_rate: scan-to-screen latency on the same
//      replica and, through LISTEN/NOTIFY, on the other; then single scans on an idle feed.
#ifndef TURNOUT_TOOLS_BENCH_WATCH_BENCH_H_
#define TURNOUT_TOOLS_BENCH_WATCH_BENCH_H_

namespace turnout::bench {

// Prints the figures and PASS/FAIL per target; 0 when it measured (targets met or not), non-zero
// on any error.
int RunWatch();

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_WATCH_BENCH_H_
