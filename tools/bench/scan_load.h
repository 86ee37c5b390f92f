// The gRPC half of `turnout-bench checkin`: door clients keeping a fixed number of Scan calls in
// flight (gRPC callback API), each call a write that the server must accept.
//
// Every ticket is scanned by at most one call at a time. A ticket's first scan is an ENTRY; once
// every ticket is in, the load keeps going with EXIT, ENTRY, EXIT... per ticket, so each scan is
// still accepted (EXIT_RECORDED or ADMITTED) and writes a scan row and the ticket's presence.
// Any other answer, or an RPC error, counts as an error.
//
//   ScanLoadOptions options;  // channel, door token, event, tickets
//   ScanLoadResult result = RunScanLoad(options);
#ifndef TURNOUT_TOOLS_BENCH_SCAN_LOAD_H_
#define TURNOUT_TOOLS_BENCH_SCAN_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/bench/stats.h"

namespace turnout::bench {

struct BenchTicket {
  std::string registration;  // "events/{event}/registrations/{id}"
  std::string code;          // the signed ticket code
};

struct ScanLoadOptions {
  // Calls are spread round-robin over these.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::string door_token;
  std::string event;  // "events/{event}"
  std::vector<BenchTicket> tickets;
  // Scan the code (what a door does) rather than admit by registration.
  bool by_code = true;
  int concurrency = 64;
  absl::Duration duration = absl::Seconds(10);
  absl::Duration call_deadline = absl::Seconds(30);
};

struct ScanLoadResult {
  int64_t scans = 0;  // answered OK with the expected status
  int64_t first_entries = 0;
  int64_t reentries = 0;
  int64_t exits = 0;
  int64_t errors = 0;
  std::vector<std::string> error_samples;  // the first few
  absl::Duration elapsed;                  // from the first call to the last answer
  std::vector<Sample> samples;             // one per OK scan; end_us counts from the first call
};

// Runs the load for options.duration, then waits for the calls in flight.
// Requires tickets.size() >= concurrency.
ScanLoadResult RunScanLoad(const ScanLoadOptions& options);

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_SCAN_LOAD_H_
