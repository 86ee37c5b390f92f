// What an event's program is made of, as stored: the event's state, a session's kind and the
// status of a breakout choice. Each enum's value is its stored number (domain/stored.h), which is
// also its number in the API (turnout.v1.Event.State, Session.Kind, SessionChoice.Status);
// server/api/convert.h translates between the two by name, never by casting.
#ifndef TURNOUT_SERVER_DOMAIN_PROGRAM_H_
#define TURNOUT_SERVER_DOMAIN_PROGRAM_H_

#include "server/domain/stored.h"

namespace turnout::domain {

// Stored in events.state. Only a PUBLISHED event takes public registrations and admits anyone.
enum class EventState { kDraft = 1, kPublished = 2, kCanceled = 3 };

// Stored in sessions.kind.
enum class SessionKind { kPlenary = 1, kBreakout = 2, kOther = 3 };

// Stored in session_choices.status: a seat in the chosen breakout, or a place on its waitlist.
enum class ChoiceStatus { kConfirmed = 1, kWaitlisted = 2 };

template <>
struct StoredRange<EventState> {
  static constexpr int kFirst = 1, kLast = 3;
};
template <>
struct StoredRange<SessionKind> {
  static constexpr int kFirst = 1, kLast = 3;
};
template <>
struct StoredRange<ChoiceStatus> {
  static constexpr int kFirst = 1, kLast = 2;
};

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_PROGRAM_H_
