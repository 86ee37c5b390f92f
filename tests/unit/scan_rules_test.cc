// Tests of the scanning rules: a table of (ticket state × checkpoint × presence × scan) → status,
// then presence transitions, counts and the door messages.
#include "server/domain/scan_rules.h"

#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/validation.h"

namespace turnout::domain {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kEvent = 7;
constexpr int64_t kOtherEvent = 8;  // the same day in another city
constexpr int64_t kPlenary = 100;
constexpr int64_t kChosenBreakout = 101;
constexpr int64_t kOtherBreakout = 102;

const absl::Time kDoorsOpen = absl::FromUnixSeconds(1767196800);  // 08:00 on the day
const absl::Time kDoorsClose = kDoorsOpen + absl::Hours(10);

absl::Time At(absl::Duration after_doors_open) { return kDoorsOpen + after_doors_open; }
const absl::Time kMorning = At(absl::Hours(1));

const std::vector<ScanStatus> kAllStatuses = {
    ScanStatus::kAdmitted,
    ScanStatus::kExitRecorded,
    ScanStatus::kAlreadyCheckedIn,
    ScanStatus::kWrongEvent,
    ScanStatus::kNotRegisteredForSession,
    ScanStatus::kSessionFull,
    ScanStatus::kCanceled,
    ScanStatus::kRevoked,
    ScanStatus::kInvalid,
    ScanStatus::kOutsideCheckinWindow,
};

// --- Ticket states: a good ticket, and modifiers that each break one thing. ---

// A confirmed attendee of kEvent who chose kChosenBreakout; the code is valid all day.
TicketView Ticket() {
  TicketView t;
  t.code_valid = true;
  t.known = true;
  t.event_id = kEvent;
  t.not_after = kDoorsClose;
  t.confirmed_session_ids = {kChosenBreakout};
  return t;
}
TicketView Tampered(TicketView t) {
  t.code_valid = false;
  return t;
}
TicketView Unknown(TicketView t) {
  t.known = false;
  return t;
}
TicketView Superseded(TicketView t) {
  t.superseded = true;
  return t;
}
TicketView KeyRevoked(TicketView t) {
  t.key_revoked = true;
  return t;
}
TicketView ForOtherEvent(TicketView t) {
  t.event_id = kOtherEvent;
  return t;
}
TicketView Canceled(TicketView t) {
  t.registration = RegistrationStatus::kCanceled;
  return t;
}
TicketView Waitlisted(TicketView t) {
  t.registration = RegistrationStatus::kWaitlisted;
  return t;
}
TicketView ExpiresAt(TicketView t, absl::Time not_after) {
  t.not_after = not_after;
  return t;
}

// --- Checkpoints. ---

CheckpointView Entrance() {
  CheckpointView c;
  c.event_id = kEvent;
  c.opens_at = kDoorsOpen;
  c.closes_at = kDoorsClose;
  return c;
}
// A breakout room picked in advance.
CheckpointView Breakout(int64_t session_id) {
  CheckpointView c = Entrance();
  c.session_id = session_id;
  c.requires_selection = true;
  return c;
}
// An open plenary: anyone confirmed for the event may enter while there is room.
CheckpointView Plenary() {
  CheckpointView c = Entrance();
  c.session_id = kPlenary;
  return c;
}
CheckpointView WithRoom(CheckpointView c, int32_t capacity, int32_t inside_count) {
  c.capacity = capacity;
  c.inside_count = inside_count;
  return c;
}
CheckpointView NoReentry(CheckpointView c) {
  c.allow_reentry = false;
  return c;
}
// At an event that is not PUBLISHED: a DRAFT, or CANCELED.
CheckpointView EventNotPublished(CheckpointView c) {
  c.event_published = false;
  return c;
}

// --- Presence at the checkpoint before the scan. ---

PresenceView NeverEntered() { return PresenceView{}; }
PresenceView Inside() {
  return PresenceView{true, true, At(absl::Minutes(10)), At(absl::Minutes(10))};
}
PresenceView LeftAfterEntering() {
  return PresenceView{true, false, At(absl::Minutes(10)), At(absl::Minutes(40))};
}

// --- Scans. ---

ScanAttempt Entry(absl::Time at = kMorning) { return ScanAttempt{Direction::kEntry, at}; }
ScanAttempt Exit(absl::Time at = kMorning) { return ScanAttempt{Direction::kExit, at}; }

struct Row {
  const char* name;
  TicketView ticket;
  CheckpointView checkpoint;
  PresenceView presence;
  ScanAttempt scan;
  ScanStatus want;
};

const Row kRows[] = {
    // The ordinary case at each kind of checkpoint.
    {"AdmittedAtEntrance", Ticket(), Entrance(), NeverEntered(), Entry(), ScanStatus::kAdmitted},
    {"AdmittedAtChosenBreakout", Ticket(), Breakout(kChosenBreakout), NeverEntered(), Entry(),
     ScanStatus::kAdmitted},
    {"AdmittedAtOpenPlenaryWithoutChoosingIt", Ticket(), Plenary(), NeverEntered(), Entry(),
     ScanStatus::kAdmitted},

    // 1 INVALID comes first, whatever else is wrong.
    {"TamperedCode", Tampered(Ticket()), Entrance(), NeverEntered(), Entry(), ScanStatus::kInvalid},
    {"UnknownTicket", Unknown(Ticket()), Entrance(), NeverEntered(), Entry(), ScanStatus::kInvalid},
    {"TamperedBeatsRevoked", Tampered(KeyRevoked(Ticket())), Entrance(), NeverEntered(), Entry(),
     ScanStatus::kInvalid},
    {"UnknownBeatsWrongEvent", Unknown(ForOtherEvent(Ticket())), Entrance(), NeverEntered(),
     Entry(), ScanStatus::kInvalid},
    {"TamperedExitIsInvalid", Tampered(Ticket()), Entrance(), Inside(), Exit(),
     ScanStatus::kInvalid},

    // 2 REVOKED.
    {"SupersededByReissue", Superseded(Ticket()), Entrance(), NeverEntered(), Entry(),
     ScanStatus::kRevoked},
    {"SigningKeyRevoked", KeyRevoked(Ticket()), Entrance(), NeverEntered(), Entry(),
     ScanStatus::kRevoked},
    {"RevokedBeatsWrongEvent", Superseded(ForOtherEvent(Ticket())), Entrance(), NeverEntered(),
     Entry(), ScanStatus::kRevoked},
    {"RevokedBeatsCanceled", KeyRevoked(Canceled(Ticket())), Entrance(), NeverEntered(), Entry(),
     ScanStatus::kRevoked},
    {"RevokedBeatsWrongEventOnExit", Superseded(ForOtherEvent(Ticket())), Entrance(),
     NeverEntered(), Exit(), ScanStatus::kRevoked},

    // 3 WRONG_EVENT.
    {"TicketForAnotherEvent", ForOtherEvent(Ticket()), Entrance(), NeverEntered(), Entry(),
     ScanStatus::kWrongEvent},
    {"WrongEventBeatsCanceled", ForOtherEvent(Canceled(Ticket())), Entrance(), NeverEntered(),
     Entry(), ScanStatus::kWrongEvent},
    {"WrongEventExitIsRefused", ForOtherEvent(Ticket()), Entrance(), NeverEntered(), Exit(),
     ScanStatus::kWrongEvent},
    {"WrongEventBeatsWindow", ForOtherEvent(Ticket()), Entrance(), NeverEntered(),
     Entry(kDoorsClose + absl::Hours(1)), ScanStatus::kWrongEvent},

    // 4 CANCELED.
    {"CanceledRegistration", Canceled(Ticket()), Entrance(), NeverEntered(), Entry(),
     ScanStatus::kCanceled},
    {"CanceledBeatsWindow", Canceled(Ticket()), Entrance(), NeverEntered(),
     Entry(kDoorsOpen - absl::Hours(1)), ScanStatus::kCanceled},
    {"CanceledBeatsAlreadyInside", Canceled(Ticket()), Entrance(), Inside(), Entry(),
     ScanStatus::kCanceled},

    // 2 An exit by a genuine ticket of this event is always recorded: refusing it would keep
    // its holder "inside" for good, and a room full.
    {"ExitOfCanceledRegistration", Canceled(Ticket()), Entrance(), Inside(), Exit(),
     ScanStatus::kExitRecorded},
    {"ExitOfCanceledRegistrationFromRoom", Canceled(Ticket()), WithRoom(Plenary(), 1, 1), Inside(),
     Exit(), ScanStatus::kExitRecorded},
    {"ExitOfReissuedCode", Superseded(Ticket()), Entrance(), Inside(), Exit(),
     ScanStatus::kExitRecorded},
    {"ExitOfCodeWithRevokedKey", KeyRevoked(Ticket()), Entrance(), Inside(), Exit(),
     ScanStatus::kExitRecorded},
    {"ExitOfCanceledAndReissued", Superseded(Canceled(Ticket())), Entrance(), Inside(), Exit(),
     ScanStatus::kExitRecorded},
    {"ExitWhileInside", Ticket(), Entrance(), Inside(), Exit(), ScanStatus::kExitRecorded},
    {"ExitAfterDoorsClose", Ticket(), Entrance(), Inside(), Exit(kDoorsClose + absl::Hours(2)),
     ScanStatus::kExitRecorded},
    {"ExitBeforeDoorsOpen", Ticket(), Entrance(), NeverEntered(),
     Exit(kDoorsOpen - absl::Minutes(5)), ScanStatus::kExitRecorded},
    {"ExitAfterTicketExpired", ExpiresAt(Ticket(), At(absl::Hours(2))), Entrance(), Inside(),
     Exit(At(absl::Hours(3))), ScanStatus::kExitRecorded},
    {"DuplicateExit", Ticket(), Entrance(), LeftAfterEntering(), Exit(), ScanStatus::kExitRecorded},
    {"ExitWithoutEverEntering", Ticket(), Entrance(), NeverEntered(), Exit(),
     ScanStatus::kExitRecorded},
    {"ExitByWaitlisted", Waitlisted(Ticket()), Entrance(), NeverEntered(), Exit(),
     ScanStatus::kExitRecorded},
    {"ExitFromBreakoutNotChosen", Ticket(), Breakout(kOtherBreakout), Inside(), Exit(),
     ScanStatus::kExitRecorded},
    {"ExitFromFullSession", Ticket(), WithRoom(Plenary(), 50, 50), Inside(), Exit(),
     ScanStatus::kExitRecorded},
    {"ExitWhereReentryIsNotAllowed", Ticket(), NoReentry(Entrance()), Inside(), Exit(),
     ScanStatus::kExitRecorded},

    // 6 OUTSIDE_CHECKIN_WINDOW, with the boundaries: [opens_at, closes_at) and at <= not_after.
    {"EntryBeforeDoorsOpen", Ticket(), Entrance(), NeverEntered(),
     Entry(kDoorsOpen - absl::Seconds(1)), ScanStatus::kOutsideCheckinWindow},
    {"EntryExactlyWhenDoorsOpen", Ticket(), Entrance(), NeverEntered(), Entry(kDoorsOpen),
     ScanStatus::kAdmitted},
    {"EntryJustBeforeDoorsClose", Ticket(), Entrance(), NeverEntered(),
     Entry(kDoorsClose - absl::Seconds(1)), ScanStatus::kAdmitted},
    {"EntryExactlyWhenDoorsClose", Ticket(), Entrance(), NeverEntered(), Entry(kDoorsClose),
     ScanStatus::kOutsideCheckinWindow},
    {"EntryExactlyAtTicketExpiry", ExpiresAt(Ticket(), At(absl::Hours(2))), Entrance(),
     NeverEntered(), Entry(At(absl::Hours(2))), ScanStatus::kAdmitted},
    {"EntryAfterTicketExpired", ExpiresAt(Ticket(), At(absl::Hours(2))), Entrance(), NeverEntered(),
     Entry(At(absl::Hours(2)) + absl::Seconds(1)), ScanStatus::kOutsideCheckinWindow},
    {"WindowBeatsWaitlisted", Waitlisted(Ticket()), Entrance(), NeverEntered(),
     Entry(kDoorsOpen - absl::Minutes(1)), ScanStatus::kOutsideCheckinWindow},
    {"WindowBeatsBreakoutNotChosen", Ticket(), Breakout(kOtherBreakout), NeverEntered(),
     Entry(kDoorsClose), ScanStatus::kOutsideCheckinWindow},
    {"WindowBeatsAlreadyInside", Ticket(), Entrance(), Inside(), Entry(kDoorsClose),
     ScanStatus::kOutsideCheckinWindow},
    // A DRAFT or CANCELED event has no check-in window: nobody is admitted, anywhere.
    {"EntryAtUnpublishedEvent", Ticket(), EventNotPublished(Entrance()), NeverEntered(), Entry(),
     ScanStatus::kOutsideCheckinWindow},
    {"EntryToRoomOfUnpublishedEvent", Ticket(), EventNotPublished(Breakout(kChosenBreakout)),
     NeverEntered(), Entry(), ScanStatus::kOutsideCheckinWindow},
    {"UnpublishedEventBeatsWaitlisted", Waitlisted(Ticket()), EventNotPublished(Entrance()),
     NeverEntered(), Entry(), ScanStatus::kOutsideCheckinWindow},
    {"UnpublishedEventBeatsAlreadyInside", Ticket(), EventNotPublished(Entrance()), Inside(),
     Entry(), ScanStatus::kOutsideCheckinWindow},
    {"UnpublishedEventBeatsFull", Ticket(), EventNotPublished(WithRoom(Plenary(), 50, 50)),
     NeverEntered(), Entry(), ScanStatus::kOutsideCheckinWindow},
    {"CanceledBeatsUnpublishedEvent", Canceled(Ticket()), EventNotPublished(Entrance()),
     NeverEntered(), Entry(), ScanStatus::kCanceled},
    {"WrongEventBeatsUnpublishedEvent", ForOtherEvent(Ticket()), EventNotPublished(Entrance()),
     NeverEntered(), Entry(), ScanStatus::kWrongEvent},
    {"RevokedBeatsUnpublishedEvent", Superseded(Ticket()), EventNotPublished(Entrance()),
     NeverEntered(), Entry(), ScanStatus::kRevoked},
    {"ExitAtUnpublishedEvent", Ticket(), EventNotPublished(Entrance()), Inside(), Exit(),
     ScanStatus::kExitRecorded},

    // 7 NOT_REGISTERED_FOR_SESSION.
    {"WaitlistedAtEntrance", Waitlisted(Ticket()), Entrance(), NeverEntered(), Entry(),
     ScanStatus::kNotRegisteredForSession},
    {"WaitlistedAtOpenPlenary", Waitlisted(Ticket()), Plenary(), NeverEntered(), Entry(),
     ScanStatus::kNotRegisteredForSession},
    {"WaitlistedAtChosenBreakout", Waitlisted(Ticket()), Breakout(kChosenBreakout), NeverEntered(),
     Entry(), ScanStatus::kNotRegisteredForSession},
    {"BreakoutNotChosen", Ticket(), Breakout(kOtherBreakout), NeverEntered(), Entry(),
     ScanStatus::kNotRegisteredForSession},
    {"NotChosenBeatsAlreadyInside", Ticket(), Breakout(kOtherBreakout), Inside(), Entry(),
     ScanStatus::kNotRegisteredForSession},
    {"NotChosenBeatsFull", Ticket(), WithRoom(Breakout(kOtherBreakout), 20, 20), NeverEntered(),
     Entry(), ScanStatus::kNotRegisteredForSession},

    // 8 ALREADY_CHECKED_IN, and re-entry.
    {"EntryWhileInside", Ticket(), Entrance(), Inside(), Entry(), ScanStatus::kAlreadyCheckedIn},
    {"EntryWhileInsideBreakout", Ticket(), Breakout(kChosenBreakout), Inside(), Entry(),
     ScanStatus::kAlreadyCheckedIn},
    {"ReentryAfterExit", Ticket(), Entrance(), LeftAfterEntering(), Entry(), ScanStatus::kAdmitted},
    {"ReentryRefusedWhenNotAllowed", Ticket(), NoReentry(Entrance()), LeftAfterEntering(), Entry(),
     ScanStatus::kAlreadyCheckedIn},
    {"FirstEntryWhereReentryIsNotAllowed", Ticket(), NoReentry(Entrance()), NeverEntered(), Entry(),
     ScanStatus::kAdmitted},
    {"AlreadyInsideFullSession", Ticket(), WithRoom(Plenary(), 50, 50), Inside(), Entry(),
     ScanStatus::kAlreadyCheckedIn},

    // 9 SESSION_FULL, only for open sessions.
    {"OpenSessionAtCapacity", Ticket(), WithRoom(Plenary(), 50, 50), NeverEntered(), Entry(),
     ScanStatus::kSessionFull},
    {"OpenSessionOverCapacity", Ticket(), WithRoom(Plenary(), 50, 53), NeverEntered(), Entry(),
     ScanStatus::kSessionFull},
    {"OpenSessionWithOneSeatLeft", Ticket(), WithRoom(Plenary(), 50, 49), NeverEntered(), Entry(),
     ScanStatus::kAdmitted},
    {"OpenSessionUnlimited", Ticket(), WithRoom(Plenary(), 0, 5000), NeverEntered(), Entry(),
     ScanStatus::kAdmitted},
    {"ReentryToFullSessionAfterExit", Ticket(), WithRoom(Plenary(), 50, 50), LeftAfterEntering(),
     Entry(), ScanStatus::kSessionFull},
    {"ChosenBreakoutIsNotCheckedForCapacity", Ticket(), WithRoom(Breakout(kChosenBreakout), 20, 25),
     NeverEntered(), Entry(), ScanStatus::kAdmitted},
    {"EntranceIsNotCheckedForCapacity", Ticket(), WithRoom(Entrance(), 300, 300), NeverEntered(),
     Entry(), ScanStatus::kAdmitted},
};

// Failures name the row rather than dumping its bytes.
void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

class DecideScanTable : public ::testing::TestWithParam<Row> {};

TEST_P(DecideScanTable, GivesTheFirstFailingRule) {
  const Row& row = GetParam();
  const ScanDecision decision = DecideScan(row.ticket, row.checkpoint, row.presence, row.scan);
  EXPECT_EQ(ScanStatusName(decision.status), ScanStatusName(row.want));
}

INSTANTIATE_TEST_SUITE_P(Rules, DecideScanTable, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           return std::string(info.param.name);
                         });

