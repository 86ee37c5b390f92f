// The load of `turnout-bench register`: anonymous clients keeping a fixed number of Register calls
// in flight, as the public registers from a web form, each choosing one breakout per round, on an
// event whose capacity fills: the first ones are confirmed, the rest waitlisted. Any RPC error
// counts as an error.
//
//   RegisterLoadOptions options;  // channels, event, breakouts by round
//   RegisterLoadResult result = RunRegisterLoad(options);
#ifndef TURNOUT_TOOLS_BENCH_REGISTER_LOAD_H_
#define TURNOUT_TOOLS_BENCH_REGISTER_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/bench/stats.h"

namespace turnout::bench {

struct RegisterLoadOptions {
  // Calls are spread round-robin over these.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::string event;  // "events/{event}"
  // The breakouts of each round ("events/{event}/sessions/{id}"): every registration picks one of
  // each round, in turn.
  std::vector<std::vector<std::string>> rounds;
  int concurrency = 64;
  absl::Duration duration = absl::Seconds(10);
  absl::Duration call_deadline = absl::Seconds(30);
};

struct RegisterLoadResult {
  int64_t registered = 0;  // answered OK
  int64_t confirmed = 0;
  int64_t waitlisted = 0;
  int64_t errors = 0;
  std::vector<std::string> error_samples;  // the first few
  std::vector<Sample> samples;             // one per OK call; end_us counts from the first call
};

// Runs the load for options.duration from `concurrency` threads, then waits for the calls in
// flight.
RegisterLoadResult RunRegisterLoad(const RegisterLoadOptions& options);

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_REGISTER_LOAD_H_
