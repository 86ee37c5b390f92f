// The steps of the randomized model test (tests/integration/model_test.cc): what one step does, in
// terms that both the real server and the reference model (reference_model.h) understand, and how
// it reads in a failure report.
//
//   Operation op;
//   op.kind = Operation::Kind::kScan;
//   op.reg = 3;                      // the registration the test calls "r3"
//   op.scan = 12;                    // this scan is "s12", for a later resend or annulment
//   op.place = Place::kEntrance;
//   op.at = absl::Minutes(12);       // the door's clock, from the event's doors-open time
//   op.ToString();                   // "s12: scan r3 entry @entrance t=+12m dev=1"
//
// Registrations and scans are named by labels the generator hands out, never by server ids, so a
// sequence can be replayed on a fresh event, and an operation whose registration or scan is gone
// from a shortened sequence is skipped.
#ifndef TURNOUT_TESTS_INTEGRATION_MODEL_OPERATION_H_
#define TURNOUT_TESTS_INTEGRATION_MODEL_OPERATION_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace turnout::testing::model {

// The checkpoints of the test's program: the event's entrance; a small plenary room that every
// confirmed attendee may enter (so it can be full); and three breakouts picked in advance
// (requires_selection): B1 and B2 in round 1, B3 in round 2.
enum class Place { kEntrance, kPlenary, kB1, kB2, kB3 };

inline constexpr Place kAllPlaces[] = {Place::kEntrance, Place::kPlenary, Place::kB1, Place::kB2,
                                       Place::kB3};
inline constexpr Place kSessions[] = {Place::kPlenary, Place::kB1, Place::kB2, Place::kB3};
inline constexpr Place kBreakouts[] = {Place::kB1, Place::kB2, Place::kB3};

// "entrance", "plenary", "B1", "B2", "B3".
absl::string_view PlaceName(Place place);
// The breakout round of a place: 1 for B1 and B2, 2 for B3, 0 for the entrance and the plenary.
int RoundOf(Place place);
bool IsBreakout(Place place);

enum class Direction { kEntry, kExit };

// Which code a scan presents.
enum class CodePick {
  kCurrent,     // the registration's newest code
  kPrevious,    // the code before the newest (superseded or signed by a revoked key); else newest
  kOtherEvent,  // a genuine ticket of another event (the operation names no registration)
  kGarbage,     // that ticket with one character of its signature changed: not a ticket at all
};

struct Operation {
  enum class Kind {
    kRegister,        // registers r<reg> with `choices`
    kCancel,          // cancels r<reg>
    kReissue,         // ReissueTicket for r<reg>: its codes so far are superseded
    kGetTicket,       // GetTicket for r<reg>
    kChooseSessions,  // UpdateSessionChoices for r<reg> with `choices`
    kScan,            // scan s<scan>
    kResend,          // sends the request of scan s<scan> again, verbatim
    kAnnul,           // door <device> annuls scan s<scan>
    kSetCapacity,     // the capacity of `place` (the entrance: the event's) becomes `capacity`
    kMoveEvent,       // the event and its sessions move `days` days later
    kRotateKey,       // a new signing key, and the one it replaces is revoked
    kSetPublished,    // the event is published (`published`) or taken back to DRAFT
  };

  Kind kind = Kind::kScan;
  int reg = -1;
  int scan = -1;
  std::vector<Place> choices;
  Place place = Place::kEntrance;
  Direction direction = Direction::kEntry;
  CodePick code = CodePick::kCurrent;
  int device = 1;
  absl::Duration at;
  int capacity = 0;
  int days = 0;
  bool published = true;

  // One line, e.g. "s12: scan r3 exit @B1 t=+2h05m dev=2" or "register r4 choices=[B2,B3]".
  std::string ToString() const;
};

// "register", "scan", ...: used in failure signatures and in TURNOUT_MODEL_WITHOUT.
absl::string_view KindName(Operation::Kind kind);

// "+2h05m30s", "-15m", "+1d3h": an offset from the event's doors-open time.
std::string FormatOffset(absl::Duration d);

}  // namespace turnout::testing::model

#endif  // TURNOUT_TESTS_INTEGRATION_MODEL_OPERATION_H_
