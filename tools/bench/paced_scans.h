// Scans at a fixed rate, as doors do (not as fast as the server answers): scan i starts at
// start + i / rate whatever the earlier ones are doing, so a slow answer shows as latency, not as
// a slower load. Scan i scans tickets[i % n]; each pass over the tickets alternates ENTRY and EXIT,
// so with more tickets than scans every scan is a first entry (checked_in goes up by one each).
#ifndef TURNOUT_TOOLS_BENCH_PACED_SCANS_H_
#define TURNOUT_TOOLS_BENCH_PACED_SCANS_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "tools/bench/scan_load.h"

namespace turnout::bench {

struct PacedScan {
  int64_t started_ns = 0;  // Unix nanoseconds
  int64_t answered_ns = 0;
  bool ok = false;  // answered ADMITTED or EXIT_RECORDED as expected
  std::string error;
};

class PacedScans {
 public:
  PacedScans(std::shared_ptr<grpc::Channel> channel, std::string door_token, std::string event,
             std::vector<BenchTicket> tickets, double per_second);
  ~PacedScans();  // Stop()
  void Start(absl::Duration duration);
  // Waits for the schedule to end and every answer; returns the scans in the order they started.
  std::vector<PacedScan> Wait();

 private:
  struct Call;
  void Run();

  std::shared_ptr<grpc::Channel> channel_;
  const std::string door_token_;
  const std::string event_;
  const std::vector<BenchTicket> tickets_;
  const double per_second_;
  std::thread thread_;
  std::vector<std::unique_ptr<Call>> calls_;
  std::atomic<int> answered_{0};
};

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_PACED_SCANS_H_
