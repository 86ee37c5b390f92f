#include "tests/integration/model/reference_model.h"

#include <algorithm>

namespace turnout::testing::model {
namespace {

namespace v1 = ::turnout::v1;

// A session's room opens this long before the session starts (README, "The scanning rules").
constexpr absl::Duration kRoomOpensEarly = absl::Minutes(30);

// Whether a scan with this answer is part of the ticket's presence at the checkpoint. Other
// refusals are final: they never count, whatever arrives later.
bool TakesPart(const Model::ScanRecord& s) {
  return !s.annulled && s.reg >= 0 &&
         (s.status == v1::ScanResult::ADMITTED || s.status == v1::ScanResult::EXIT_RECORDED ||
          s.status == v1::ScanResult::ALREADY_CHECKED_IN);
}

}  // namespace

Model::Model(const Program& program) : program_(program) {}

// --- Registrations and waitlists ----------------------------------------------------------------

void Model::Register(int reg, const std::vector<Place>& choices, const Code& code) {
  Registration r;
  const int capacity = program_.capacity;
  r.status = capacity == 0 || ConfirmedRegistrations() < capacity ? v1::Registration::CONFIRMED
                                                                  : v1::Registration::WAITLISTED;
  r.codes.push_back(code);
  ++changes_;
  for (Place session : choices) {
    // A waitlisted registration waits for its breakouts too.
    const int seats = CapacityOf(session);
    const bool confirmed = r.status == v1::Registration::CONFIRMED &&
                           (seats == 0 || ConfirmedChoices(session) < seats);
    r.choices.push_back({session, confirmed, changes_});
  }
  registrations_[reg] = r;
}

void Model::Cancel(int reg) {
  Registration& r = registrations_.at(reg);
  if (r.status == v1::Registration::CANCELED) return;
  const bool held_a_place = r.status == v1::Registration::CONFIRMED;
  r.status = v1::Registration::CANCELED;
  // Its breakout seats go first, to those already confirmed who wait for them; then its place at
  // the event, whose new holder then takes whatever breakout seats are free.
  const std::vector<Choice> released = r.choices;
  r.choices.clear();
  for (const Choice& c : released) {
    if (c.confirmed) PromoteChoices(c.session);
  }
  if (held_a_place) PromoteRegistrations();
}

bool Model::Reissue(int reg, const Code& code) {
  Registration& r = registrations_.at(reg);
  if (r.status == v1::Registration::CANCELED) return false;
  for (Code& old : r.codes) old.superseded = true;
  r.codes.push_back(code);
  return true;
}

bool Model::ChooseSessions(int reg, const std::vector<Place>& choices) {
  Registration& r = registrations_.at(reg);
  if (r.status == v1::Registration::CANCELED) return false;
  ++changes_;
  // A choice made again keeps its seat or its place in the waitlist; the others are released.
  std::vector<Choice> kept;
  std::vector<Choice> released;
  for (const Choice& c : r.choices) {
    const bool wanted = std::find(choices.begin(), choices.end(), c.session) != choices.end();
    (wanted ? kept : released).push_back(c);
  }
  r.choices = kept;
  for (const Choice& c : released) {
    if (c.confirmed) PromoteChoices(c.session);
  }
  for (Place session : choices) {
    const bool already = std::any_of(kept.begin(), kept.end(),
                                     [&](const Choice& c) { return c.session == session; });
    if (already) continue;
    const int seats = CapacityOf(session);
    const bool confirmed = r.status == v1::Registration::CONFIRMED &&
                           (seats == 0 || ConfirmedChoices(session) < seats);
    r.choices.push_back({session, confirmed, changes_});
  }
  std::sort(r.choices.begin(), r.choices.end(), [](const Choice& a, const Choice& b) {
    return RoundOf(a.session) < RoundOf(b.session);
  });
  return true;
}

void Model::AddCode(int reg, const Code& code) { registrations_.at(reg).codes.push_back(code); }

int64_t Model::ConfirmedRegistrations() const {
  int64_t n = 0;
  for (const auto& [label, r] : registrations_) n += r.status == v1::Registration::CONFIRMED;
  return n;
}

int64_t Model::ConfirmedChoices(Place session) const {
  int64_t n = 0;
  for (const auto& [label, r] : registrations_) {
    for (const Choice& c : r.choices) n += c.session == session && c.confirmed;
  }
  return n;
}

// Free places go to the waitlisted registrations in registration order; each promoted one then
// takes the breakout seats that are free, in choice order.
void Model::PromoteRegistrations() {
  const int capacity = program_.capacity;
  bool promoted = false;
  for (auto& [label, r] : registrations_) {
    if (r.status != v1::Registration::WAITLISTED) continue;
    if (capacity > 0 && ConfirmedRegistrations() >= capacity) break;
    r.status = v1::Registration::CONFIRMED;
    promoted = true;
  }
  if (!promoted) return;
  for (Place session : kBreakouts) PromoteChoices(session);
}

// Free seats of a breakout go to the earliest waitlisted choices of confirmed registrations.
void Model::PromoteChoices(Place session) {
  for (;;) {
    const int seats = CapacityOf(session);
    if (seats > 0 && ConfirmedChoices(session) >= seats) return;
    Choice* earliest = nullptr;
    for (auto& [label, r] : registrations_) {
      if (r.status != v1::Registration::CONFIRMED) continue;
      for (Choice& c : r.choices) {
        if (c.session == session && !c.confirmed &&
            (earliest == nullptr || c.chosen < earliest->chosen)) {
          earliest = &c;
        }
      }
    }
    if (earliest == nullptr) return;
    earliest->confirmed = true;
  }
}

// --- The event ----------------------------------------------------------------------------------

int Model::CapacityOf(Place place) const {
  return place == Place::kEntrance ? program_.capacity : program_.sessions.at(place).capacity;
}

void Model::SetCapacity(Place place, int capacity) {
  if (place == Place::kEntrance) {
    program_.capacity = capacity;
    PromoteRegistrations();  // a raised capacity seats the waitlisted; a lowered one evicts nobody
  } else {
    program_.sessions.at(place).capacity = capacity;
    if (IsBreakout(place)) PromoteChoices(place);
  }
}

void Model::MoveEvent(absl::Duration by) {
  program_.doors_open += by;
  program_.start += by;
  program_.end += by;
  for (auto& [place, session] : program_.sessions) {
    session.start += by;
    session.end += by;
  }
}

// --- Scans --------------------------------------------------------------------------------------

bool Model::InWindow(Place place, absl::Time at) const {
  if (place == Place::kEntrance) return program_.doors_open <= at && at < program_.end;
  const Program::Session& s = program_.sessions.at(place);
  return s.start - kRoomOpensEarly <= at && at < s.end;
}

Model::Presence Model::Replay(int reg, Place place, absl::Time until) const {
  std::vector<const Model::ScanRecord*> mine;
  for (const Model::ScanRecord& s : scans_) {
    if (s.reg == reg && s.place == place && TakesPart(s) && s.at <= until) mine.push_back(&s);
  }
  // Canonical order: the door's clock, then arrival (the order of scans_).
  std::stable_sort(
      mine.begin(), mine.end(),
      [](const Model::ScanRecord* a, const Model::ScanRecord* b) { return a->at < b->at; });
  Presence p;
  for (const Model::ScanRecord* s : mine) {
    if (s->direction == Direction::kExit) {
      p.inside = false;
    } else if (!p.inside) {  // re-entry is allowed everywhere in this test's event
      p.inside = true;
      p.ever_admitted = true;
    }
  }
  return p;
}

// The rules in order; the first that applies decides.
ScanStatus Model::Decide(const PresentedCode& code, Place place, Direction direction,
                         absl::Time at) const {
  if (code.kind == PresentedCode::Kind::kGarbage) return v1::ScanResult::INVALID;
  // Someone walking out is recorded whatever became of their ticket.
  if (code.kind == PresentedCode::Kind::kThisEvent && direction == Direction::kExit) {
    return v1::ScanResult::EXIT_RECORDED;
  }
  if (code.kind == PresentedCode::Kind::kOtherEvent) {
    return KeyRevoked(code.key_id) ? v1::ScanResult::REVOKED : v1::ScanResult::WRONG_EVENT;
  }
  const Registration& r = registrations_.at(code.reg);
  const Code& presented = r.codes.at(code.code_index);
  if (presented.superseded || KeyRevoked(presented.key_id)) return v1::ScanResult::REVOKED;
  if (r.status == v1::Registration::CANCELED) return v1::ScanResult::CANCELED;
  // A draft event has no check-in window at all.
  if (!published_ || !InWindow(place, at)) return v1::ScanResult::OUTSIDE_CHECKIN_WINDOW;
  if (r.status == v1::Registration::WAITLISTED) return v1::ScanResult::NOT_REGISTERED_FOR_SESSION;
  if (IsBreakout(place)) {
    const bool chose_it = std::any_of(r.choices.begin(), r.choices.end(), [&](const Choice& c) {
      return c.session == place && c.confirmed;
    });
    if (!chose_it) return v1::ScanResult::NOT_REGISTERED_FOR_SESSION;
  }
  if (Replay(code.reg, place, at).inside) return v1::ScanResult::ALREADY_CHECKED_IN;
  // Only the plenary is an open session with a capacity; breakout seats were given at
  // registration.
  if (place == Place::kPlenary && CapacityOf(place) > 0 &&
      CountsAt(place).inside >= CapacityOf(place)) {
    return v1::ScanResult::SESSION_FULL;
  }
  return v1::ScanResult::ADMITTED;
}

ScanStatus Model::Scan(int label, const PresentedCode& code, Place place, Direction direction,
                       absl::Time at, int device) {
  ScanRecord s;
  s.label = label;
  s.reg = code.kind == PresentedCode::Kind::kThisEvent ? code.reg : -1;
  s.place = place;
  s.direction = direction;
  s.at = at;
  s.device = device;
  s.status = Decide(code, place, direction, at);
  scans_.push_back(s);
  return s.status;
}

void Model::Annul(int label) {
  for (Model::ScanRecord& s : scans_) {
    if (s.label == label) s.annulled = true;
  }
}

std::optional<ScanStatus> Model::CurrentStatus(int label) const {
  const ScanRecord* scan = FindScan(label);
  if (scan == nullptr || scan->annulled) return std::nullopt;
  if (!TakesPart(*scan)) return scan->status;
  if (scan->direction == Direction::kExit) return v1::ScanResult::EXIT_RECORDED;
  // Its ticket's scans there in canonical order (time, then arrival: the order of scans_); the
  // presence just before it decides it.
  std::vector<const ScanRecord*> mine;
  for (const ScanRecord& s : scans_) {
    if (s.reg == scan->reg && s.place == scan->place && TakesPart(s)) mine.push_back(&s);
  }
  std::stable_sort(mine.begin(), mine.end(),
                   [](const ScanRecord* a, const ScanRecord* b) { return a->at < b->at; });
  bool inside = false;
  for (const ScanRecord* s : mine) {
    if (s == scan) break;
    inside = s->direction == Direction::kEntry;
  }
  return inside ? v1::ScanResult::ALREADY_CHECKED_IN : v1::ScanResult::ADMITTED;
}

const Model::ScanRecord* Model::FindScan(int label) const {
  for (const Model::ScanRecord& s : scans_) {
    if (s.label == label) return &s;
  }
  return nullptr;
}

Model::Counts Model::CountsAt(Place place) const {
  Counts c;
  c.capacity = CapacityOf(place);
  for (const auto& [label, r] : registrations_) {
    if (r.status != v1::Registration::CONFIRMED) continue;
    if (!IsBreakout(place)) {
      ++c.registered;
      continue;
    }
    for (const Choice& choice : r.choices)
      c.registered += choice.session == place && choice.confirmed;
  }
  for (const auto& [label, r] : registrations_) {
    const Presence p = Replay(label, place);
    c.checked_in += p.ever_admitted;
    c.inside += p.inside;
  }
  return c;
}

}  // namespace turnout::testing::model
