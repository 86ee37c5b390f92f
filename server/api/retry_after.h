// A refusal that tells the caller when to retry. The message says it for people ("retry in 3 s");
// programs read the trailing metadata "retry-after": whole seconds, as in HTTP's Retry-After
// header. The hint rides on the absl::Status as a payload until the call finishes
// (FinishStatus in call.h turns it into the trailer).
#ifndef TURNOUT_SERVER_API_RETRY_AFTER_H_
#define TURNOUT_SERVER_API_RETRY_AFTER_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace turnout::api {

inline constexpr char kRetryAfterMetadata[] = "retry-after";
inline constexpr char kRetryAfterPayload[] = "turnout.dev/retry-after";
inline constexpr char kLimitPayload[] = "turnout.dev/limit";

// RESOURCE_EXHAUSTED: "<what>; retry in N s", with the hint and the limit's name (a metrics label:
// "register_rate", "imports", ...) attached. N is at least 1.
inline absl::Status RetryLater(absl::string_view limit, absl::string_view what,
                               absl::Duration after) {
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(absl::Ceil(after, absl::Seconds(1))));
  absl::Status status =
      absl::ResourceExhaustedError(absl::StrCat(what, "; retry in ", seconds, " s"));
  status.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(seconds)));
  status.SetPayload(kLimitPayload, absl::Cord(limit));
  return status;
}

// The name of the limit that refused, if a limit did.
inline std::optional<std::string> LimitOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kLimitPayload);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

// The seconds a status asks the caller to wait, if it says.
inline std::optional<std::string> RetryAfterOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kRetryAfterPayload);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_RETRY_AFTER_H_
