// Many server streams read at once, as `turnout-bench watch` opens them: `streams` streams spread
// over `channels` channels, each channel its own TCP connection, every stream read by a callback
// reactor that records when each message arrived. Used alike for WatchAttendance and for the bare
// fan-out (FloorStreams), so both are received by the same code.
//
//   WatchStreams streams = OpenWatchStreams(channels, 10000, tokens, event, entrance);
//   streams->WaitReady(absl::Seconds(120));
//   ...
//   std::vector<std::vector<Received>> got = streams->Stop();
#ifndef TURNOUT_TOOLS_BENCH_WATCHERS_H_
#define TURNOUT_TOOLS_BENCH_WATCHERS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/bench/watch_stats.h"

namespace turnout::bench {

class StreamSet {
 public:
  virtual ~StreamSet() = default;
  // Until every stream received its first message, or `timeout`; says how many did not.
  virtual absl::Status WaitReady(absl::Duration timeout) = 0;
  // Streams that ended (with the status of the first few).
  virtual int ended() const = 0;
  virtual std::vector<std::string> end_samples() const = 0;
  // Cancels every stream, waits for them to end, and returns what each received.
  virtual std::vector<std::vector<Received>> Stop() = 0;
};

// `count` channels to `target`, each with arguments no other channel has, so that each holds its
// own TCP connection.
std::vector<std::shared_ptr<grpc::Channel>> OpenChannels(const std::string& target, int count);

// WatchAttendance streams of `event`; stream i uses channels[i % n] and tokens[i % n]. `value` is
// the checked_in of the checkpoint named `entrance`.
std::unique_ptr<StreamSet> OpenWatchStreams(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels, int count,
    const std::vector<std::string>& tokens, const std::string& event, const std::string& entrance);

// Floor.Watch streams of the bare fan-out.
std::unique_ptr<StreamSet> OpenFloorStreams(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels, int count);

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_WATCHERS_H_
