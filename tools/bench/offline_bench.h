// `turnout-bench offline`: the offline door protocol, measured side by side in one run
// (docs/benchmarks.md):
//   1. a door's local verify + decide per scan (Ed25519 verification, the sealed entry's keys, its
//      opening, the scan rules) against raw libsodium Ed25519 verifications of the same codes, on
//      one core;
//   2. a full offline bundle of --offline_tickets tickets: its size and how long the server takes
//      to build it;
//   3. UploadScans of --upload_scans queued scans from three devices at once, next to the online
//      Scan path (64 in flight) on the same server.
#ifndef TURNOUT_TOOLS_BENCH_OFFLINE_BENCH_H_
#define TURNOUT_TOOLS_BENCH_OFFLINE_BENCH_H_

namespace turnout::bench {

// Prints the figures; 0 when it measured (targets met or not), non-zero on any error.
int RunOffline();

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_OFFLINE_BENCH_H_
