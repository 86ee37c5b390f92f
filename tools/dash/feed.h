// BoardFeed hands the latest board to any number of viewers without a queue per viewer. The one
// gRPC stream publishes into it; each viewer's Server-Sent Events connection waits for a version
// newer than the one it sent last and takes the latest. A viewer that is slow skips the versions
// it missed, so it costs one shared string at most, however far behind it is.
#ifndef TURNOUT_TOOLS_DASH_FEED_H_
#define TURNOUT_TOOLS_DASH_FEED_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace turnout::dash {

class BoardFeed {
 public:
  struct Version {
    uint64_t number = 0;  // 0: nothing published yet
    std::shared_ptr<const std::string> json;
  };

  // Makes `json` the latest version and wakes every waiting viewer.
  void Publish(std::string json) ABSL_LOCKS_EXCLUDED(mu_);

  // The latest version.
  Version Latest() const ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until there is a version newer than `seen`, for at most `timeout`. Returns it, or
  // nothing on timeout or once the feed is closed.
  std::optional<Version> WaitNewer(uint64_t seen, absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // Wakes every viewer for good: the process is stopping.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  bool closed() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  Version latest_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace turnout::dash

#endif  // TURNOUT_TOOLS_DASH_FEED_H_
