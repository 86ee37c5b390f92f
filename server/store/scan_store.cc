#include "server/store/scan_store.h"

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/store/event_store.h"
#include "server/store/pg.h"
#include "server/store/registration_store.h"

namespace turnout::store {
namespace {

using domain::Direction;
using domain::ScanStatus;

constexpr int kRegistrationConfirmed = 1;
constexpr int kRegistrationWaitlisted = 2;
constexpr int kChoiceConfirmed = 1;
constexpr int kEventPublished = 2;  // Event.State

int StoredDirection(Direction d) { return domain::Stored(d); }

domain::RegistrationStatus RegistrationStatusOf(int stored) {
  switch (stored) {
    case kRegistrationConfirmed:
      return domain::RegistrationStatus::kConfirmed;
    case kRegistrationWaitlisted:
      return domain::RegistrationStatus::kWaitlisted;
    default:
      return domain::RegistrationStatus::kCanceled;
  }
}

// Display name, language and flags from columns [first, first + 3).
RegistrationRecord DoorFields(const pqxx::row& r, int first, int64_t event_id, int64_t id) {
  RegistrationRecord reg;
  reg.event_id = event_id;
  reg.id = id;
  reg.display_name = r[first].as<std::string>();
  reg.preferred_language = r[first + 1].as<std::string>();
  for (absl::string_view f :
       absl::StrSplit(r[first + 2].as<std::string>(), ',', absl::SkipEmpty())) {
    int flag = 0;
    if (absl::SimpleAtoi(f, &flag)) reg.attention_flags.push_back(flag);
  }
  return reg;
}

ChoiceRecord ReadChoice(const pqxx::row& c) {
  return ChoiceRecord{c[0].as<int64_t>(), c[1].as<int32_t>(), c[2].as<int>(),
                      c[3].as<std::string>(), c[4].as<std::string>()};
}

// The door sees display name, flags, language and choices; contact fields stay sealed.
absl::StatusOr<RegistrationRecord> DoorView(pqxx::work& txn, int64_t event_id, int64_t id) {
  pqxx::result r = txn.exec_prepared("scan_registration", event_id, id);
  if (r.empty()) {
    return absl::NotFoundError(
        absl::StrCat("registration events/", event_id, "/registrations/", id, " does not exist"));
  }
  RegistrationRecord reg = DoorFields(r[0], 0, event_id, id);
  reg.status = r[0][3].as<int>();
  for (const pqxx::row& c : txn.exec_prepared("scan_choices", event_id, id)) {
    reg.choices.push_back(ReadChoice(c));
  }
  return reg;
}

// The answer to a client_scan_id this device sent before: the scan's status now (canonical; an
// earlier scan that arrived later may have changed it), if the request is the same scan. The
// same id for another code, checkpoint or direction is a mistake in the door's software, and
// answering it as a retry would show one person's name for another's scan.
absl::StatusOr<ScanOutcome> Replay(pqxx::work& txn, const pqxx::row& r, const ScanInput& in) {
  const std::string stored_digest = r[5].as<std::string>();
  const int64_t stored_checkpoint = r[4].as<int64_t>();
  bool same_checkpoint = stored_checkpoint == in.checkpoint_id;
  if (!same_checkpoint && in.checkpoint_id == 0) {  // the entrance, by default
    auto entrance = PgEventStore::GetCheckpoint(txn, in.event_id, 0);
    same_checkpoint = entrance.ok() && entrance->id == stored_checkpoint;
  }
  // Scans logged before digests were kept have none; their id alone identifies them.
  if (!same_checkpoint || (!stored_digest.empty() && stored_digest != in.request_digest)) {
    return absl::AlreadyExistsError(
        "client_scan_id: this device already used it for a different scan (another code, "
        "checkpoint or direction); send a new id with every scan and the same id only to retry");
  }
  ScanOutcome out;
  out.scan_id = r[0].as<int64_t>();
  out.status = ScanStatusFromStored(r[1].as<int>());
  out.checkpoint_id = stored_checkpoint;
  out.replayed = true;
  if (!r[3].is_null()) out.first_entry_time = FromMicros(r[3].as<int64_t>());
  if (!r[2].is_null()) {
    auto reg = DoorView(txn, in.event_id, r[2].as<int64_t>());
    if (reg.ok()) out.registration = *std::move(reg);
  }
  return out;
}

// What the server knows about the scanned code, and the registration it names in this event.
struct Lookup {
  domain::TicketView ticket;
  int64_t registration_id = 0;  // in the door's event, else 0
  // What the door sees of that registration: display name, language, flags, choices.
  std::optional<RegistrationRecord> door_view;
};

// One round trip per question: the ticket with its registration's door fields, then the choices
// (which give both the confirmed breakouts the rules need and what the door displays).
absl::StatusOr<Lookup> LookUpTicket(pqxx::work& txn, const ScanInput& in) {
  Lookup l;
  if (in.registration_id != 0) {
    pqxx::result r = txn.exec_prepared("scan_registration", in.event_id, in.registration_id);
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat("registration events/", in.event_id,
                                              "/registrations/", in.registration_id,
                                              " does not exist"));
    }
    l.ticket.code_valid = true;
    l.ticket.known = true;
    l.ticket.event_id = in.event_id;
    l.ticket.registration = RegistrationStatusOf(r[0][3].as<int>());
    l.registration_id = in.registration_id;
    l.door_view = DoorFields(r[0], 0, in.event_id, in.registration_id);
  } else {
    const domain::CodeCheck check = in.verified.check;
    l.ticket.code_valid =
        check == domain::CodeCheck::kValid || check == domain::CodeCheck::kKeyRevoked;
    l.ticket.key_revoked = check == domain::CodeCheck::kKeyRevoked;
    if (!l.ticket.code_valid) return l;
    const domain::TicketClaims& claims = in.verified.claims;
    l.ticket.event_id = claims.event_id;
    l.ticket.not_after = claims.not_after;
    pqxx::result r = txn.exec_prepared("scan_ticket", static_cast<int64_t>(claims.event_id),
                                       domain::TicketIdToHex(claims.ticket_id));
    if (r.empty()) return l;
    l.ticket.known = true;
    l.ticket.superseded = r[0][1].as<bool>();
    l.ticket.registration = RegistrationStatusOf(r[0][2].as<int>());
    if (l.ticket.event_id == in.event_id) {  // another event's attendee stays anonymous here
      l.registration_id = r[0][0].as<int64_t>();
      l.door_view = DoorFields(r[0], 3, in.event_id, l.registration_id);
    }
  }
  if (l.registration_id != 0) {
    for (const pqxx::row& c : txn.exec_prepared("scan_choices", in.event_id, l.registration_id)) {
      ChoiceRecord choice = ReadChoice(c);
      if (choice.status == kChoiceConfirmed) {
        l.ticket.confirmed_session_ids.push_back(choice.session_id);
      }
      l.door_view->choices.push_back(std::move(choice));
    }
  }
  return l;
}

