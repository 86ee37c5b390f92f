#include "server/domain/registration_rules.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace turnout::domain {

absl::Status MayRegister(int64_t event_id, const EventView& event, bool require_published) {
  if (event.state == EventState::kCanceled) {
    return absl::FailedPreconditionError(
        absl::StrCat("event events/", event_id, " is canceled; registration is closed"));
  }
  if (require_published && event.state != EventState::kPublished) {
    return absl::FailedPreconditionError(
        absl::StrCat("event events/", event_id, " is not open for registration"));
  }
  return absl::OkStatus();
}

int64_t FreePlaces(const Places& places) {
  if (places.capacity <= 0) return std::numeric_limits<int32_t>::max();
  return std::max<int64_t>(0, places.capacity - places.confirmed);
}

RegistrationStatus PlaceFor(const Places& event) {
  return FreePlaces(event) > 0 ? RegistrationStatus::kConfirmed : RegistrationStatus::kWaitlisted;
}

ChoiceStatus SeatFor(RegistrationStatus registration, const Places& session) {
  if (registration != RegistrationStatus::kConfirmed) return ChoiceStatus::kWaitlisted;
  return FreePlaces(session) > 0 ? ChoiceStatus::kConfirmed : ChoiceStatus::kWaitlisted;
}

int64_t PromotionCount(const Places& places, int64_t waiting) {
  return std::max<int64_t>(0, std::min(FreePlaces(places), waiting));
}

absl::StatusOr<std::vector<SessionView>> CheckChoices(int64_t event_id,
                                                      std::vector<int64_t> requested,
                                                      const std::map<int64_t, SessionView>& known) {
  std::sort(requested.begin(), requested.end());
  std::vector<SessionView> chosen;
  std::map<int32_t, int64_t> by_round;
  for (int64_t id : requested) {
    auto it = known.find(id);
    if (it == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("session_choices: events/", event_id,
                                                     "/sessions/", id,
                                                     " is not a session of this event"));
    }
    const SessionView& s = it->second;
    if (s.round <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("session_choices: events/", event_id, "/sessions/", id,
                       " is not a breakout (it belongs to no round) and cannot be chosen"));
    }
    if (auto [at, fresh] = by_round.emplace(s.round, id); !fresh) {
      return absl::InvalidArgumentError(
          absl::StrCat("session_choices: two sessions chosen for round ", s.round,
                       "; choose at most one breakout per round"));
    }
    chosen.push_back(s);
  }
  return chosen;
}

ChoiceChange PlanChoiceChange(const std::vector<ChoiceView>& current,
                              const std::vector<SessionView>& wanted) {
  std::map<int32_t, int64_t> wanted_by_round;
  for (const SessionView& s : wanted) wanted_by_round[s.round] = s.id;
  std::map<int32_t, int64_t> kept;
  ChoiceChange change;
  for (const ChoiceView& c : current) {
    auto it = wanted_by_round.find(c.round);
    if (it != wanted_by_round.end() && it->second == c.session_id) {
      kept[c.round] = c.session_id;
    } else {
      change.released.push_back(c);
    }
  }
  for (const SessionView& s : wanted) {
    if (kept.count(s.round) == 0) change.added.push_back(s);
  }
  return change;
}

absl::Status MayChangeChoices(int64_t event_id, int64_t id, RegistrationStatus status) {
  if (status == RegistrationStatus::kCanceled) {
    return absl::FailedPreconditionError(
        absl::StrCat("registration events/", event_id, "/registrations/", id,
                     " is canceled; register again to choose breakouts"));
  }
  return absl::OkStatus();
}

absl::Status MayReissue(int64_t event_id, int64_t id, RegistrationStatus status) {
  if (status == RegistrationStatus::kCanceled) {
    return absl::FailedPreconditionError(
        absl::StrCat("registration events/", event_id, "/registrations/", id,
                     " is canceled; a canceled registration gets no new ticket"));
  }
  return absl::OkStatus();
}

namespace {

template <typename Status>
CountDelta MovedBetween(std::optional<Status> from, std::optional<Status> to) {
  CountDelta d;
  auto add = [&d](std::optional<Status> s, int64_t by) {
    if (s == Status::kConfirmed) d.confirmed += by;
    if (s == Status::kWaitlisted) d.waitlisted += by;
  };
  if (from == to) return d;
  add(from, -1);
  add(to, +1);
  return d;
}

}  // namespace

CountDelta Moved(std::optional<RegistrationStatus> from, std::optional<RegistrationStatus> to) {
  return MovedBetween(from, to);
}

CountDelta Moved(std::optional<ChoiceStatus> from, std::optional<ChoiceStatus> to) {
  return MovedBetween(from, to);
}

}  // namespace turnout::domain