TEST(DecideScanTest, TableReachesEveryStatus) {
  std::set<ScanStatus> reached;
  for (const Row& row : kRows) reached.insert(row.want);
  for (ScanStatus status : kAllStatuses) {
    EXPECT_EQ(reached.count(status), 1u) << ScanStatusName(status) << " has no row";
  }
}

TEST(DecideScanTest, AcceptedOnlyForAdmittedAndExitRecorded) {
  for (ScanStatus status : kAllStatuses) {
    const bool want = status == ScanStatus::kAdmitted || status == ScanStatus::kExitRecorded;
    EXPECT_EQ(ScanDecision{status}.accepted(), want) << ScanStatusName(status);
  }
}

TEST(ScanStatusNameTest, MatchesTheApiNames) {
  const std::pair<ScanStatus, const char*> kNames[] = {
      {ScanStatus::kAdmitted, "ADMITTED"},
      {ScanStatus::kExitRecorded, "EXIT_RECORDED"},
      {ScanStatus::kAlreadyCheckedIn, "ALREADY_CHECKED_IN"},
      {ScanStatus::kWrongEvent, "WRONG_EVENT"},
      {ScanStatus::kNotRegisteredForSession, "NOT_REGISTERED_FOR_SESSION"},
      {ScanStatus::kSessionFull, "SESSION_FULL"},
      {ScanStatus::kCanceled, "CANCELED"},
      {ScanStatus::kRevoked, "REVOKED"},
      {ScanStatus::kInvalid, "INVALID"},
      {ScanStatus::kOutsideCheckinWindow, "OUTSIDE_CHECKIN_WINDOW"},
  };
  for (const auto& [status, name] : kNames) {
    EXPECT_EQ(ScanStatusName(status), name);
    EXPECT_EQ(ScanStatusFromName(name), status) << name;
  }
}