// A ticket's presence row: what the rules see, and the time of the latest scan that settled it.
struct StoredPresence {
  domain::PresenceView view;
  absl::Time last_scan_at = absl::InfinitePast();
  absl::Time locked_at;  // the database's clock once the row was locked
};

StoredPresence ReadPresence(const pqxx::row& r) {
  StoredPresence p;
  p.view.ever_admitted = r[0].as<bool>();
  p.view.inside = r[1].as<bool>();
  if (!r[2].is_null()) p.view.first_entry_at = FromMicros(r[2].as<int64_t>());
  if (!r[3].is_null()) p.view.last_change_at = FromMicros(r[3].as<int64_t>());
  if (!r[4].is_null()) p.last_scan_at = FromMicros(r[4].as<int64_t>());
  p.locked_at = FromMicros(r[5].as<int64_t>());
  return p;
}

std::optional<int64_t> MicrosOrNull(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return std::nullopt;
  return ToMicros(t);
}

void WritePresence(pqxx::work& txn, int64_t event_id, int64_t checkpoint_id,
                   int64_t registration_id, const domain::PresenceView& p,
                   absl::Time last_scan_at) {
  // NULL travels as -1: no scan predates 1970.
  txn.exec_prepared("presence_update", event_id, checkpoint_id, registration_id, p.ever_admitted,
                    p.inside, MicrosOrNull(p.first_entry_at).value_or(-1),
                    MicrosOrNull(p.last_change_at).value_or(-1),
                    MicrosOrNull(last_scan_at).value_or(-1));
}

