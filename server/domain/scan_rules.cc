// The scanning rules; see scan_rules.h for the order and why it is fixed.
#include "server/domain/scan_rules.h"

#include <algorithm>

#include "absl/strings/match.h"

namespace turnout::domain {
namespace {

struct StatusText {
  ScanStatus status;
  absl::string_view name;
  absl::string_view en;
  absl::string_view es;
};

// One row per status so a new status cannot get a name without its messages. The messages are for
// a volunteer glancing at a phone in a busy doorway: what happened, then what to do.
constexpr StatusText kStatusTexts[] = {
    {ScanStatus::kAdmitted, "ADMITTED", "Welcome — admitted", "Bienvenida/o — admitida/o"},
    {ScanStatus::kExitRecorded, "EXIT_RECORDED", "Exit recorded — see you soon",
     "Salida registrada — hasta pronto"},
    {ScanStatus::kAlreadyCheckedIn, "ALREADY_CHECKED_IN", "Duplicate — already checked in here",
     "Duplicado — ya registró su entrada aquí"},
    {ScanStatus::kWrongEvent, "WRONG_EVENT", "Wrong event — this ticket is for another event",
     "Evento equivocado — este boleto es para otro evento"},
    {ScanStatus::kNotRegisteredForSession, "NOT_REGISTERED_FOR_SESSION",
     "Not registered here — waitlisted or chose another session",
     "Sin inscripción aquí — en lista de espera o eligió otra sesión"},
    {ScanStatus::kSessionFull, "SESSION_FULL", "Room full — session at capacity",
     "Sala llena — cupo completo"},
    {ScanStatus::kCanceled, "CANCELED", "Registration canceled — send to the help desk",
     "Inscripción cancelada — enviar a la mesa de ayuda"},
    {ScanStatus::kRevoked, "REVOKED", "Ticket revoked — ask for the newest ticket",
     "Boleto revocado — pida el boleto más reciente"},
    {ScanStatus::kInvalid, "INVALID", "Invalid code — not a valid ticket",
     "Código inválido — no es un boleto válido"},
    {ScanStatus::kOutsideCheckinWindow, "OUTSIDE_CHECKIN_WINDOW",
     "Outside check-in hours — doors not open now", "Fuera del horario de entrada"},
};

const StatusText& TextFor(ScanStatus status) {
  for (const StatusText& t : kStatusTexts) {
    if (t.status == status) return t;
  }
  // Unreachable for a valid enum value; an out-of-range cast is treated as the safest refusal.
  return TextFor(ScanStatus::kInvalid);
}

// True for "es", "ES", "es-MX", "es_419": only the primary language subtag decides.
bool IsSpanish(absl::string_view language) {
  absl::string_view primary = language.substr(0, language.find_first_of("-_"));
  return absl::EqualsIgnoreCase(primary, "es");
}

bool InWindow(const TicketView& ticket, const CheckpointView& checkpoint, absl::Time at) {
  // A draft is not open yet and a canceled event is not held: neither has a check-in window.
  return checkpoint.event_published && at >= checkpoint.opens_at && at < checkpoint.closes_at &&
         at <= ticket.not_after;
}

bool RegisteredForCheckpoint(const TicketView& ticket, const CheckpointView& checkpoint) {
  // Waitlisted people hold a ticket but no seat at the event, so they may enter nowhere yet.
  if (ticket.registration == RegistrationStatus::kWaitlisted) return false;
  if (!checkpoint.session_id.has_value() || !checkpoint.requires_selection) return true;
  const std::vector<int64_t>& chosen = ticket.confirmed_session_ids;
  return std::find(chosen.begin(), chosen.end(), *checkpoint.session_id) != chosen.end();
}

bool IsDuplicateEntry(const CheckpointView& checkpoint, const PresenceView& presence) {
  return presence.inside || (presence.ever_admitted && !checkpoint.allow_reentry);
}

bool IsFull(const CheckpointView& checkpoint) {
  // A requires_selection breakout's seats were allotted at registration, so everyone confirmed for
  // it gets in even if the room count (which may lag, or include staff) says otherwise.
  return checkpoint.session_id.has_value() && !checkpoint.requires_selection &&
         checkpoint.capacity > 0 && checkpoint.inside_count >= checkpoint.capacity;
}

ScanStatus Decide(const TicketView& ticket, const CheckpointView& checkpoint,
                  const PresenceView& presence, const ScanAttempt& attempt) {
  if (!ticket.code_valid || !ticket.known) return ScanStatus::kInvalid;
  // Someone walking out is already inside; refusing to record it would only make `inside` wrong,
  // and a canceled or reissued ticket's holder could keep a room full for good. So a genuine
  // ticket of this event always gets out, whatever became of its registration or its code since.
  if (attempt.direction == Direction::kExit && ticket.event_id == checkpoint.event_id) {
    return ScanStatus::kExitRecorded;
  }
  if (ticket.superseded || ticket.key_revoked) return ScanStatus::kRevoked;
  if (ticket.event_id != checkpoint.event_id) return ScanStatus::kWrongEvent;
  if (ticket.registration == RegistrationStatus::kCanceled) return ScanStatus::kCanceled;
  if (!InWindow(ticket, checkpoint, attempt.at)) return ScanStatus::kOutsideCheckinWindow;
  if (!RegisteredForCheckpoint(ticket, checkpoint)) return ScanStatus::kNotRegisteredForSession;
  // Before SESSION_FULL: a person already inside a full room is a duplicate scan, not a new
  // arrival, and the volunteer should be told so.
  if (IsDuplicateEntry(checkpoint, presence)) return ScanStatus::kAlreadyCheckedIn;
  if (IsFull(checkpoint)) return ScanStatus::kSessionFull;
  return ScanStatus::kAdmitted;
}

}  // namespace

absl::string_view ScanStatusName(ScanStatus status) { return TextFor(status).name; }

std::optional<ScanStatus> ScanStatusFromName(absl::string_view name) {
  for (const StatusText& t : kStatusTexts) {
    if (t.name == name) return t.status;
  }
  return std::nullopt;
}

bool ScanDecision::accepted() const {
  return status == ScanStatus::kAdmitted || status == ScanStatus::kExitRecorded;
}

ScanDecision DecideScan(const TicketView& ticket, const CheckpointView& checkpoint,
                        const PresenceView& presence, const ScanAttempt& attempt) {
  return ScanDecision{Decide(ticket, checkpoint, presence, attempt)};
}

PresenceView ApplyScan(const PresenceView& before, const ScanDecision& decision,
                       const ScanAttempt& attempt) {
  PresenceView after = before;
  switch (decision.status) {
    case ScanStatus::kAdmitted:
      if (!before.ever_admitted) after.first_entry_at = attempt.at;
      after.ever_admitted = true;
      after.inside = true;
      after.last_change_at = attempt.at;
      break;
    case ScanStatus::kExitRecorded:
      // An exit without a matching entry (a missed scan at the door) still leaves the person
      // outside; it never makes them "checked in".
      after.inside = false;
      after.last_change_at = attempt.at;
      break;
    default:
      break;
  }
  return after;
}

bool DependsOnPresence(ScanStatus status) {
  return status == ScanStatus::kAdmitted || status == ScanStatus::kAlreadyCheckedIn ||
         status == ScanStatus::kExitRecorded;
}

PresenceReplay ReplayPresence(absl::Span<const LoggedScan> canonical, bool allow_reentry) {
  PresenceReplay replay;
  CheckpointView rules;
  rules.allow_reentry = allow_reentry;
  for (const LoggedScan& scan : canonical) {
    ReplayedScan decided;
    if (scan.direction == Direction::kExit) {
      decided.status = ScanStatus::kExitRecorded;
    } else if (IsDuplicateEntry(rules, replay.presence)) {
      decided.status = ScanStatus::kAlreadyCheckedIn;
      decided.first_entry_at = replay.presence.first_entry_at;
    } else {
      decided.status = ScanStatus::kAdmitted;
    }
    const ScanAttempt attempt{scan.direction, scan.at};
    replay.presence = ApplyScan(replay.presence, ScanDecision{decided.status}, attempt);
    replay.scans.push_back(decided);
  }
  return replay;
}

CheckpointCounts Tally(absl::Span<const PresenceView> presences, int64_t registered,
                       int64_t capacity) {
  CheckpointCounts counts;
  counts.registered = registered;
  counts.capacity = capacity;
  for (const PresenceView& p : presences) {
    if (p.ever_admitted) ++counts.checked_in;
    if (p.inside) ++counts.inside;
  }
  return counts;
}

std::string ScanMessage(ScanStatus status, absl::string_view language) {
  const StatusText& t = TextFor(status);
  return std::string(IsSpanish(language) ? t.es : t.en);
}

}  // namespace turnout::domain