TEST(ScanStatusNameTest, FromNameRejectsAnythingElse) {
  for (const char* name : {"", "admitted", "Admitted", "ADMITTED ", "STATUS_UNSPECIFIED",
                           "SCAN_STATUS_ADMITTED", "kAdmitted"}) {
    EXPECT_EQ(ScanStatusFromName(name), std::nullopt) << '"' << name << '"';
  }
}

// --- Presence transitions. ---

auto Fields(const PresenceView& p) {
  return std::make_tuple(p.ever_admitted, p.inside, p.first_entry_at, p.last_change_at);
}

TEST(ApplyScanTest, FirstAdmissionSetsFirstEntryAndInside) {
  const absl::Time t = At(absl::Minutes(5));
  const PresenceView after =
      ApplyScan(NeverEntered(), ScanDecision{ScanStatus::kAdmitted}, Entry(t));
  EXPECT_EQ(Fields(after), std::make_tuple(true, true, t, t));
}

TEST(ApplyScanTest, ReentryKeepsFirstEntry) {
  const PresenceView before = LeftAfterEntering();
  const absl::Time t = At(absl::Hours(2));
  const PresenceView after = ApplyScan(before, ScanDecision{ScanStatus::kAdmitted}, Entry(t));
  EXPECT_EQ(Fields(after), std::make_tuple(true, true, before.first_entry_at, t));
}