// A scan of the ticket's history at one checkpoint, as logged.
struct HistoryRow {
  int64_t scan_id = 0;
  domain::LoggedScan scan;
  ScanStatus status = ScanStatus::kAdmitted;
  std::optional<absl::Time> first_entry_at;
};

// The ticket's scans at the checkpoint whose answer depends on its presence there, not annulled,
// in canonical order: scan time, then arrival.
std::vector<HistoryRow> LoadHistory(pqxx::work& txn, int64_t event_id, int64_t checkpoint_id,
                                    int64_t registration_id) {
  std::vector<HistoryRow> history;
  for (const pqxx::row& r : txn.exec_prepared(
           "scan_history", event_id, checkpoint_id, registration_id,
           StoredScanStatus(ScanStatus::kAdmitted), StoredScanStatus(ScanStatus::kExitRecorded),
           StoredScanStatus(ScanStatus::kAlreadyCheckedIn), StoredDirection(Direction::kExit))) {
    HistoryRow row;
    row.scan_id = r[0].as<int64_t>();
    row.scan.direction = r[1].as<bool>() ? Direction::kExit : Direction::kEntry;
    row.scan.at = FromMicros(r[2].as<int64_t>());
    row.status = ScanStatusFromStored(r[3].as<int>());
    if (!r[4].is_null()) row.first_entry_at = FromMicros(r[4].as<int64_t>());
    history.push_back(row);
  }
  return history;
}

// Re-decides `history` (canonical order) with ReplayPresence, stores every status that changed,
// and writes the presence it ends with.
void Settle(pqxx::work& txn, int64_t event_id, int64_t checkpoint_id, int64_t registration_id,
            bool allow_reentry, const std::vector<HistoryRow>& history) {
  std::vector<domain::LoggedScan> scans;
  for (const HistoryRow& row : history) scans.push_back(row.scan);
  const domain::PresenceReplay replay = domain::ReplayPresence(scans, allow_reentry);
  for (size_t i = 0; i < history.size(); ++i) {
    const domain::ReplayedScan& now = replay.scans[i];
    if (now.status == history[i].status && now.first_entry_at == history[i].first_entry_at) {
      continue;
    }
    txn.exec_prepared("scan_redecide", event_id, history[i].scan_id, StoredScanStatus(now.status),
                      now.first_entry_at ? ToMicros(*now.first_entry_at) : int64_t{-1});
  }
  const absl::Time last_scan_at =
      history.empty() ? absl::InfinitePast() : history.back().scan.at;
  WritePresence(txn, event_id, checkpoint_id, registration_id, replay.presence, last_scan_at);
}

}  // namespace

int StoredScanStatus(ScanStatus status) { return domain::Stored(status); }

ScanStatus ScanStatusFromStored(int stored) { return domain::FromStored<ScanStatus>(stored); }

