#include "server/api/rate_limiter.h"

#include <algorithm>

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
    return absl::ResourceExhaustedError("too many registrations from this address; wait a minute");
  }
  b.tokens -= 1.0;
  return absl::OkStatus();
}

std::string PeerAddress(const std::string& peer) {
  const size_t colon = peer.rfind(':');
  return colon == std::string::npos || colon < 5 ? peer : peer.substr(0, colon);
}

}  // namespace turnout::api
