// The registration rules: who may register, who gets a place or the waitlist, a breakout seat or
// its waitlist, how many are promoted when places free up, and what a change of breakout choices
// does. Pure functions, no SQL and no gRPC: the store reads what a rule needs (the event's state,
// its capacity and its counters, the chosen sessions), calls the rule, and writes what it decided.
//
//   RETURN_IF_ERROR(MayRegister(event_id, event, require_published));
//   RegistrationStatus place = PlaceFor(event.places);
//   ASSIGN_OR_RETURN(std::vector<SessionView> chosen, CheckChoices(event_id, ids, sessions));
//   for (const SessionView& s : chosen) ChoiceStatus seat = SeatFor(place, s.places);
//
// The order of a waitlist is part of the rules: registrations are promoted earliest registered
// first (by id), breakout choices earliest chosen first (by the time of the choice, then the
// registration id). The store's queries keep that order; PromotionCount says how many.
#ifndef TURNOUT_SERVER_DOMAIN_REGISTRATION_RULES_H_
#define TURNOUT_SERVER_DOMAIN_REGISTRATION_RULES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/domain/program.h"  // EventState, ChoiceStatus
#include "server/domain/scan_rules.h"
#include "server/domain/stored.h"

namespace turnout::domain {

// Registration.Source; the values are the stored numbers.
enum class RegistrationSource { kOnline = 1, kImport = 2, kWalkIn = 3 };
template <>
struct StoredRange<RegistrationSource> {
  static constexpr int kFirst = 1, kLast = 3;
};

// The places of an event or the seats of a breakout.
struct Places {
  int32_t capacity = 0;   // 0 = unlimited
  int64_t confirmed = 0;  // places taken
};

// What registering needs to know of the event.
struct EventView {
  EventState state = EventState::kDraft;
  Places places;
};

// A breakout (or any session) of the event, as a choice sees it.
struct SessionView {
  int64_t id = 0;
  int32_t round = 0;  // 0: not a breakout, cannot be chosen
  Places places;
};

// One registration's choice of a breakout in a round.
struct ChoiceView {
  int32_t round = 0;
  int64_t session_id = 0;
  ChoiceStatus status = ChoiceStatus::kWaitlisted;
};

// OK when the event takes registrations: not canceled, and — for the public
// (`require_published`) — published; FAILED_PRECONDITION otherwise. (A purged event takes none
// either: the store says so first, with the time of the purge.)
absl::Status MayRegister(int64_t event_id, const EventView& event, bool require_published);

// How many places are free: capacity minus those taken, never negative; unlimited places count
// as INT32_MAX.
int64_t FreePlaces(const Places& places);

// A new registration's status: confirmed while a place is free, else waitlisted.
RegistrationStatus PlaceFor(const Places& event);

// A new choice's status: a seat while one is free and the registration is confirmed (a
// waitlisted registration waits for its breakouts too: seats go to people who can get in).
ChoiceStatus SeatFor(RegistrationStatus registration, const Places& session);

// How many of `waiting` are promoted into the free places (the earliest of them, see above).
int64_t PromotionCount(const Places& places, int64_t waiting);

// The sessions `requested` names, checked against the event's sessions `known` (by id): each must
// be a breakout of the event (a round > 0), at most one per round. In id order. INVALID_ARGUMENT
// naming the session or the round otherwise.
absl::StatusOr<std::vector<SessionView>> CheckChoices(int64_t event_id,
                                                      std::vector<int64_t> requested,
                                                      const std::map<int64_t, SessionView>& known);

// What replacing a registration's choices `current` by the checked `wanted` does: a choice kept
// (same session in the same round) keeps its seat or its waitlist place; the others are released
// (their seats go to the next waitlisted) and the new ones added.
struct ChoiceChange {
  std::vector<ChoiceView> released;
  std::vector<SessionView> added;
};
ChoiceChange PlanChoiceChange(const std::vector<ChoiceView>& current,
                              const std::vector<SessionView>& wanted);

// OK unless the registration is canceled: a canceled registration neither chooses breakouts
// (FAILED_PRECONDITION: register again) nor gets a new ticket.
absl::Status MayChangeChoices(int64_t event_id, int64_t id, RegistrationStatus status);
absl::Status MayReissue(int64_t event_id, int64_t id, RegistrationStatus status);

// The counter changes of one registration or choice moving from `from` to `to` (nullopt: none).
struct CountDelta {
  int64_t confirmed = 0;
  int64_t waitlisted = 0;
  bool empty() const { return confirmed == 0 && waitlisted == 0; }
};
CountDelta Moved(std::optional<RegistrationStatus> from, std::optional<RegistrationStatus> to);
CountDelta Moved(std::optional<ChoiceStatus> from, std::optional<ChoiceStatus> to);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_REGISTRATION_RULES_H_
