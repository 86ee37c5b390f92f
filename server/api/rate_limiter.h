// A token bucket per caller address for anonymous calls: registrations (enough for a room of people
// registering from one venue network, not enough to flood the roster) and public reads.
#ifndef TURNOUT_SERVER_API_RATE_LIMITER_H_
#define TURNOUT_SERVER_API_RATE_LIMITER_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace turnout::api {

class RateLimiter {
 public:
  // `limit` names the limit for metrics ("register_rate"), `what` the calls in the refusal
  // ("registrations").
  RateLimiter(double per_second, double burst, std::string limit, std::string what)
      : per_second_(per_second), burst_(burst), limit_(std::move(limit)), what_(std::move(what)) {}
  // RESOURCE_EXHAUSTED when `key` has used its budget, saying when the next call will be let
  // through (retry_after.h).
  absl::Status Take(const std::string& key, absl::Time now);

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  const double per_second_;
  const double burst_;
  const std::string limit_;
  const std::string what_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// The address part of a gRPC peer ("ipv4:10.0.0.7:52144" -> "ipv4:10.0.0.7").
std::string PeerAddress(const std::string& peer);

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_RATE_LIMITER_H_
