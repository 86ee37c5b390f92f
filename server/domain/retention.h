// When an event's personal data may be purged (docs/design.md, "Purge and retention"): after the
// event ends, on request; before it only when forced; automatically once the retention period
// after its end has passed. Pure: the caller supplies the clock.
#ifndef TURNOUT_SERVER_DOMAIN_RETENTION_H_
#define TURNOUT_SERVER_DOMAIN_RETENTION_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace turnout::domain {

// OK once the event has ended (`now` at or after `event_end`), or when `force`d. Otherwise
// FAILED_PRECONDITION saying when the event ends and how to purge anyway.
absl::Status MayPurge(absl::Time event_end, absl::Time now, bool force);

// Whether the automatic purge is due: `retention` has passed since the event's end. A retention
// of zero or less never purges.
bool RetentionExpired(absl::Time event_end, absl::Time now, absl::Duration retention);

// The latest end time of an event due for the automatic purge at `now`; meaningful only for a
// positive `retention`.
absl::Time RetentionCutoff(absl::Time now, absl::Duration retention);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_RETENTION_H_
