#include "server/api/rate_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/api/retry_after.h"

namespace turnout::api {
namespace {

// Bounds memory: past this many callers the table starts afresh (everyone gets a full bucket).
constexpr size_t kMaxBuckets = 100000;

}  // namespace

absl::Status RateLimiter::Take(const std::string& key, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (buckets_.size() >= kMaxBuckets) buckets_.clear();
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + absl::ToDoubleSeconds(now - b.updated) * per_second_);
  b.updated = now;
  if (b.tokens < 1.0) {
    return RetryLater(limit_, absl::StrCat("too many ", what_, " from this address"),
                      per_second_ > 0 ? absl::Seconds((1.0 - b.tokens) / per_second_)
                                      : absl::Minutes(1));
  }
  b.tokens -= 1.0;
  return absl::OkStatus();
}

std::string PeerAddress(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  return colon == std::string::npos || colon < 5 ? peer : peer.substr(0, colon);
}

}  // namespace turnout::api
