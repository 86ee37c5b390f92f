// The rules of an event's program: what a valid event and session are, and what an update may
// change once people have registered and chosen their breakouts. Pure functions of what the
// caller read, so every rule is tested in a table (tests/unit/program_rules_test.cc); the
// EventService handlers parse, authorize, call these and the store, and convert.
//
//   RETURN_IF_ERROR(CheckEvent(plan));                       // CreateEvent
//   ASSIGN_OR_RETURN(EventChange change,
//                    ChangeEvent(before, after, doors_open_given, earliest_ticket_expiry));
//   store.UpdateEvent(..., change.session_shift);            // UpdateEvent
//
// No rule here depends on the time of the call; one that comes to takes `absl::Time now` as an
// argument, never reads a clock.
#ifndef TURNOUT_SERVER_DOMAIN_PROGRAM_RULES_H_
#define TURNOUT_SERVER_DOMAIN_PROGRAM_RULES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace turnout::domain {

// A capacity is between 0 (unlimited) and this.
inline constexpr int32_t kMaxCapacity = 1000000;
// A session's round is between 0 (not in a round) and this.
inline constexpr int32_t kMaxRound = 20;
// How far before its event's start, or after its end, a session may lie (a reception the
// evening before, a follow-up the morning after).
inline constexpr absl::Duration kSessionOutsideEvent = absl::Hours(24);
// When no doors-open time is given, doors open this long before the event starts.
inline constexpr absl::Duration kDefaultDoorsOpenEarly = absl::Hours(1);

// The fields of an event the rules look at.
struct EventPlan {
  std::string title;
  std::string venue;
  std::string time_zone;  // an IANA name, e.g. "America/Los_Angeles"
  absl::Time start_time;
  absl::Time end_time;
  absl::Time doors_open_time;
  int32_t capacity = 0;  // 0: unlimited
};

// The fields of a session the rules look at.
struct SessionPlan {
  std::string title;
  std::string track;
  std::string room;
  int32_t round = 0;  // 0: not in a round; breakouts picked in advance share a round number
  bool requires_selection = false;
  absl::Time start_time;
  absl::Time end_time;
  int32_t capacity = 0;  // 0: unlimited
};

// INVALID_ARGUMENT "<field>: must be between 0 (unlimited) and 1000000" outside that range.
absl::Status CheckCapacity(absl::string_view field, int32_t capacity);

// A valid event: a title, texts within their limits, a known time zone, a capacity in range, an
// end after its start and doors that open before the end. INVALID_ARGUMENT naming the field.
absl::Status CheckEvent(const EventPlan& event);

// A valid session of `event`: texts within their limits, a capacity and round in range, a round
// when it is picked in advance, an end after its start, and times within kSessionOutsideEvent of
// the event's. INVALID_ARGUMENT naming the field.
absl::Status CheckSession(const SessionPlan& session, const EventPlan& event);

// What an accepted event update does besides writing the event.
struct EventChange {
  // The doors-open time to store: moved with a postponement unless the update gave one.
  absl::Time doors_open_time;
  // How far the program moves with the event: non-zero when the start and end both moved by this
  // much (a postponement, or an event brought forward); zero for any other change.
  absl::Duration session_shift;
};

// Checks the update of `before` to `after` (the masked fields merged). `doors_open_given`: the
// update sets the doors-open time itself. `earliest_ticket_expiry`: the first expiry among the
// codes issued for the event (nullopt if none): codes carry an outer expiry, so the event may not
// end after it (FAILED_PRECONDITION; the organizer creates a new event instead).
absl::StatusOr<EventChange> ChangeEvent(const EventPlan& before, const EventPlan& after,
                                        bool doors_open_given,
                                        std::optional<absl::Time> earliest_ticket_expiry);

// Checks the update of session `before` to `after` of `event`. `chosen`: how many people hold a
// seat or a waitlist place in it; once anyone has, its round may not change (their choice was one
// per round), FAILED_PRECONDITION. A capacity may be lowered below the seats taken: nobody loses
// a seat, and the waitlist waits until seats free up.
absl::Status ChangeSession(const SessionPlan& before, const SessionPlan& after,
                           const EventPlan& event, int32_t chosen);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_PROGRAM_RULES_H_
