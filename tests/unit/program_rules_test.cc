// Tests of the program rules (server/domain/program_rules.h): tables of events, sessions and
// updates, each with the status code and message an organizer would see.
#include "server/domain/program_rules.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::domain {
namespace {

using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1767258000);  // 09:00 UTC on the day
const absl::Time kEnd = kStart + absl::Hours(8);

EventPlan Event() {
  EventPlan e;
  e.title = "Organizing 101";
  e.venue = "Union Hall";
  e.time_zone = "America/Los_Angeles";
  e.start_time = kStart;
  e.end_time = kEnd;
  e.doors_open_time = kStart - kDefaultDoorsOpenEarly;
  e.capacity = 300;
  return e;
}

SessionPlan Breakout() {
  SessionPlan s;
  s.title = "Know your rights";
  s.track = "Workers' rights";
  s.room = "B2";
  s.round = 1;
  s.requires_selection = true;
  s.start_time = kStart + absl::Hours(2);
  s.end_time = kStart + absl::Hours(3);
  s.capacity = 40;
  return s;
}

struct Case {
  std::string name;
  absl::StatusCode code;
  std::string message;  // a part of the message; empty for OK
};

void ExpectStatus(const absl::Status& status, const Case& c) {
  EXPECT_EQ(status.code(), c.code) << c.name << ": " << status;
  if (!c.message.empty()) {
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.message)) << c.name;
  }
}

constexpr absl::StatusCode kOk = absl::StatusCode::kOk;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;

TEST(ProgramRulesTest, Capacity) {
  struct Row {
    int32_t capacity;
    absl::StatusCode code;
  };
  for (const Row& row : std::vector<Row>{
           {0, kOk}, {1, kOk}, {kMaxCapacity, kOk}, {-1, kInvalid}, {kMaxCapacity + 1, kInvalid}}) {
    const absl::Status s = CheckCapacity("event.capacity", row.capacity);
    EXPECT_EQ(s.code(), row.code) << row.capacity;
    if (!s.ok()) {
      EXPECT_EQ(s.message(), "event.capacity: must be between 0 (unlimited) and 1000000");
    }
  }
}

TEST(ProgramRulesTest, Event) {
  struct Row {
    Case expect;
    void (*change)(EventPlan&);
  };
  const std::vector<Row> rows = {
      {{"valid", kOk, ""}, [](EventPlan&) {}},
      {{"unlimited", kOk, ""}, [](EventPlan& e) { e.capacity = 0; }},
      {{"no venue", kOk, ""}, [](EventPlan& e) { e.venue = ""; }},
      {{"doors open after the start", kOk, ""},
       [](EventPlan& e) { e.doors_open_time = kStart + absl::Hours(1); }},
      {{"no title", kInvalid, "event.title"}, [](EventPlan& e) { e.title = ""; }},
      {{"venue too long", kInvalid, "event.venue"},
       [](EventPlan& e) { e.venue = std::string(301, 'v'); }},
      {{"unknown time zone", kInvalid, "event.time_zone"},
       [](EventPlan& e) { e.time_zone = "America/Atlantis"; }},
      {{"no time zone", kInvalid, "event.time_zone"}, [](EventPlan& e) { e.time_zone = ""; }},
      {{"negative capacity", kInvalid, "event.capacity: must be between 0"},
       [](EventPlan& e) { e.capacity = -5; }},
      {{"ends when it starts", kInvalid, "event.end_time: must be after event.start_time"},
       [](EventPlan& e) { e.end_time = e.start_time; }},
      {{"ends before it starts", kInvalid, "event.end_time: must be after event.start_time"},
       [](EventPlan& e) { e.end_time = e.start_time - absl::Minutes(1); }},
      {{"doors open at the end", kInvalid, "event.doors_open_time: must be before event.end_time"},
       [](EventPlan& e) { e.doors_open_time = e.end_time; }},
  };
  for (const Row& row : rows) {
    EventPlan e = Event();
    row.change(e);
    ExpectStatus(CheckEvent(e), row.expect);
  }
}

