#include "server/api/stream_slots.h"

#include "absl/strings/str_cat.h"
#include "server/api/retry_after.h"

namespace turnout::api {
namespace {

// Streams run for seconds (imports, exports) or hours (live): a slot is worth asking again soon.
constexpr absl::Duration kRetryAfter = absl::Seconds(10);

}  // namespace

absl::Status StreamSlots::Acquire(int64_t caller) {
  absl::MutexLock lock(&mu_);
  int& mine = by_caller_[caller];
  if (mine >= per_caller_) {
    if (mine == 0) by_caller_.erase(caller);
    return RetryLater(limit_,
                      absl::StrCat("this token already has ", per_caller_, " of the server's ",
                                   what_, " running; wait for it to finish"),
                      kRetryAfter);
  }
  if (in_use_ >= total_) {
    if (mine == 0) by_caller_.erase(caller);
    return RetryLater(limit_, absl::StrCat("the server runs at most ", total_, " ", what_, " at once"),
                      kRetryAfter);
  }
  ++mine;
  ++in_use_;
  return absl::OkStatus();
}

void StreamSlots::Release(int64_t caller) {
  absl::MutexLock lock(&mu_);
  auto it = by_caller_.find(caller);
  if (it == by_caller_.end()) return;
  if (--it->second <= 0) by_caller_.erase(it);
  --in_use_;
}

int StreamSlots::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

}  // namespace turnout::api
