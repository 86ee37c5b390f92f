// The scanning rules: a pure function from (ticket state, checkpoint, presence, scan) to a status.
//
// The store gathers what the server knows into the *View structs below, calls DecideScan, records
// the attempt whatever the answer, and — only when the decision is accepted — stores ApplyScan's
// result. Keeping the rules here, apart from SQL and gRPC, lets every combination be tested in a
// table and lets the offline verifier on the door device share the exact same precedence.
//
//   ScanDecision d = DecideScan(ticket, checkpoint, presence, {Direction::kEntry, scanned_at});
//   if (d.accepted()) presence = ApplyScan(presence, d, attempt);
//   reply.message = ScanMessage(d.status, device_language);
#ifndef TURNOUT_SERVER_DOMAIN_SCAN_RULES_H_
#define TURNOUT_SERVER_DOMAIN_SCAN_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/domain/stored.h"

namespace turnout::domain {

// The answer to one scan attempt (docs/design.md, "Scans"). Names match
// turnout.v1.ScanResult.Status.
enum class ScanStatus {
  kAdmitted,
  kExitRecorded,
  kAlreadyCheckedIn,
  kWrongEvent,
  kNotRegisteredForSession,
  kSessionFull,
  kCanceled,
  kRevoked,
  kInvalid,
  kOutsideCheckinWindow,
};

enum class Direction { kEntry, kExit };

// Registration.Status; the values are the stored numbers.
enum class RegistrationStatus { kConfirmed = 1, kWaitlisted = 2, kCanceled = 3 };
template <>
struct StoredRange<RegistrationStatus> {
  static constexpr int kFirst = 1, kLast = 3;
};

// The stable upper-case name: "ADMITTED", "EXIT_RECORDED", ... as stored in the scans table and
// used by the proto enum. Never empty.
absl::string_view ScanStatusName(ScanStatus status);

// The inverse of ScanStatusName; exact, case-sensitive match. nullopt for anything else.
std::optional<ScanStatus> ScanStatusFromName(absl::string_view name);

// What the server knows of the scanned code and its registration.
struct TicketView {
  bool code_valid = false;                        // parsed and the signature verified
  bool key_revoked = false;                       // signed by a key that has since been revoked
  bool known = false;                             // a ticket row exists for the code's ticket id
  bool superseded = false;                        // the ticket was replaced by ReissueTicket
  int64_t event_id = 0;                           // the event the ticket belongs to
  absl::Time not_after = absl::InfiniteFuture();  // validity in the code
  RegistrationStatus registration = RegistrationStatus::kConfirmed;
  std::vector<int64_t> confirmed_session_ids;  // breakouts chosen and confirmed (not waitlisted)
};

// The checkpoint being scanned at: the event entrance (session_id empty) or a session's room.
struct CheckpointView {
  int64_t event_id = 0;
  std::optional<int64_t> session_id;
  bool requires_selection = false;  // a breakout picked in advance
  int32_t capacity = 0;             // 0 = unlimited
  int32_t inside_count = 0;         // people inside now (used for SESSION_FULL)
  absl::Time opens_at = absl::InfinitePast();
  absl::Time closes_at = absl::InfiniteFuture();
  bool allow_reentry = true;
  // The event is PUBLISHED. A DRAFT or CANCELED event has no check-in window: an entry anywhere
  // in it is OUTSIDE_CHECKIN_WINDOW (an exit is still recorded).
  bool event_published = true;
};

// The ticket's presence at this checkpoint before the scan.
struct PresenceView {
  bool ever_admitted = false;
  bool inside = false;
  absl::Time first_entry_at = absl::InfinitePast();  // meaningful only when ever_admitted
  absl::Time last_change_at = absl::InfinitePast();  // time of the last accepted scan
};

// One scan attempt: the direction and the device's clock time (`scanned_at`).
struct ScanAttempt {
  Direction direction = Direction::kEntry;
  absl::Time at;
};

struct ScanDecision {
  ScanStatus status = ScanStatus::kInvalid;
  // ADMITTED or EXIT_RECORDED: the scan changes presence and counts. Every other status is a
  // refusal that is recorded but changes nothing.
  bool accepted() const;
};

// Applies the rules in this fixed order; the first that fails decides:
//   1 INVALID       code unreadable/tampered/bad signature (code_valid false) or unknown ticket
//   2 exit          of a ticket of this event -> EXIT_RECORDED, whatever its registration's
//                   status or its code's (never refused as a duplicate, outside the window,
//                   canceled, reissued or signed by a revoked key)
//   3 REVOKED       superseded by a reissue, or key_revoked
//   4 WRONG_EVENT   ticket.event_id != checkpoint.event_id
//   5 CANCELED      registration canceled
//   6 OUTSIDE_CHECKIN_WINDOW  !event_published (a DRAFT or CANCELED event), at < opens_at,
//                   at >= closes_at, or at > ticket.not_after
//   7 NOT_REGISTERED_FOR_SESSION  registration waitlisted, or a session checkpoint that
//                   requires_selection and is not in confirmed_session_ids
//   8 ALREADY_CHECKED_IN  inside, or ever_admitted and !allow_reentry
//   9 SESSION_FULL  a session checkpoint without requires_selection, capacity > 0 and
//                   inside_count >= capacity
//  10 ADMITTED
ScanDecision DecideScan(const TicketView& ticket, const CheckpointView& checkpoint,
                        const PresenceView& presence, const ScanAttempt& attempt);

// The presence after an accepted scan; `before` unchanged for a refused one. Callers apply scans in
// `scanned_at` order (offline uploads are replayed that way), so `attempt.at` is the newest change.
PresenceView ApplyScan(const PresenceView& before, const ScanDecision& decision,
                       const ScanAttempt& attempt);

// How far ahead of the server's clock a door's scan_time may be. A scan's time decides its window
// and its place in the canonical order, so a door whose clock runs fast is refused with a message
// naming its clock rather than let it reorder everyone else's scans.
inline constexpr absl::Duration kMaxClockAhead = absl::Minutes(5);

// Whether a scan's answer depends on the ticket's presence at the checkpoint, so that a scan
// arriving out of order (or an annulment) can change it: ADMITTED, ALREADY_CHECKED_IN and
// EXIT_RECORDED. Every other refusal is decided by the ticket or the checkpoint and is final.
bool DependsOnPresence(ScanStatus status);

// One scan of a ticket at a checkpoint that DependsOnPresence, as logged.
struct LoggedScan {
  Direction direction = Direction::kEntry;
  absl::Time at;
};

// A logged scan re-decided: its status, and for ALREADY_CHECKED_IN the first entry it reports.
struct ReplayedScan {
  ScanStatus status = ScanStatus::kAdmitted;
  std::optional<absl::Time> first_entry_at;
};

struct PresenceReplay {
  std::vector<ReplayedScan> scans;  // one per input scan, same order
  PresenceView presence;            // after the last one
};

// The canonical order of a ticket's scans at a checkpoint is their time (the door's scan_time),
// then their arrival. Given the scans that DependsOnPresence in that order, decides each one again
// from an empty presence: an exit is EXIT_RECORDED, an entry ALREADY_CHECKED_IN when it is a
// duplicate (inside, or admitted before where re-entry is off), else ADMITTED. Live scans,
// offline uploads and annulments all settle a ticket's presence this way, so the order in which
// scans reach the server never changes the outcome (docs/design.md).
PresenceReplay ReplayPresence(absl::Span<const LoggedScan> canonical, bool allow_reentry);

// Counts per checkpoint, as docs/design.md defines them.
struct CheckpointCounts {
  int64_t registered = 0;  // valid tickets that may enter the checkpoint
  int64_t checked_in = 0;  // unique people admitted at least once
  int64_t inside = 0;      // people whose last accepted scan is an entry
  int64_t capacity = 0;    // 0 = unlimited
};

// Tallies the presences of one checkpoint (one per ticket). `registered` and `capacity` come from
// elsewhere and are passed through.
CheckpointCounts Tally(absl::Span<const PresenceView> presences, int64_t registered,
                       int64_t capacity);

// A short message for the door volunteer in the device's language: "es" (any region, e.g. "es-MX")
// gives Spanish; anything else, including empty, gives English. Never empty and never carries
// personal data, so it is safe to log and to show on a shared screen.
std::string ScanMessage(ScanStatus status, absl::string_view language);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_SCAN_RULES_H_