void PgScanStore::RegisterStatements() {
  AddStatements({
      {"scan_find", R"(
          SELECT id, status, registration_id, us_of(first_entry_time), checkpoint_id,
                 request_digest
          FROM scans WHERE event_id = $1 AND device_id = $2 AND client_scan_id = $3)"},
      {"scan_ticket", R"(
          SELECT t.registration_id, t.superseded_time IS NOT NULL, r.status, r.display_name,
                 r.preferred_language, array_to_string(r.attention_flags, ',')
          FROM tickets t JOIN registrations r ON r.event_id = t.event_id AND r.id = t.registration_id
          WHERE t.event_id = $1 AND t.ticket_id = $2)"},
      {"scan_registration", R"(
          SELECT display_name, preferred_language, array_to_string(attention_flags, ','), status
          FROM registrations WHERE event_id = $1 AND id = $2)"},
      // Creates the presence row if needed and locks it, in one round trip.
      {"presence_upsert", R"(
          INSERT INTO presence (event_id, checkpoint_id, registration_id) VALUES ($1, $2, $3)
          ON CONFLICT (event_id, checkpoint_id, registration_id)
            DO UPDATE SET ever_admitted = presence.ever_admitted
          RETURNING ever_admitted, inside, us_of(first_entry_time), us_of(last_change_time),
                    us_of(last_scan_time), us_of(clock_timestamp()))"},
      // Records the scan and, when it settles the ticket's presence ($16: its answer depends on
      // presence, it is the newest in canonical order) and is not a concurrent duplicate, moves
      // the presence, in one round trip.
      {"scan_record", R"(
          WITH recorded AS (
            INSERT INTO scans (event_id, checkpoint_id, registration_id, device_id, client_scan_id,
                               direction, scanned_time, offline, status, device_status,
                               first_entry_time, request_digest, code_hash, code_length,
                               code_header, received_time)
            VALUES ($1, $2, NULLIF($3::bigint, 0), $4, $5, $6, ts_of($7), $8, $9, NULLIF($10, 0),
                    CASE WHEN $11::bigint < 0 THEN NULL ELSE ts_of($11::bigint) END, $17, $18,
                    $19, $20, ts_of($21))
            ON CONFLICT (event_id, device_id, client_scan_id) DO NOTHING
            RETURNING id),
          moved AS (
            UPDATE presence SET ever_admitted = $12, inside = $13,
                   first_entry_time = CASE WHEN $14::bigint < 0 THEN NULL ELSE ts_of($14::bigint) END,
                   last_change_time = CASE WHEN $15::bigint < 0 THEN NULL ELSE ts_of($15::bigint) END,
                   last_scan_time = ts_of($7)
            WHERE $16 AND event_id = $1 AND checkpoint_id = $2 AND registration_id = $3
              AND EXISTS (SELECT 1 FROM recorded))
          SELECT id FROM recorded)"},
      {"scan_choices", R"(
          SELECT sc.session_id, sc.round, sc.status, s.title, s.room
          FROM session_choices sc JOIN sessions s ON s.event_id = sc.event_id AND s.id = sc.session_id
          WHERE sc.event_id = $1 AND sc.registration_id = $2 ORDER BY sc.round)"},
      {"presence_lock", R"(
          SELECT ever_admitted, inside, us_of(first_entry_time), us_of(last_change_time)
          FROM presence WHERE event_id = $1 AND checkpoint_id = $2 AND registration_id = $3
          FOR UPDATE)"},
      {"presence_update", R"(
          UPDATE presence SET ever_admitted = $4, inside = $5,
                 first_entry_time = CASE WHEN $6::bigint < 0 THEN NULL ELSE ts_of($6::bigint) END,
                 last_change_time = CASE WHEN $7::bigint < 0 THEN NULL ELSE ts_of($7::bigint) END,
                 last_scan_time = CASE WHEN $8::bigint < 0 THEN NULL ELSE ts_of($8::bigint) END
          WHERE event_id = $1 AND checkpoint_id = $2 AND registration_id = $3)"},
      {"checkpoint_lock", "SELECT 1 FROM checkpoints WHERE event_id = $1 AND id = $2 FOR UPDATE"},
      {"checkpoint_inside_count", R"(
          SELECT count(*) FROM presence WHERE event_id = $1 AND checkpoint_id = $2 AND inside)"},
      {"scan_for_annul", R"(
          SELECT device_id, status, us_of(received_time), annul_time IS NOT NULL, checkpoint_id,
                 registration_id
          FROM scans WHERE event_id = $1 AND id = $2 FOR UPDATE)"},
      {"scan_annul", "UPDATE scans SET annul_time = ts_of($3) WHERE event_id = $1 AND id = $2"},
      {"scan_history", R"(
          SELECT id, direction = $7, us_of(scanned_time), status, us_of(first_entry_time)
          FROM scans
          WHERE event_id = $1 AND checkpoint_id = $2 AND registration_id = $3
            AND status IN ($4, $5, $6) AND annul_time IS NULL
          ORDER BY scanned_time, id)"},
      {"scan_redecide", R"(
          UPDATE scans SET status = $3,
                 first_entry_time = CASE WHEN $4::bigint < 0 THEN NULL ELSE ts_of($4::bigint) END
          WHERE event_id = $1 AND id = $2)"},
      {"attendance_presence", R"(
          SELECT checkpoint_id, count(*) FILTER (WHERE ever_admitted),
                 count(*) FILTER (WHERE inside)
          FROM presence WHERE event_id = $1 GROUP BY checkpoint_id)"},
      {"scan_conflicts", R"(
          SELECT count(*) FROM scans
          WHERE event_id = $1 AND offline AND device_status IS NOT NULL
            AND device_status <> status AND annul_time IS NULL)"},
      {"attendance_confirmed", R"(
          SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 1)"},
      // A purged event's choices are gone; their tally stays (purge_store.h).
      {"attendance_selected", R"(
          SELECT session_id, sum(n)::bigint FROM (
            SELECT sc.session_id, count(*) AS n FROM session_choices sc
            JOIN registrations r ON r.event_id = sc.event_id AND r.id = sc.registration_id
            WHERE sc.event_id = $1 AND sc.status = 1 AND r.status = 1 GROUP BY sc.session_id
            UNION ALL
            SELECT session_id, selected FROM purged_session_counts WHERE event_id = $1) t
          GROUP BY session_id)"},
      {"attendance_arrivals", R"(
          SELECT checkpoint_id, count(*) FROM scans
          WHERE event_id = $1 AND status = 1 AND annul_time IS NULL
            AND received_time > ts_of($2) - interval '1 minute'
          GROUP BY checkpoint_id)"},
  });
}