TEST(ProgramRulesTest, Session) {
  struct Row {
    Case expect;
    void (*change)(SessionPlan&);
  };
  const std::vector<Row> rows = {
      {{"valid breakout", kOk, ""}, [](SessionPlan&) {}},
      {{"plenary, no round", kOk, ""},
       [](SessionPlan& s) {
         s.round = 0;
         s.requires_selection = false;
       }},
      {{"last round", kOk, ""}, [](SessionPlan& s) { s.round = kMaxRound; }},
      {{"the evening before", kOk, ""},
       [](SessionPlan& s) {
         s.start_time = kStart - kSessionOutsideEvent;
         s.end_time = s.start_time + absl::Hours(2);
       }},
      {{"the morning after", kOk, ""},
       [](SessionPlan& s) {
         s.end_time = kEnd + kSessionOutsideEvent;
         s.start_time = s.end_time - absl::Hours(2);
       }},
      {{"no title", kInvalid, "session.title"}, [](SessionPlan& s) { s.title = ""; }},
      {{"track too long", kInvalid, "session.track"},
       [](SessionPlan& s) { s.track = std::string(101, 't'); }},
      {{"room too long", kInvalid, "session.room"},
       [](SessionPlan& s) { s.room = std::string(101, 'r'); }},
      {{"capacity too high", kInvalid, "session.capacity: must be between 0"},
       [](SessionPlan& s) { s.capacity = kMaxCapacity + 1; }},
      {{"negative round", kInvalid, "session.round: must be between 0 (no round) and 20"},
       [](SessionPlan& s) { s.round = -1; }},
      {{"round too high", kInvalid, "session.round: must be between 0 (no round) and 20"},
       [](SessionPlan& s) { s.round = kMaxRound + 1; }},
      {{"picked in advance without a round", kInvalid,
        "session.requires_selection: a session picked in advance needs a round"},
       [](SessionPlan& s) { s.round = 0; }},
      {{"ends when it starts", kInvalid, "session.end_time: must be after session.start_time"},
       [](SessionPlan& s) { s.end_time = s.start_time; }},
      {{"two days before", kInvalid, "session: must take place during its event"},
       [](SessionPlan& s) {
         s.start_time = kStart - kSessionOutsideEvent - absl::Minutes(1);
         s.end_time = s.start_time + absl::Hours(1);
       }},
      {{"two days after", kInvalid, "session: must take place during its event"},
       [](SessionPlan& s) {
         s.end_time = kEnd + kSessionOutsideEvent + absl::Minutes(1);
         s.start_time = s.end_time - absl::Hours(1);
       }},
  };
  for (const Row& row : rows) {
    SessionPlan s = Breakout();
    row.change(s);
    ExpectStatus(CheckSession(s, Event()), row.expect);
  }
}

