// BoardFeed; see feed.h.
#include "tools/dash/feed.h"

#include <utility>

namespace turnout::dash {

void BoardFeed::Publish(std::string json) {
  auto shared = std::make_shared<const std::string>(std::move(json));
  absl::MutexLock lock(&mu_);
  latest_.number++;
  latest_.json = std::move(shared);
}

BoardFeed::Version BoardFeed::Latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

std::optional<BoardFeed::Version> BoardFeed::WaitNewer(uint64_t seen, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this, seen]()
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || latest_.number > seen; };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (closed_ || latest_.number <= seen) return std::nullopt;
  return latest_;
}

void BoardFeed::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

bool BoardFeed::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

}  // namespace turnout::dash