TEST(ApplyScanTest, ExitLeavesCheckedInButNotInside) {
  const PresenceView before = Inside();
  const absl::Time t = At(absl::Hours(3));
  const PresenceView after = ApplyScan(before, ScanDecision{ScanStatus::kExitRecorded}, Exit(t));
  EXPECT_EQ(Fields(after), std::make_tuple(true, false, before.first_entry_at, t));
}

TEST(ApplyScanTest, ExitWithoutEntryDoesNotCountAsCheckedIn) {
  const absl::Time t = At(absl::Hours(3));
  const PresenceView after =
      ApplyScan(NeverEntered(), ScanDecision{ScanStatus::kExitRecorded}, Exit(t));
  EXPECT_FALSE(after.ever_admitted);
  EXPECT_FALSE(after.inside);
  EXPECT_EQ(after.last_change_at, t);
}

TEST(ApplyScanTest, RefusedScansChangeNothing) {
  for (const PresenceView& before : {NeverEntered(), Inside(), LeftAfterEntering()}) {
    for (ScanStatus status : kAllStatuses) {
      if (ScanDecision{status}.accepted()) continue;
      for (const ScanAttempt& scan : {Entry(At(absl::Hours(4))), Exit(At(absl::Hours(4)))}) {
        EXPECT_EQ(Fields(ApplyScan(before, ScanDecision{status}, scan)), Fields(before))
            << ScanStatusName(status);
      }
    }
  }
}