absl::StatusOr<ScanOutcome> PgScanStore::RecordScan(pqxx::work& txn, const ScanInput& in) {
  if (pqxx::result r = txn.exec_prepared("scan_find", in.event_id, in.device_id, in.client_scan_id);
      !r.empty()) {
    return Replay(txn, r[0], in);
  }
  auto checkpoint = PgEventStore::GetCheckpoint(txn, in.event_id, in.checkpoint_id);
  if (!checkpoint.ok()) return checkpoint.status();
  if (checkpoint->event_purged) return PgEventStore::RequireNotPurged(txn, in.event_id);
  auto lookup = LookUpTicket(txn, in);
  if (!lookup.ok()) return lookup.status();

  domain::CheckpointView view;
  view.event_id = checkpoint->event_id;
  view.session_id = checkpoint->session_id;
  view.requires_selection = checkpoint->requires_selection;
  view.capacity = checkpoint->session_id ? checkpoint->capacity : 0;
  view.opens_at = checkpoint->open_time;
  view.closes_at = checkpoint->close_time;
  view.allow_reentry = checkpoint->allow_reentry;
  view.event_published = checkpoint->event_state == kEventPublished;

  // Lock order, the same for every scan: the ticket's presence row, then the checkpoint row.
  const int64_t reg_id = lookup->registration_id;
  StoredPresence stored;
  if (reg_id != 0) {
    stored =
        ReadPresence(txn.exec_prepared("presence_upsert", in.event_id, checkpoint->id, reg_id)[0]);
  }
  // A scan made now takes its time once it holds the ticket's lock, from the one clock every
  // replica shares, so that concurrent scans of a ticket are ordered as they are decided.
  const absl::Time at = in.scanned_now && reg_id != 0 ? stored.locked_at : in.scanned_at;
  // Usually the scan is the ticket's newest here and is decided against the presence as it
  // stands. A scan older than one already settled (a door's queue, sent late) is decided against
  // the presence at its own time, and the scans after it are re-decided (Settle).
  const bool newest = stored.last_scan_at <= at;
  std::vector<HistoryRow> history;
  size_t position = 0;  // where the scan goes in `history`
  domain::PresenceView presence = stored.view;
  if (!newest) {
    history = LoadHistory(txn, in.event_id, checkpoint->id, reg_id);
    while (position < history.size() && history[position].scan.at <= at) ++position;
    std::vector<domain::LoggedScan> before;
    for (size_t i = 0; i < position; ++i) before.push_back(history[i].scan);
    presence = domain::ReplayPresence(before, view.allow_reentry).presence;
  }
  if (reg_id != 0 && view.session_id && !view.requires_selection && view.capacity > 0 &&
      in.direction == Direction::kEntry && !presence.inside) {
    txn.exec_prepared("checkpoint_lock", in.event_id, checkpoint->id);
    view.inside_count =
        txn.exec_prepared("checkpoint_inside_count", in.event_id, checkpoint->id)[0][0]
            .as<int32_t>();
  }
  const domain::ScanAttempt attempt{in.direction, at};
  const domain::ScanDecision decision = domain::DecideScan(lookup->ticket, view, presence, attempt);
  const domain::PresenceView after = domain::ApplyScan(presence, decision, attempt);
  const bool settles = reg_id != 0 && domain::DependsOnPresence(decision.status);

  ScanOutcome out;
  out.status = decision.status;
  out.checkpoint_id = checkpoint->id;
  out.at_session = checkpoint->session_id.has_value();
  if (decision.status == ScanStatus::kAlreadyCheckedIn) {
    out.first_entry_time = presence.first_entry_at;
  }
  // A refused scan keeps a trace of what was read, never the text itself (ScanInput::code_hash).
  const bool traced = !decision.accepted();
  // NULL times travel as -1: no scan predates 1970.
  pqxx::result recorded = txn.exec_prepared(
      "scan_record", in.event_id, checkpoint->id, reg_id, in.device_id, in.client_scan_id,
      StoredDirection(in.direction), ToMicros(at), in.offline,
      StoredScanStatus(decision.status), in.device_status,
      out.first_entry_time ? ToMicros(*out.first_entry_time) : int64_t{-1}, after.ever_admitted,
      after.inside, MicrosOrNull(after.first_entry_at).value_or(-1),
      MicrosOrNull(after.last_change_at).value_or(-1), settles && newest, in.request_digest,
      traced ? in.code_hash : std::string(), traced ? in.code_length : 0,
      traced ? in.code_header : std::string(), ToMicros(in.received_at));
  if (recorded.empty()) {
    // The same client_scan_id committed concurrently: its answer stands and this one counts
    // nothing.
    return Replay(txn,
                  txn.exec_prepared("scan_find", in.event_id, in.device_id, in.client_scan_id)[0],
                  in);
  }
  out.scan_id = recorded[0][0].as<int64_t>();
  if (settles && !newest) {
    HistoryRow row;
    row.scan_id = out.scan_id;
    row.scan = domain::LoggedScan{in.direction, at};
    row.status = decision.status;
    row.first_entry_at = out.first_entry_time;
    history.insert(history.begin() + static_cast<std::ptrdiff_t>(position), row);
    Settle(txn, in.event_id, checkpoint->id, reg_id, view.allow_reentry, history);
  }
  out.registration = std::move(lookup->door_view);
  return out;
}

