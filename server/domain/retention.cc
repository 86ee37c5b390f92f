#include "server/domain/retention.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace turnout::domain {

absl::Status MayPurge(absl::Time event_end, absl::Time now, bool force) {
  if (force || now >= event_end) return absl::OkStatus();
  const absl::Duration left = event_end - now;
  const std::string in = left >= absl::Hours(48)
                             ? absl::StrCat(absl::ToInt64Hours(left) / 24, " days")
                             : absl::FormatDuration(absl::Trunc(left, absl::Minutes(1)));
  return absl::FailedPreconditionError(absl::StrCat(
      "the event has not ended: it ends at ",
      absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", event_end, absl::UTCTimeZone()), ", in ", in,
      "; purge it after its end, or force the purge (its check-in then closes for good)"));
}

bool RetentionExpired(absl::Time event_end, absl::Time now, absl::Duration retention) {
  return retention > absl::ZeroDuration() && event_end <= RetentionCutoff(now, retention);
}

absl::Time RetentionCutoff(absl::Time now, absl::Duration retention) { return now - retention; }

}  // namespace turnout::domain
