#include "server/domain/program_rules.h"

#include "absl/strings/str_cat.h"
#include "server/domain/validation.h"
#include "server/util/status_macros.h"

namespace turnout::domain {

absl::Status CheckCapacity(absl::string_view field, int32_t capacity) {
  if (capacity < 0 || capacity > kMaxCapacity) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be between 0 (unlimited) and ", kMaxCapacity));
  }
  return absl::OkStatus();
}

absl::Status CheckEvent(const EventPlan& e) {
  RETURN_IF_ERROR(CheckText("event.title", e.title, kMaxTitleBytes, true));
  RETURN_IF_ERROR(CheckText("event.venue", e.venue, kMaxTitleBytes, false));
  RETURN_IF_ERROR(CheckTimeZone("event.time_zone", e.time_zone));
  RETURN_IF_ERROR(CheckCapacity("event.capacity", e.capacity));
  if (e.end_time <= e.start_time) {
    return absl::InvalidArgumentError("event.end_time: must be after event.start_time");
  }
  if (e.doors_open_time >= e.end_time) {
    return absl::InvalidArgumentError("event.doors_open_time: must be before event.end_time");
  }
  return absl::OkStatus();
}

absl::Status CheckSession(const SessionPlan& s, const EventPlan& event) {
  RETURN_IF_ERROR(CheckText("session.title", s.title, kMaxTitleBytes, true));
  RETURN_IF_ERROR(CheckText("session.track", s.track, kMaxShortTextBytes, false));
  RETURN_IF_ERROR(CheckText("session.room", s.room, kMaxShortTextBytes, false));
  RETURN_IF_ERROR(CheckCapacity("session.capacity", s.capacity));
  if (s.round < 0 || s.round > kMaxRound) {
    return absl::InvalidArgumentError(
        absl::StrCat("session.round: must be between 0 (no round) and ", kMaxRound));
  }
  if (s.requires_selection && s.round == 0) {
    return absl::InvalidArgumentError(
        "session.requires_selection: a session picked in advance needs a round (1, 2, ...)");
  }
  if (s.end_time <= s.start_time) {
    return absl::InvalidArgumentError("session.end_time: must be after session.start_time");
  }
  if (s.start_time < event.start_time - kSessionOutsideEvent ||
      s.end_time > event.end_time + kSessionOutsideEvent) {
    return absl::InvalidArgumentError("session: must take place during its event");
  }
  return absl::OkStatus();
}

absl::StatusOr<EventChange> ChangeEvent(const EventPlan& before, const EventPlan& after,
                                        bool doors_open_given,
                                        std::optional<absl::Time> earliest_ticket_expiry) {
  EventChange change{after.doors_open_time, absl::ZeroDuration()};
  const absl::Duration shift = after.start_time - before.start_time;
  if (shift != absl::ZeroDuration() && after.end_time - before.end_time == shift) {
    change.session_shift = shift;
    if (!doors_open_given) change.doors_open_time = before.doors_open_time + shift;
  }
  EventPlan changed = after;
  changed.doors_open_time = change.doors_open_time;
  RETURN_IF_ERROR(CheckEvent(changed));
  if (earliest_ticket_expiry && after.end_time > *earliest_ticket_expiry) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event.end_time: tickets already issued for this event expire at ",
        absl::FormatTime(absl::RFC3339_sec, *earliest_ticket_expiry, absl::UTCTimeZone()),
        "; an event cannot move past them; create a new event instead"));
  }
  return change;
}

absl::Status ChangeSession(const SessionPlan& before, const SessionPlan& after,
                           const EventPlan& event, int32_t chosen) {
  RETURN_IF_ERROR(CheckSession(after, event));
  if (after.round != before.round && chosen > 0) {
    return absl::FailedPreconditionError(
        "session.round: attendees chose this session in its round; create a new session "
        "instead");
  }
  return absl::OkStatus();
}

}  // namespace turnout::domain