// A door session: decide, apply, decide again — the way the store drives the rules.
TEST(ApplyScanTest, EntryDuplicateExitDuplicateExitReentry) {
  const TicketView ticket = Ticket();
  const CheckpointView door = Entrance();
  PresenceView presence;
  auto scan = [&](const ScanAttempt& attempt) {
    const ScanDecision d = DecideScan(ticket, door, presence, attempt);
    presence = ApplyScan(presence, d, attempt);
    return ScanStatusName(d.status);
  };
  EXPECT_EQ(scan(Entry(At(absl::Minutes(1)))), "ADMITTED");
  EXPECT_EQ(scan(Entry(At(absl::Minutes(2)))), "ALREADY_CHECKED_IN");
  EXPECT_EQ(scan(Exit(At(absl::Minutes(30)))), "EXIT_RECORDED");
  EXPECT_EQ(scan(Exit(At(absl::Minutes(31)))), "EXIT_RECORDED");
  EXPECT_EQ(scan(Entry(At(absl::Minutes(45)))), "ADMITTED");
  EXPECT_EQ(presence.first_entry_at, At(absl::Minutes(1)));
  EXPECT_EQ(presence.last_change_at, At(absl::Minutes(45)));
  EXPECT_TRUE(presence.inside);
}

// ReplayPresence settles a ticket's scans in canonical order (docs/design.md).
std::vector<std::string> Replayed(const std::vector<LoggedScan>& scans, bool allow_reentry,
                                  PresenceView* presence = nullptr) {
  const PresenceReplay replay = ReplayPresence(scans, allow_reentry);
  if (presence != nullptr) *presence = replay.presence;
  std::vector<std::string> names;
  for (const ReplayedScan& s : replay.scans) names.emplace_back(ScanStatusName(s.status));
  return names;
}