absl::Status PgScanStore::Annul(pqxx::work& txn, int64_t event_id, int64_t scan_id,
                                int64_t device_id, absl::Time now, absl::Duration window) {
  pqxx::result r = txn.exec_prepared("scan_for_annul", event_id, scan_id);
  if (r.empty()) {
    return absl::NotFoundError(
        absl::StrCat("scan events/", event_id, "/scans/", scan_id, " does not exist"));
  }
  if (r[0][0].as<int64_t>() != device_id) {
    return absl::PermissionDeniedError("only the device that made a scan can annul it");
  }
  if (r[0][3].as<bool>()) return absl::OkStatus();  // annulled already
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  if (now - FromMicros(r[0][2].as<int64_t>()) > window) {
    return absl::FailedPreconditionError(absl::StrCat("a scan can be annulled only within ",
                                                      absl::FormatDuration(window),
                                                      " of being made; this one is older"));
  }
  txn.exec_prepared("scan_annul", event_id, scan_id, ToMicros(now));
  if (!domain::DependsOnPresence(ScanStatusFromStored(r[0][1].as<int>())) || r[0][5].is_null()) {
    return absl::OkStatus();
  }
  // The scans that remain settle the presence, in the same canonical order as live scans.
  const int64_t checkpoint_id = r[0][4].as<int64_t>();
  const int64_t reg_id = r[0][5].as<int64_t>();
  txn.exec_prepared("presence_lock", event_id, checkpoint_id, reg_id);
  auto checkpoint = PgEventStore::GetCheckpoint(txn, event_id, checkpoint_id);
  if (!checkpoint.ok()) return checkpoint.status();
  Settle(txn, event_id, checkpoint_id, reg_id, checkpoint->allow_reentry,
         LoadHistory(txn, event_id, checkpoint_id, reg_id));
  return absl::OkStatus();
}