TEST(ProgramRulesTest, EventChange) {
  struct Row {
    Case expect;
    void (*change)(EventPlan&);
    bool doors_open_given;
    std::optional<absl::Time> ticket_expiry;
    absl::Duration shift;        // expected session shift
    absl::Duration doors_moved;  // expected doors-open time minus the one before
  };
  const absl::Time expiry = kEnd + absl::Hours(24);
  const std::vector<Row> rows = {
      {{"new title", kOk, ""},
       [](EventPlan& e) { e.title = "Organizing 102"; },
       false,
       std::nullopt,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
      {{"postponed a week", kOk, ""},
       [](EventPlan& e) {
         e.start_time += absl::Hours(24 * 7);
         e.end_time += absl::Hours(24 * 7);
       },
       false,
       std::nullopt,
       absl::Hours(24 * 7),
       absl::Hours(24 * 7)},
      {{"brought forward an hour", kOk, ""},
       [](EventPlan& e) {
         e.start_time -= absl::Hours(1);
         e.end_time -= absl::Hours(1);
       },
       false,
       expiry,
       -absl::Hours(1),
       -absl::Hours(1)},
      {{"postponed, doors set by the update", kOk, ""},
       [](EventPlan& e) {
         e.start_time += absl::Hours(2);
         e.end_time += absl::Hours(2);
         e.doors_open_time += absl::Minutes(30);
       },
       true,
       std::nullopt,
       absl::Hours(2),
       absl::Minutes(30)},
      {{"start moved alone: no shift", kOk, ""},
       [](EventPlan& e) { e.start_time += absl::Hours(1); },
       false,
       std::nullopt,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
      {{"longer day: no shift", kOk, ""},
       [](EventPlan& e) {
         e.start_time -= absl::Hours(1);
         e.end_time += absl::Hours(1);
       },
       false,
       std::nullopt,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
      {{"ends at the tickets' expiry", kOk, ""},
       [](EventPlan& e) { e.end_time = kEnd + absl::Hours(24); },
       false,
       expiry,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
      {{"ends after the tickets expire", kPrecondition,
        "event.end_time: tickets already issued for this event expire at "
        "2026-01-02T17:00:00+00:00; "
        "an event cannot move past them; create a new event instead"},
       [](EventPlan& e) { e.end_time = kEnd + absl::Hours(25); },
       false,
       expiry,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
      {{"postponed past the tickets", kPrecondition, "tickets already issued"},
       [](EventPlan& e) {
         e.start_time += absl::Hours(24 * 7);
         e.end_time += absl::Hours(24 * 7);
       },
       false,
       expiry,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
      {{"postponed without tickets", kOk, ""},
       [](EventPlan& e) {
         e.start_time += absl::Hours(24 * 7);
         e.end_time += absl::Hours(24 * 7);
       },
       false,
       std::nullopt,
       absl::Hours(24 * 7),
       absl::Hours(24 * 7)},
      {{"doors moved past the end", kInvalid,
        "event.doors_open_time: must be before event.end_time"},
       [](EventPlan& e) { e.doors_open_time = e.end_time + absl::Hours(1); },
       true,
       std::nullopt,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
      {{"end moved before the start", kInvalid, "event.end_time: must be after"},
       [](EventPlan& e) { e.end_time = e.start_time - absl::Hours(1); },
       false,
       std::nullopt,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
      {{"a bad time zone is refused on any update", kInvalid, "event.time_zone"},
       [](EventPlan& e) { e.time_zone = "Mars/Olympus"; },
       false,
       std::nullopt,
       absl::ZeroDuration(),
       absl::ZeroDuration()},
  };
  for (const Row& row : rows) {
    const EventPlan before = Event();
    EventPlan after = before;
    row.change(after);
    absl::StatusOr<EventChange> change =
        ChangeEvent(before, after, row.doors_open_given, row.ticket_expiry);
    ExpectStatus(change.status(), row.expect);
    if (!change.ok()) continue;
    EXPECT_EQ(change->session_shift, row.shift) << row.expect.name;
    EXPECT_EQ(change->doors_open_time - before.doors_open_time, row.doors_moved) << row.expect.name;
  }
}

TEST(ProgramRulesTest, SessionChange) {
  struct Row {
    Case expect;
    void (*change)(SessionPlan&);
    int32_t chosen;  // seats and waitlist places taken
  };
  const std::vector<Row> rows = {
      {{"new round before anyone chose", kOk, ""}, [](SessionPlan& s) { s.round = 2; }, 0},
      {{"new round once chosen", kPrecondition,
        "session.round: attendees chose this session in its round; create a new session instead"},
       [](SessionPlan& s) { s.round = 2; },
       1},
      {{"capacity lowered below the seats taken", kOk, ""},
       [](SessionPlan& s) { s.capacity = 5; },
       30},
      {{"capacity raised once chosen", kOk, ""}, [](SessionPlan& s) { s.capacity = 80; }, 40},
      {{"moved once chosen", kOk, ""},
       [](SessionPlan& s) {
         s.start_time += absl::Hours(1);
         s.end_time += absl::Hours(1);
       },
       40},
      {{"new room once chosen", kOk, ""}, [](SessionPlan& s) { s.room = "Hall A"; }, 40},
      {{"an invalid session is refused first", kInvalid, "session.round: must be between"},
       [](SessionPlan& s) { s.round = 99; },
       3},
      {{"no longer picked in advance, round kept", kOk, ""},
       [](SessionPlan& s) { s.requires_selection = false; },
       3},
  };
  for (const Row& row : rows) {
    const SessionPlan before = Breakout();
    SessionPlan after = before;
    row.change(after);
    ExpectStatus(ChangeSession(before, after, Event(), row.chosen), row.expect);
  }
}

}  // namespace
}  // namespace turnout::domain