LoggedScan In(absl::Duration at) { return {Direction::kEntry, At(at)}; }
LoggedScan Out(absl::Duration at) { return {Direction::kExit, At(at)}; }

TEST(ReplayPresenceTest, DecidesEachScanAsTheLiveRulesWouldInThisOrder) {
  PresenceView presence;
  EXPECT_THAT(Replayed({In(absl::Minutes(1)), In(absl::Minutes(2)), Out(absl::Minutes(3)),
                        Out(absl::Minutes(4)), In(absl::Minutes(5))},
                       true, &presence),
              ::testing::ElementsAre("ADMITTED", "ALREADY_CHECKED_IN", "EXIT_RECORDED",
                                     "EXIT_RECORDED", "ADMITTED"));
  EXPECT_TRUE(presence.inside);
  EXPECT_EQ(presence.first_entry_at, At(absl::Minutes(1)));
  EXPECT_EQ(presence.last_change_at, At(absl::Minutes(5)));
}

TEST(ReplayPresenceTest, AnEarlierExitMakesALaterDuplicateAnAdmission) {
  // Live, in arrival order, the entry at 4' was a duplicate; the exit at 3' arrived late.
  EXPECT_THAT(Replayed({In(absl::Minutes(1)), Out(absl::Minutes(3)), In(absl::Minutes(4))}, true),
              ::testing::ElementsAre("ADMITTED", "EXIT_RECORDED", "ADMITTED"));
}