int64_t PgScanStore::Conflicts(pqxx::work& txn, int64_t event_id) {
  return txn.exec_prepared("scan_conflicts", event_id)[0][0].as<int64_t>();
}

absl::StatusOr<std::vector<CheckpointCountsRecord>> PgScanStore::Attendance(pqxx::work& txn,
                                                                            int64_t event_id,
                                                                            absl::Time now) {
  auto checkpoints = PgEventStore::ListCheckpoints(txn, event_id);
  if (!checkpoints.ok()) return checkpoints.status();
  std::map<int64_t, std::pair<int64_t, int64_t>> presence;
  for (const pqxx::row& r : txn.exec_prepared("attendance_presence", event_id)) {
    presence[r[0].as<int64_t>()] = {r[1].as<int64_t>(), r[2].as<int64_t>()};
  }
  std::map<int64_t, int64_t> selected;
  for (const pqxx::row& r : txn.exec_prepared("attendance_selected", event_id)) {
    selected[r[0].as<int64_t>()] = r[1].as<int64_t>();
  }
  std::map<int64_t, int64_t> arrivals;
  for (const pqxx::row& r : txn.exec_prepared("attendance_arrivals", event_id, ToMicros(now))) {
    arrivals[r[0].as<int64_t>()] = r[1].as<int64_t>();
  }
  const int64_t confirmed = txn.exec_prepared("attendance_confirmed", event_id)[0][0].as<int64_t>();
  std::vector<CheckpointCountsRecord> counts;
  for (const CheckpointRecord& c : *checkpoints) {
    CheckpointCountsRecord n;
    n.checkpoint = c;
    n.registered = c.requires_selection && c.session_id ? selected[*c.session_id] : confirmed;
    n.checked_in = presence[c.id].first;
    n.inside = presence[c.id].second;
    n.arrivals_last_minute = arrivals[c.id];
    counts.push_back(std::move(n));
  }
  return counts;
}

}  // namespace turnout::store
