#include "tests/integration/model/generator.h"

#include <algorithm>
#include <utility>

namespace turnout::testing::model {
namespace {

namespace v1 = ::turnout::v1;
using Kind = Operation::Kind;

constexpr absl::Duration kTick = absl::Seconds(30);
constexpr int kMaxRegistrations = 9;

const std::set<RegistrationStatus> kAny = {
    v1::Registration::CONFIRMED, v1::Registration::WAITLISTED, v1::Registration::CANCELED};
const std::set<RegistrationStatus> kActive = {v1::Registration::CONFIRMED,
                                              v1::Registration::WAITLISTED};
const std::set<RegistrationStatus> kConfirmed = {v1::Registration::CONFIRMED};

}  // namespace

Generator::Generator(uint64_t seed, int steps, const std::set<std::string>& without)
    : rng_(seed), without_(without) {
  // Device 1's clock crosses the event's day (from before the doors open to a little past the
  // end) over the run, moving 0 to 2*pace each step, in 30-second ticks so that times can tie.
  const int64_t ticks = absl::Minutes(10 * 60 + 30) / kTick / std::max(1, steps);
  pace_ticks_ = std::max<int64_t>(1, ticks);
  // Device 2's clock runs up to 3 minutes apart from device 1's, and it sends some scans late.
  late_scans_ = !without_.count(kLateScans);
  if (late_scans_) skew2_ = kTick * (static_cast<int64_t>(Uniform(13)) - 6);
}

uint64_t Generator::Uniform(uint64_t n) { return rng_() % n; }

bool Generator::Percent(int p) { return Uniform(100) < static_cast<uint64_t>(p); }

int Generator::Pick(std::initializer_list<int> values) {
  return values.begin()[Uniform(values.size())];
}

Operation Generator::Next(const Model& model) {
  clock_ += kTick * static_cast<int64_t>(Uniform(2 * pace_ticks_ + 1));
  Operation op;
  op.kind = PickKind(model);
  switch (op.kind) {
    case Kind::kRegister:
      op.reg = next_reg_++;
      op.choices = RandomChoices();
      break;
    case Kind::kCancel:
    case Kind::kReissue:
      op.reg = PickRegistration(model, Percent(90) ? kActive : kAny);
      break;
    case Kind::kGetTicket:
      op.reg = PickForGetTicket(model);
      break;
    case Kind::kChooseSessions:
      op.reg = PickRegistration(model, Percent(90) ? kActive : kAny);
      op.choices = RandomChoices();
      break;
    case Kind::kScan:
      return Scan(model);
    case Kind::kResend: {
      const std::vector<Model::ScanRecord>& scans = model.scans();
      op.scan = scans[scans.size() - 1 - Uniform(std::min<size_t>(scans.size(), 20))].label;
      break;
    }
    case Kind::kAnnul: {
      const std::vector<Model::ScanRecord>& scans = model.scans();
      const Model::ScanRecord& s =
          scans[scans.size() - 1 - Uniform(std::min<size_t>(scans.size(), 8))];
      op.scan = s.label;
      op.device = Percent(85) ? s.device : 3 - s.device;
      break;
    }
    case Kind::kSetCapacity:
      op.place = kAllPlaces[Uniform(5)];
      op.capacity = op.place == Place::kEntrance ? Pick({0, 2, 3, 4, 5, 6}) : Pick({0, 1, 2, 3});
      break;
    case Kind::kMoveEvent:
      // The clocks go on from the same time of day, now in the new window. They never go back,
      // so device 1's scans stay in canonical order in any part of the sequence.
      op.days = 1 + static_cast<int>(Uniform(2));
      moved_days_ += op.days;
      break;
    case Kind::kRotateKey:
      break;
    case Kind::kSetPublished:
      op.published = !model.published();
      break;
  }
  return op;
}

Kind Generator::PickKind(const Model& model) {
  const int regs = static_cast<int>(model.registrations().size());
  int active = 0;
  int stale = 0;  // active registrations whose current code's key is revoked
  for (const auto& [label, r] : model.registrations()) {
    if (r.status == v1::Registration::CANCELED) continue;
    ++active;
    stale += model.KeyRevoked(r.codes.back().key_id);
  }
  const bool scans = !model.scans().empty();
  // Relative weights. After a key rotation GetTicket comes often, or most scans would be of
  // revoked codes.
  const std::pair<Kind, int> weights[] = {
      {Kind::kRegister, regs < 3                   ? 400
                        : regs < kMaxRegistrations ? 16
                                                   : 0},
      {Kind::kCancel, active > 0 ? 6 : 0},
      {Kind::kReissue, active > 0 ? 6 : 0},
      {Kind::kGetTicket, stale > 0    ? 60
                         : active > 0 ? 4
                                      : 0},
      {Kind::kChooseSessions, regs > 0 ? 8 : 0},
      {Kind::kScan, 100},
      {Kind::kResend, scans ? 10 : 0},
      {Kind::kAnnul, scans ? 12 : 0},
      {Kind::kSetCapacity, 8},
      {Kind::kMoveEvent, moved_days_ + 2 <= kMaxMoveDays ? 4 : 0},
      {Kind::kRotateKey, 1},
      // A draft is published again soon, so that most scans meet an open event.
      {Kind::kSetPublished, model.published() ? 2 : 40},
  };
  int total = 0;
  for (const auto& [kind, weight] : weights) {
    if (!without_.count(std::string(KindName(kind)))) total += weight;
  }
  int roll = static_cast<int>(Uniform(total));
  for (const auto& [kind, weight] : weights) {
    if (without_.count(std::string(KindName(kind)))) continue;
    if (roll < weight) return kind;
    roll -= weight;
  }
  return Kind::kScan;
}

// At most one breakout per round, or none.
std::vector<Place> Generator::RandomChoices() {
  std::vector<Place> choices;
  if (const int r1 = static_cast<int>(Uniform(10)); r1 >= 3) {
    choices.push_back(r1 < 7 ? Place::kB1 : Place::kB2);
  }
  if (Percent(60)) choices.push_back(Place::kB3);
  return choices;
}

// A random registration, among those whose status is in `preferred` when there are any.
int Generator::PickRegistration(const Model& model, const std::set<RegistrationStatus>& preferred) {
  std::vector<int> labels;
  for (const auto& [label, r] : model.registrations()) {
    if (preferred.count(r.status)) labels.push_back(label);
  }
  if (labels.empty()) {
    for (const auto& [label, r] : model.registrations()) labels.push_back(label);
  }
  return labels.empty() ? -1 : labels[Uniform(labels.size())];
}

// Mostly a registration whose current code's key was revoked: GetTicket should replace it.
int Generator::PickForGetTicket(const Model& model) {
  std::vector<int> stale;
  for (const auto& [label, r] : model.registrations()) {
    if (r.status != v1::Registration::CANCELED && model.KeyRevoked(r.codes.back().key_id)) {
      stale.push_back(label);
    }
  }
  if (!stale.empty() && Percent(80)) return stale[Uniform(stale.size())];
  return PickRegistration(model, kActive);
}

Operation Generator::Scan(const Model& model) {
  Operation op;
  op.kind = Kind::kScan;
  op.scan = next_scan_++;
  // Often the same ticket at the same checkpoint as the last scan, so that entries, exits,
  // duplicates and late scans meet.
  if (last_reg_ >= 0 && Percent(40)) {
    op.reg = last_reg_;
    op.place = last_place_;
  } else {
    op.reg = PickRegistration(model, Percent(75) ? kConfirmed : kAny);
    op.place = RandomPlace(model, op.reg);
  }
  op.direction = Percent(65) ? Direction::kEntry : Direction::kExit;
  const uint64_t code = Uniform(100);
  op.code = code < 85   ? CodePick::kCurrent
            : code < 92 ? CodePick::kPrevious
            : code < 96 ? CodePick::kOtherEvent
                        : CodePick::kGarbage;
  if (op.reg < 0) op.code = CodePick::kOtherEvent;
  if (op.code == CodePick::kOtherEvent || op.code == CodePick::kGarbage) op.reg = -1;
  // The plenary is scanned by device 1 alone, whose clock never goes back: there, scans are in
  // canonical order, so SESSION_FULL counts the room as it is.
  op.device = op.place == Place::kPlenary ? 1 : 1 + static_cast<int>(Uniform(2));
  op.at = clock_;
  if (op.device == 2) {
    op.at += skew2_;
    if (late_scans_ && Percent(20)) op.at -= kTick * static_cast<int64_t>(1 + Uniform(10));
  }
  if (op.direction == Direction::kEntry && Percent(4)) {
    // An entry outside every window: yesterday (before the last move), before the doors open,
    // or after the end. A refused entry is final, so it may come at any time.
    const absl::Duration odd[] = {clock_ - absl::Hours(24), absl::Minutes(-45),
                                  absl::Minutes(10 * 60 + 30)};
    op.at = odd[Uniform(3)];
  }
  if (op.reg >= 0) {
    last_reg_ = op.reg;
    last_place_ = op.place;
  }
  return op;
}

Place Generator::RandomPlace(const Model& model, int reg) {
  const uint64_t roll = Uniform(100);
  if (roll < 40) return Place::kEntrance;
  if (roll < 65) return Place::kPlenary;
  if (reg >= 0 && Percent(75)) {
    const std::vector<Model::Choice>& choices = model.registration(reg).choices;
    if (!choices.empty()) return choices[Uniform(choices.size())].session;
  }
  return kBreakouts[Uniform(3)];
}

}  // namespace turnout::testing::model