TEST(ReplayPresenceTest, WithoutReentryEveryLaterEntryIsADuplicate) {
  PresenceView presence;
  EXPECT_THAT(Replayed({In(absl::Minutes(1)), Out(absl::Minutes(2)), In(absl::Minutes(3))}, false,
                       &presence),
              ::testing::ElementsAre("ADMITTED", "EXIT_RECORDED", "ALREADY_CHECKED_IN"));
  EXPECT_FALSE(presence.inside);
}

TEST(ReplayPresenceTest, ADuplicateCarriesTheFirstEntry) {
  const PresenceReplay replay = ReplayPresence({In(absl::Minutes(7)), In(absl::Minutes(9))}, true);
  ASSERT_EQ(replay.scans.size(), 2u);
  EXPECT_FALSE(replay.scans[0].first_entry_at.has_value());
  EXPECT_EQ(replay.scans[1].first_entry_at, At(absl::Minutes(7)));
}

TEST(ReplayPresenceTest, NothingLeavesNobodyInside) {
  PresenceView presence;
  EXPECT_THAT(Replayed({}, true, &presence), ::testing::IsEmpty());
  EXPECT_FALSE(presence.ever_admitted);
  EXPECT_FALSE(presence.inside);
}

TEST(ApplyScanTest, NoReentryDoorRefusesTheSecondEntry) {
  const TicketView ticket = Ticket();
  const CheckpointView door = NoReentry(Entrance());
  PresenceView presence;
  auto scan = [&](const ScanAttempt& attempt) {
    const ScanDecision d = DecideScan(ticket, door, presence, attempt);
    presence = ApplyScan(presence, d, attempt);
    return ScanStatusName(d.status);
  };
  EXPECT_EQ(scan(Entry(At(absl::Minutes(1)))), "ADMITTED");
  EXPECT_EQ(scan(Exit(At(absl::Minutes(30)))), "EXIT_RECORDED");
  EXPECT_EQ(scan(Entry(At(absl::Minutes(45)))), "ALREADY_CHECKED_IN");
  EXPECT_FALSE(presence.inside);
}

// Three people and a plenary room with two seats, counting `inside` with Tally as the store does.
TEST(ApplyScanTest, OpenRoomFillsAndFreesASeat) {
  CheckpointView room = WithRoom(Plenary(), 2, 0);
  std::vector<PresenceView> people(3);
  auto scan = [&](size_t who, const ScanAttempt& attempt) {
    room.inside_count = static_cast<int32_t>(Tally(people, 3, room.capacity).inside);
    const ScanDecision d = DecideScan(Ticket(), room, people[who], attempt);
    people[who] = ApplyScan(people[who], d, attempt);
    return ScanStatusName(d.status);
  };
  EXPECT_EQ(scan(0, Entry()), "ADMITTED");
  EXPECT_EQ(scan(1, Entry()), "ADMITTED");
  EXPECT_EQ(scan(2, Entry()), "SESSION_FULL");
  EXPECT_EQ(scan(0, Entry()), "ALREADY_CHECKED_IN");
  EXPECT_EQ(scan(1, Exit()), "EXIT_RECORDED");
  EXPECT_EQ(scan(2, Entry()), "ADMITTED");
  EXPECT_EQ(scan(1, Entry()), "SESSION_FULL");
}

// --- Counts. ---

TEST(TallyTest, NoPresencesPassesThroughRegisteredAndCapacity) {
  const CheckpointCounts c = Tally({}, 120, 80);
  EXPECT_EQ(std::make_tuple(c.registered, c.checked_in, c.inside, c.capacity),
            std::make_tuple(120, 0, 0, 80));
}

TEST(TallyTest, CountsUniquePeopleAdmittedAndThoseInside) {
  const std::vector<PresenceView> presences = {
      NeverEntered(),       // registered, not here yet
      Inside(),             // here
      Inside(),             // here
      LeftAfterEntering(),  // came and went: checked in, not inside
      ApplyScan(NeverEntered(), ScanDecision{ScanStatus::kExitRecorded}, Exit()),  // stray exit
  };
  const CheckpointCounts c = Tally(presences, 5, 0);
  EXPECT_EQ(std::make_tuple(c.registered, c.checked_in, c.inside, c.capacity),
            std::make_tuple(5, 3, 2, 0));
}

// --- Door messages. ---

TEST(ScanMessageTest, EveryStatusHasDistinctShortEnglishAndSpanish) {
  std::set<std::string> en_seen, es_seen;
  for (ScanStatus status : kAllStatuses) {
    const std::string en = ScanMessage(status, "en");
    const std::string es = ScanMessage(status, "es");
    SCOPED_TRACE(ScanStatusName(status));
    EXPECT_FALSE(en.empty());
    EXPECT_FALSE(es.empty());
    EXPECT_NE(en, es);
    // A glance at a phone screen in a doorway: one short line.
    EXPECT_LE(en.size(), 72u) << en;
    EXPECT_LE(es.size(), 72u) << es;
    EXPECT_TRUE(IsValidUtf8(en));
    EXPECT_TRUE(IsValidUtf8(es));
    EXPECT_TRUE(en_seen.insert(en).second) << "repeated: " << en;
    EXPECT_TRUE(es_seen.insert(es).second) << "repeated: " << es;
  }
}

TEST(ScanMessageTest, SaysWhatHappened) {
  EXPECT_EQ(ScanMessage(ScanStatus::kAdmitted, "en"), "Welcome — admitted");
  EXPECT_EQ(ScanMessage(ScanStatus::kAdmitted, "es"), "Bienvenida/o — admitida/o");
  EXPECT_THAT(ScanMessage(ScanStatus::kAlreadyCheckedIn, "en"), HasSubstr("Duplicate"));
  EXPECT_THAT(ScanMessage(ScanStatus::kAlreadyCheckedIn, "es"), HasSubstr("Duplicado"));
  EXPECT_THAT(ScanMessage(ScanStatus::kWrongEvent, "en"), HasSubstr("another event"));
  EXPECT_THAT(ScanMessage(ScanStatus::kWrongEvent, "es"), HasSubstr("otro evento"));
  EXPECT_THAT(ScanMessage(ScanStatus::kExitRecorded, "en"), HasSubstr("Exit"));
  EXPECT_THAT(ScanMessage(ScanStatus::kExitRecorded, "es"), HasSubstr("Salida"));
  EXPECT_THAT(ScanMessage(ScanStatus::kSessionFull, "en"), HasSubstr("full"));
  EXPECT_THAT(ScanMessage(ScanStatus::kSessionFull, "es"), HasSubstr("llena"));
  EXPECT_THAT(ScanMessage(ScanStatus::kCanceled, "en"), HasSubstr("canceled"));
  EXPECT_THAT(ScanMessage(ScanStatus::kCanceled, "es"), HasSubstr("cancelada"));
  EXPECT_THAT(ScanMessage(ScanStatus::kRevoked, "en"), HasSubstr("revoked"));
  EXPECT_THAT(ScanMessage(ScanStatus::kRevoked, "es"), HasSubstr("revocado"));
  EXPECT_THAT(ScanMessage(ScanStatus::kInvalid, "en"), HasSubstr("Invalid"));
  EXPECT_THAT(ScanMessage(ScanStatus::kInvalid, "es"), HasSubstr("inválido"));
  EXPECT_THAT(ScanMessage(ScanStatus::kNotRegisteredForSession, "en"), HasSubstr("Not registered"));
  EXPECT_THAT(ScanMessage(ScanStatus::kNotRegisteredForSession, "es"), HasSubstr("inscripción"));
  EXPECT_THAT(ScanMessage(ScanStatus::kOutsideCheckinWindow, "en"), HasSubstr("hours"));
  EXPECT_THAT(ScanMessage(ScanStatus::kOutsideCheckinWindow, "es"), HasSubstr("horario"));
  // Refusals must not read like a welcome.
  for (ScanStatus status : kAllStatuses) {
    if (ScanDecision{status}.accepted()) continue;
    EXPECT_THAT(ScanMessage(status, "en"), Not(HasSubstr("Welcome"))) << ScanStatusName(status);
    EXPECT_THAT(ScanMessage(status, "es"), Not(HasSubstr("Bienvenid"))) << ScanStatusName(status);
  }
}

TEST(ScanMessageTest, AnySpanishRegionGivesSpanish) {
  for (const char* language : {"es", "ES", "Es", "es-MX", "es-419", "es-US", "es_MX"}) {
    for (ScanStatus status : kAllStatuses) {
      EXPECT_EQ(ScanMessage(status, language), ScanMessage(status, "es")) << language;
    }
  }
}

TEST(ScanMessageTest, OtherLanguagesFallBackToEnglish) {
  for (const char* language :
       {"", "en", "EN", "en-US", "fr", "pt-BR", "e", "esp", "spanish", "x-es", "-es", "zz-ZZ-ZZ"}) {
    for (ScanStatus status : kAllStatuses) {
      EXPECT_EQ(ScanMessage(status, language), ScanMessage(status, "en")) << language;
    }
  }
}

}  // namespace
}  // namespace turnout::domain
