#include "server/store/scan_store.h"

#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/store/event_store.h"
#include "server/store/pg.h"
#include "server/store/query.h"
#include "server/store/scan_queries.h"
#include "server/store/sql_array.h"
#include "server/util/status_macros.h"

namespace turnout::store {
namespace {

using domain::ChoiceStatus;
using domain::Direction;
using domain::FromStored;
using domain::RegistrationStatus;
using domain::ScanStatus;
using domain::Stored;
namespace q = scan_queries;

std::optional<absl::Time> TimeOrNull(const pqxx::row& r, const char* column) {
  if (r[column].is_null()) return std::nullopt;
  return FromMicros(r[column].as<int64_t>());
}

// NULL times travel as -1: no scan predates 1970.
int64_t MicrosOrMinusOne(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return -1;
  return ToMicros(t);
}
int64_t MicrosOrMinusOne(const std::optional<absl::Time>& t) {
  return t ? ToMicros(*t) : int64_t{-1};
}

// A row of q::kFindScan: a scan this device sent before under the same client_scan_id.
struct FoundScan {
  int64_t id = 0;
  ScanStatus status = ScanStatus::kInvalid;
  int64_t registration_id = 0;  // 0: none (a refused code)
  std::optional<absl::Time> first_entry_at;
  int64_t checkpoint_id = 0;
  std::string request_digest;
};

FoundScan ReadFoundScan(const pqxx::row& r) {
  return {Column<int64_t>(r, "id"),
          FromStored<ScanStatus>(Column<int>(r, "status")),
          ColumnOr<int64_t>(r, "registration_id", 0),
          TimeOrNull(r, "first_entry_us"),
          Column<int64_t>(r, "checkpoint_id"),
          Column<std::string>(r, "request_digest")};
}

std::optional<FoundScan> FindScan(pqxx::work& txn, const ScanInput& in) {
  pqxx::result r = Run(txn, q::kFindScan, in.event_id, in.device_id, in.client_scan_id);
  if (r.empty()) return std::nullopt;
  return ReadFoundScan(r[0]);
}

// A row of q::kCheckpoint: the checkpoint as the scan rules see it.
struct ScanCheckpoint {
  int64_t id = 0;
  domain::CheckpointView view;
  bool event_purged = false;
};

ScanCheckpoint ReadCheckpoint(const pqxx::row& r, int64_t event_id) {
  ScanCheckpoint c;
  c.id = Column<int64_t>(r, "id");
  c.event_purged = Column<bool>(r, "event_purged");
  domain::CheckpointView& v = c.view;
  v.event_id = event_id;
  if (!r["session_id"].is_null()) v.session_id = Column<int64_t>(r, "session_id");
  v.requires_selection = Column<bool>(r, "requires_selection");
  v.capacity = v.session_id ? Column<int32_t>(r, "capacity") : 0;
  v.opens_at = FromMicros(Column<int64_t>(r, "open_us"));
  v.closes_at = FromMicros(Column<int64_t>(r, "close_us"));
  v.allow_reentry = Column<bool>(r, "allow_reentry");
  v.event_published = Column<bool>(r, "event_published");
  return c;
}

// Checkpoint `checkpoint_id` (0: the entrance) of the event; NOT_FOUND if there is none.
absl::StatusOr<ScanCheckpoint> GetCheckpoint(pqxx::work& txn, int64_t event_id,
                                             int64_t checkpoint_id) {
  pqxx::result r =
      Run(txn, q::kCheckpoint, event_id, checkpoint_id, Stored(domain::EventState::kPublished));
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat("checkpoint events/", event_id, "/checkpoints/",
                                            checkpoint_id, " does not exist"));
  }
  return ReadCheckpoint(r[0], event_id);
}

// What the door sees of a registration, from a row of q::kTicket or q::kRegistration: display
// name, language and flags (contact fields stay sealed).
RegistrationRecord ReadDoorFields(const pqxx::row& r, int64_t event_id, int64_t id) {
  RegistrationRecord reg;
  reg.event_id = event_id;
  reg.id = id;
  reg.status = Column<int>(r, "registration_status");
  reg.display_name = Column<std::string>(r, "display_name");
  reg.preferred_language = Column<std::string>(r, "preferred_language");
  for (absl::string_view f :
       absl::StrSplit(Column<std::string>(r, "attention_flags"), ',', absl::SkipEmpty())) {
    int flag = 0;
    if (absl::SimpleAtoi(f, &flag)) reg.attention_flags.push_back(flag);
  }
  return reg;
}

// A row of q::kTicket.
struct TicketRow {
  int64_t registration_id = 0;
  bool superseded = false;
  RegistrationStatus registration_status = RegistrationStatus::kConfirmed;
};

TicketRow ReadTicket(const pqxx::row& r) {
  return {Column<int64_t>(r, "registration_id"), Column<bool>(r, "superseded"),
          FromStored<RegistrationStatus>(Column<int>(r, "registration_status"))};
}

// A row of q::kChoices.
ChoiceRecord ReadChoice(const pqxx::row& r) {
  return ChoiceRecord{Column<int64_t>(r, "session_id"), Column<int32_t>(r, "round"),
                      Column<int>(r, "status"), Column<std::string>(r, "title"),
                      Column<std::string>(r, "room")};
}

std::vector<ChoiceRecord> Choices(pqxx::work& txn, int64_t event_id, int64_t registration_id) {
  std::vector<ChoiceRecord> choices;
  for (const pqxx::row& r : Run(txn, q::kChoices, event_id, registration_id)) {
    choices.push_back(ReadChoice(r));
  }
  return choices;
}

absl::Status RegistrationNotFound(int64_t event_id, int64_t id) {
  return absl::NotFoundError(
      absl::StrCat("registration events/", event_id, "/registrations/", id, " does not exist"));
}

// The door sees display name, flags, language and choices; contact fields stay sealed.
absl::StatusOr<RegistrationRecord> DoorView(pqxx::work& txn, int64_t event_id, int64_t id) {
  pqxx::result r = Run(txn, q::kRegistration, event_id, id);
  if (r.empty()) return RegistrationNotFound(event_id, id);
  RegistrationRecord reg = ReadDoorFields(r[0], event_id, id);
  reg.choices = Choices(txn, event_id, id);
  return reg;
}

// The answer to a client_scan_id this device sent before: the scan's status now (canonical; an
// earlier scan that arrived later may have changed it), if the request is the same scan. The
// same id for another code, checkpoint or direction is a mistake in the door's software, and
// answering it as a retry would show one person's name for another's scan.
absl::StatusOr<ScanOutcome> Replay(pqxx::work& txn, const FoundScan& found, const ScanInput& in) {
  bool same_checkpoint = found.checkpoint_id == in.checkpoint_id;
  if (!same_checkpoint && in.checkpoint_id == 0) {  // the entrance, by default
    auto entrance = GetCheckpoint(txn, in.event_id, 0);
    same_checkpoint = entrance.ok() && entrance->id == found.checkpoint_id;
  }
  // Scans logged before digests were kept have none; their id alone identifies them.
  if (!same_checkpoint ||
      (!found.request_digest.empty() && found.request_digest != in.request_digest)) {
    return absl::AlreadyExistsError(
        "client_scan_id: this device already used it for a different scan (another code, "
        "checkpoint or direction); send a new id with every scan and the same id only to retry");
  }
  ScanOutcome out;
  out.scan_id = found.id;
  out.status = found.status;
  out.checkpoint_id = found.checkpoint_id;
  out.replayed = true;
  out.first_entry_time = found.first_entry_at;
  if (found.registration_id != 0) {
    auto reg = DoorView(txn, in.event_id, found.registration_id);
    if (reg.ok()) out.registration = *std::move(reg);
  }
  return out;
}

// The code is genuine (a revoked key's included: the rules refuse it with its own status).
bool CodeValid(const ScanInput& in) {
  return in.verified.check == domain::CodeCheck::kValid ||
         in.verified.check == domain::CodeCheck::kKeyRevoked;
}

// What the server knows about the scanned code, and the registration it names in this event.
struct Lookup {
  domain::TicketView ticket;
  int64_t registration_id = 0;  // in the door's event, else 0
  // What the door sees of that registration: display name, language, flags, choices.
  std::optional<RegistrationRecord> door_view;
};

// What a scan's code or search names, as read before anything is locked: a row of
// q::kBatchLookup, or of q::kTicket / q::kRegistration (LookUpTicket).
struct LookupRow {
  bool found = false;  // the device sent this client_scan_id before
  std::optional<ScanCheckpoint> checkpoint;
  bool ticket_known = false;
  bool superseded = false;
  int64_t registration_id = 0;  // the ticket's or the searched registration, 0 if none
  std::optional<RegistrationRecord> registration;  // its door fields (status included)
};

LookupRow ReadLookup(const pqxx::row& r, int64_t event_id) {
  LookupRow row;
  row.found = Column<bool>(r, "found");
  if (!r["id"].is_null()) row.checkpoint = ReadCheckpoint(r, event_id);
  row.ticket_known = Column<bool>(r, "ticket_known");
  row.superseded = Column<bool>(r, "superseded");
  row.registration_id = ColumnOr<int64_t>(r, "registration_id", 0);
  if (row.registration_id != 0) {
    row.registration = ReadDoorFields(r, event_id, row.registration_id);
  }
  return row;
}

// The ticket as the rules see it, from the code and the looked-up rows. `registration_id` and
// `door_view` (without choices) are set only when the registration belongs to the door's event.
absl::StatusOr<Lookup> LookupOf(const ScanInput& in, const LookupRow& row) {
  Lookup l;
  if (in.registration_id != 0) {
    if (row.registration_id == 0) return RegistrationNotFound(in.event_id, in.registration_id);
    l.ticket.code_valid = true;
    l.ticket.known = true;
    l.ticket.event_id = in.event_id;
  } else {
    l.ticket.code_valid = CodeValid(in);
    l.ticket.key_revoked = in.verified.check == domain::CodeCheck::kKeyRevoked;
    if (!l.ticket.code_valid) return l;
    l.ticket.event_id = in.verified.claims.event_id;
    l.ticket.not_after = in.verified.claims.not_after;
    if (!row.ticket_known) return l;
    l.ticket.known = true;
    l.ticket.superseded = row.superseded;
  }
  l.ticket.registration = FromStored<RegistrationStatus>(row.registration->status);
  if (l.ticket.event_id == in.event_id) {  // another event's attendee stays anonymous here
    l.registration_id = row.registration_id;
    l.door_view = row.registration;
  }
  return l;
}

// Gives the door view its choices, and the rules the confirmed ones.
void AddChoices(Lookup& l, std::vector<ChoiceRecord> choices) {
  for (const ChoiceRecord& choice : choices) {
    if (choice.status == Stored(ChoiceStatus::kConfirmed)) {
      l.ticket.confirmed_session_ids.push_back(choice.session_id);
    }
  }
  l.door_view->choices = std::move(choices);
}

// The one-scan path's look-up: one round trip per question, the ticket (or the searched
// registration) with the registration's door fields, then the choices.
absl::StatusOr<Lookup> LookUpTicket(pqxx::work& txn, const ScanInput& in) {
  LookupRow row;
  if (in.registration_id != 0) {
    pqxx::result r = Run(txn, q::kRegistration, in.event_id, in.registration_id);
    if (!r.empty()) {
      row.registration_id = in.registration_id;
      row.registration = ReadDoorFields(r[0], in.event_id, in.registration_id);
    }
  } else if (CodeValid(in)) {
    const domain::TicketClaims& claims = in.verified.claims;
    pqxx::result r = Run(txn, q::kTicket, static_cast<int64_t>(claims.event_id),
                         domain::TicketIdToHex(claims.ticket_id));
    if (!r.empty()) {
      const TicketRow ticket = ReadTicket(r[0]);
      row.ticket_known = true;
      row.superseded = ticket.superseded;
      row.registration_id = ticket.registration_id;
      row.registration = ReadDoorFields(r[0], in.event_id, ticket.registration_id);
    }
  }
  ASSIGN_OR_RETURN(Lookup l, LookupOf(in, row));
  if (l.registration_id != 0) AddChoices(l, Choices(txn, in.event_id, l.registration_id));
  return l;
}

// A row of q::kPresenceUpsert: what the rules see of a ticket's presence, and the time of the
// latest scan that settled it.
struct StoredPresence {
  domain::PresenceView view;
  absl::Time last_scan_at = absl::InfinitePast();
  absl::Time locked_at;  // the database's clock once the row was locked
};

StoredPresence ReadPresence(const pqxx::row& r) {
  StoredPresence p;
  p.view.ever_admitted = Column<bool>(r, "ever_admitted");
  p.view.inside = Column<bool>(r, "inside");
  p.view.first_entry_at = TimeOrNull(r, "first_entry_us").value_or(absl::InfinitePast());
  p.view.last_change_at = TimeOrNull(r, "last_change_us").value_or(absl::InfinitePast());
  p.last_scan_at = TimeOrNull(r, "last_scan_us").value_or(absl::InfinitePast());
  p.locked_at = FromMicros(Column<int64_t>(r, "locked_us"));
  return p;
}

// Locks the presence row of (event $1, checkpoint $2, registration $3).
constexpr Query kPresenceLock{"presence_lock", R"(
    SELECT 1 FROM presence WHERE event_id = $1 AND checkpoint_id = $2 AND registration_id = $3
    FOR UPDATE)"};

// Sets the presence of ($1, $2, $3): ever admitted $4, inside $5, first entry $6, last change $7,
// last scan $8 (times in microseconds, -1 for NULL).
constexpr Query kPresenceUpdate{"presence_update", R"(
    UPDATE presence SET ever_admitted = $4, inside = $5,
           first_entry_time = CASE WHEN $6::bigint < 0 THEN NULL ELSE ts_of($6::bigint) END,
           last_change_time = CASE WHEN $7::bigint < 0 THEN NULL ELSE ts_of($7::bigint) END,
           last_scan_time = CASE WHEN $8::bigint < 0 THEN NULL ELSE ts_of($8::bigint) END
    WHERE event_id = $1 AND checkpoint_id = $2 AND registration_id = $3)"};

void WritePresence(pqxx::work& txn, int64_t event_id, int64_t checkpoint_id,
                   int64_t registration_id, const domain::PresenceView& p,
                   absl::Time last_scan_at) {
  Run(txn, kPresenceUpdate, event_id, checkpoint_id, registration_id, p.ever_admitted, p.inside,
      MicrosOrMinusOne(p.first_entry_at), MicrosOrMinusOne(p.last_change_at),
      MicrosOrMinusOne(last_scan_at));
}

// Locks checkpoint $2 of event $1: scans that may fill a room take it one at a time.
constexpr Query kCheckpointLock{"checkpoint_lock", R"(
    SELECT 1 FROM checkpoints WHERE event_id = $1 AND id = $2 FOR UPDATE)"};

// How many are inside checkpoint $2 of event $1.
constexpr Query kInsideCount{"checkpoint_inside_count", R"(
    SELECT count(*) AS inside FROM presence
    WHERE event_id = $1 AND checkpoint_id = $2 AND inside)"};

// The ticket's scans at the checkpoint ($1 event, $2 checkpoint, $3 registration) whose answer
// depends on its presence there (status $4, $5 or $6), not annulled, in canonical order: scan
// time, then arrival.
constexpr Query kHistory{"scan_history", R"(
    SELECT id, direction, us_of(scanned_time) AS scanned_us, status,
           us_of(first_entry_time) AS first_entry_us
    FROM scans
    WHERE event_id = $1 AND checkpoint_id = $2 AND registration_id = $3
      AND status IN ($4, $5, $6) AND annul_time IS NULL
    ORDER BY scanned_time, id)"};

// A scan of the ticket's history at one checkpoint, as logged: a row of kHistory.
struct HistoryRow {
  int64_t scan_id = 0;
  domain::LoggedScan scan;
  ScanStatus status = ScanStatus::kAdmitted;
  std::optional<absl::Time> first_entry_at;
};

HistoryRow ReadHistory(const pqxx::row& r) {
  HistoryRow row;
  row.scan_id = Column<int64_t>(r, "id");
  row.scan.direction = FromStored<Direction>(Column<int>(r, "direction"));
  row.scan.at = FromMicros(Column<int64_t>(r, "scanned_us"));
  row.status = FromStored<ScanStatus>(Column<int>(r, "status"));
  row.first_entry_at = TimeOrNull(r, "first_entry_us");
  return row;
}

std::vector<HistoryRow> LoadHistory(pqxx::work& txn, int64_t event_id, int64_t checkpoint_id,
                                    int64_t registration_id) {
  std::vector<HistoryRow> history;
  for (const pqxx::row& r :
       Run(txn, kHistory, event_id, checkpoint_id, registration_id, Stored(ScanStatus::kAdmitted),
           Stored(ScanStatus::kExitRecorded), Stored(ScanStatus::kAlreadyCheckedIn))) {
    history.push_back(ReadHistory(r));
  }
  return history;
}

// Sets scan $2 of event $1 to status $3 with first entry $4 (microseconds, -1 for NULL).
constexpr Query kRedecide{"scan_redecide", R"(
    UPDATE scans SET status = $3,
           first_entry_time = CASE WHEN $4::bigint < 0 THEN NULL ELSE ts_of($4::bigint) END
    WHERE event_id = $1 AND id = $2)"};

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
    Run(txn, kRedecide, event_id, history[i].scan_id, Stored(now.status),
        MicrosOrMinusOne(now.first_entry_at));
  }
  const absl::Time last_scan_at = history.empty() ? absl::InfinitePast() : history.back().scan.at;
  WritePresence(txn, event_id, checkpoint_id, registration_id, replay.presence, last_scan_at);
}

// Scan $2 of event $1, locked, with what Annul decides on.
constexpr Query kScanForAnnul{"scan_for_annul", R"(
    SELECT device_id, status, us_of(received_time) AS received_us,
           annul_time IS NOT NULL AS annulled, checkpoint_id, registration_id
    FROM scans WHERE event_id = $1 AND id = $2 FOR UPDATE)"};

struct AnnulRow {
  int64_t device_id = 0;
  ScanStatus status = ScanStatus::kInvalid;
  absl::Time received_at;
  bool annulled = false;
  int64_t checkpoint_id = 0;
  int64_t registration_id = 0;  // 0: none
};

AnnulRow ReadAnnulRow(const pqxx::row& r) {
  return {Column<int64_t>(r, "device_id"),
          FromStored<ScanStatus>(Column<int>(r, "status")),
          FromMicros(Column<int64_t>(r, "received_us")),
          Column<bool>(r, "annulled"),
          Column<int64_t>(r, "checkpoint_id"),
          ColumnOr<int64_t>(r, "registration_id", 0)};
}

// Annuls scan $2 of event $1 at $3 (µs).
constexpr Query kAnnul{"scan_annul",
                       "UPDATE scans SET annul_time = ts_of($3) WHERE event_id = $1 AND id = $2"};

// Offline scans of event $1 whose door decision differs from their canonical status.
constexpr Query kConflicts{"scan_conflicts", R"(
    SELECT count(*) AS conflicts FROM scans
    WHERE event_id = $1 AND offline AND device_status IS NOT NULL
      AND device_status <> status AND annul_time IS NULL)"};

// Per checkpoint of event $1: tickets ever admitted, tickets inside.
constexpr Query kAttendancePresence{"attendance_presence", R"(
    SELECT checkpoint_id, count(*) FILTER (WHERE ever_admitted) AS checked_in,
           count(*) FILTER (WHERE inside) AS inside
    FROM presence WHERE event_id = $1 GROUP BY checkpoint_id)"};

// Registrations of event $1 with status $2 (CONFIRMED).
constexpr Query kAttendanceConfirmed{"attendance_confirmed", R"(
    SELECT count(*) AS confirmed FROM registrations WHERE event_id = $1 AND status = $2)"};

// Per session of event $1: confirmed registrations ($3) with a confirmed seat ($2). A purged
// event's choices are gone; their tally stays (purge_store.h).
constexpr Query kAttendanceSelected{"attendance_selected", R"(
    SELECT session_id, sum(n)::bigint AS selected FROM (
      SELECT sc.session_id, count(*) AS n FROM session_choices sc
      JOIN registrations r ON r.event_id = sc.event_id AND r.id = sc.registration_id
      WHERE sc.event_id = $1 AND sc.status = $2 AND r.status = $3 GROUP BY sc.session_id
      UNION ALL
      SELECT session_id, selected FROM purged_session_counts WHERE event_id = $1) t
    GROUP BY session_id)"};

// Per checkpoint of event $1: scans with status $2 (ADMITTED) received in the minute before $3
// (µs).
constexpr Query kAttendanceArrivals{"attendance_arrivals", R"(
    SELECT checkpoint_id, count(*) AS arrivals FROM scans
    WHERE event_id = $1 AND status = $2 AND annul_time IS NULL
      AND received_time > ts_of($3) - interval '1 minute'
    GROUP BY checkpoint_id)"};


// --- The batch path (PgScanStore::RecordScans) ---

// A ticket's presence row at a checkpoint.
struct PresenceKey {
  int64_t event_id = 0;
  int64_t checkpoint_id = 0;
  int64_t registration_id = 0;
  friend bool operator<(const PresenceKey& a, const PresenceKey& b) {
    return std::tie(a.event_id, a.checkpoint_id, a.registration_id) <
           std::tie(b.event_id, b.checkpoint_id, b.registration_id);
  }
};

// Decides a batch in order with the same rules as RecordScan, from state read once for the whole
// batch, and writes the decided scans together (Flush). A scan this cannot decide from that state
// (a retry, a duplicate id in the batch, a scan older than its ticket's latest, a purged event)
// is handed to RecordScan after the writes before it, and its ticket's and checkpoint's state
// are read afresh for the scans after it.
class BatchRecorder {
 public:
  BatchRecorder(pqxx::work& txn, const std::vector<const ScanInput*>& inputs)
      : txn_(txn), inputs_(inputs), outcomes_(inputs.size()) {}

  std::vector<absl::StatusOr<ScanOutcome>> Run();

 private:
  struct PendingScan {
    size_t index = 0;  // in inputs_
    int64_t checkpoint_id = 0;
    int64_t registration_id = 0;
    absl::Time at;
    ScanStatus status = ScanStatus::kInvalid;
    std::optional<absl::Time> first_entry_at;
    bool traced = false;  // refused: keeps a trace of what was read (ScanInput::code_hash)
  };

  void ReadAll();
  void LockPresence();
  void Decide(size_t i);
  void DecideAlone(size_t i);
  // How many are inside `checkpoint` now, counting the decisions not yet written.
  int32_t Inside(int64_t event_id, int64_t checkpoint_id);
  void Flush();

  pqxx::work& txn_;
  const std::vector<const ScanInput*>& inputs_;
  std::vector<absl::StatusOr<ScanOutcome>> outcomes_;
  std::vector<LookupRow> rows_;
  std::map<std::pair<int64_t, int64_t>, std::vector<ChoiceRecord>> choices_;
  std::map<PresenceKey, StoredPresence> presence_;    // as the decisions so far leave it
  std::set<PresenceKey> unsettled_;                   // presence_ is stale: a scan went alone
  std::set<PresenceKey> moved_;                       // presence_ to write
  std::map<std::pair<int64_t, int64_t>, int32_t> inside_;  // by (event, checkpoint), locked
  std::set<std::tuple<int64_t, int64_t, std::string>> client_scan_ids_;
  std::vector<PendingScan> pending_;
};

std::vector<absl::StatusOr<ScanOutcome>> BatchRecorder::Run() {
  ReadAll();
  LockPresence();
  for (size_t i = 0; i < inputs_.size(); ++i) Decide(i);
  Flush();
  return std::move(outcomes_);
}

void BatchRecorder::ReadAll() {
  SqlArray events, checkpoints, devices, client_scan_ids, code_events, tickets, registrations;
  for (const ScanInput* in : inputs_) {
    events.AddInt(in->event_id);
    checkpoints.AddInt(in->checkpoint_id);
    devices.AddInt(in->device_id);
    client_scan_ids.AddText(in->client_scan_id);
    if (in->registration_id == 0 && CodeValid(*in)) {
      code_events.AddInt(static_cast<int64_t>(in->verified.claims.event_id));
      tickets.AddText(domain::TicketIdToHex(in->verified.claims.ticket_id));
    } else {
      code_events.AddNull();
      tickets.AddNull();
    }
    registrations.AddInt(in->registration_id);
  }
  pqxx::result r = store::Run(txn_, q::kBatchLookup, events.Text(), checkpoints.Text(),
                              Stored(domain::EventState::kPublished), devices.Text(),
                              client_scan_ids.Text(), code_events.Text(), tickets.Text(),
                              registrations.Text());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    rows_.push_back(ReadLookup(r[static_cast<int>(i)], inputs_[i]->event_id));
  }
  std::set<std::pair<int64_t, int64_t>> wanted;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (rows_[i].registration_id != 0) wanted.insert({inputs_[i]->event_id, rows_[i].registration_id});
  }
  if (wanted.empty()) return;
  SqlArray choice_events, choice_registrations;
  for (const auto& [event_id, registration_id] : wanted) {
    choice_events.AddInt(event_id);
    choice_registrations.AddInt(registration_id);
  }
  for (const pqxx::row& c :
       store::Run(txn_, q::kBatchChoices, choice_events.Text(), choice_registrations.Text())) {
    choices_[{Column<int64_t>(c, "event_id"), Column<int64_t>(c, "registration_id")}].push_back(
        ReadChoice(c));
  }
}

void BatchRecorder::LockPresence() {
  std::set<PresenceKey> keys;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const LookupRow& row = rows_[i];
    if (row.found || !row.checkpoint || row.checkpoint->event_purged) continue;
    auto lookup = LookupOf(*inputs_[i], row);
    if (!lookup.ok() || lookup->registration_id == 0) continue;
    keys.insert({inputs_[i]->event_id, row.checkpoint->id, lookup->registration_id});
  }
  if (keys.empty()) return;
  SqlArray events, checkpoints, registrations;
  for (const PresenceKey& k : keys) {
    events.AddInt(k.event_id);
    checkpoints.AddInt(k.checkpoint_id);
    registrations.AddInt(k.registration_id);
  }
  for (const pqxx::row& r : store::Run(txn_, q::kBatchPresence, events.Text(),
                                       checkpoints.Text(), registrations.Text())) {
    presence_[{Column<int64_t>(r, "event_id"), Column<int64_t>(r, "checkpoint_id"),
               Column<int64_t>(r, "registration_id")}] = ReadPresence(r);
  }
}

void BatchRecorder::DecideAlone(size_t i) {
  Flush();
  const ScanInput& in = *inputs_[i];
  outcomes_[i] = PgScanStore::RecordScan(txn_, in);
  // What it changed is read afresh by the scans after it.
  if (rows_[i].checkpoint) {
    inside_.erase({in.event_id, rows_[i].checkpoint->id});
    if (rows_[i].registration_id != 0) {
      unsettled_.insert({in.event_id, rows_[i].checkpoint->id, rows_[i].registration_id});
    }
  }
}

int32_t BatchRecorder::Inside(int64_t event_id, int64_t checkpoint_id) {
  auto it = inside_.find({event_id, checkpoint_id});
  if (it != inside_.end()) return it->second;
  Flush();  // the count below sees every decision before this one
  store::Run(txn_, kCheckpointLock, event_id, checkpoint_id);
  const int32_t inside =
      Column<int32_t>(store::Run(txn_, kInsideCount, event_id, checkpoint_id)[0], "inside");
  inside_[{event_id, checkpoint_id}] = inside;
  return inside;
}

void BatchRecorder::Decide(size_t i) {
  const ScanInput& in = *inputs_[i];
  const LookupRow& row = rows_[i];
  const bool repeated =
      !client_scan_ids_.insert({in.event_id, in.device_id, in.client_scan_id}).second;
  if (row.found || repeated) return DecideAlone(i);
  if (!row.checkpoint) {
    outcomes_[i] = absl::NotFoundError(absl::StrCat(
        "checkpoint events/", in.event_id, "/checkpoints/", in.checkpoint_id, " does not exist"));
    return;
  }
  if (row.checkpoint->event_purged) return DecideAlone(i);
  auto lookup = LookupOf(in, row);
  if (!lookup.ok()) {
    outcomes_[i] = lookup.status();
    return;
  }
  const ScanCheckpoint& checkpoint = *row.checkpoint;
  const int64_t reg_id = lookup->registration_id;
  const PresenceKey key{in.event_id, checkpoint.id, reg_id};
  StoredPresence stored;
  if (reg_id != 0) {
    if (unsettled_.count(key) > 0) return DecideAlone(i);
    stored = presence_.at(key);
  }
  const absl::Time at = in.scanned_now && reg_id != 0 ? stored.locked_at : in.scanned_at;
  if (stored.last_scan_at > at) return DecideAlone(i);  // older than the ticket's latest: Settle

  if (reg_id != 0) {
    auto it = choices_.find({in.event_id, reg_id});
    AddChoices(*lookup, it != choices_.end() ? it->second : std::vector<ChoiceRecord>());
  }
  domain::CheckpointView view = checkpoint.view;
  const domain::PresenceView presence = stored.view;
  const bool counts_inside = reg_id != 0 && view.session_id && !view.requires_selection &&
                             view.capacity > 0;
  if (counts_inside && in.direction == Direction::kEntry && !presence.inside) {
    view.inside_count = Inside(in.event_id, checkpoint.id);
  }
  const domain::ScanAttempt attempt{in.direction, at};
  const domain::ScanDecision decision = domain::DecideScan(lookup->ticket, view, presence, attempt);
  const domain::PresenceView after = domain::ApplyScan(presence, decision, attempt);

  ScanOutcome out;
  out.status = decision.status;
  out.checkpoint_id = checkpoint.id;
  out.at_session = view.session_id.has_value();
  if (decision.status == ScanStatus::kAlreadyCheckedIn) out.first_entry_time = presence.first_entry_at;
  out.registration = std::move(lookup->door_view);
  if (reg_id != 0 && domain::DependsOnPresence(decision.status)) {
    StoredPresence& now = presence_.at(key);
    now.view = after;
    now.last_scan_at = at;
    moved_.insert(key);
    auto counted = inside_.find({in.event_id, checkpoint.id});
    if (counted != inside_.end()) counted->second += int{after.inside} - int{presence.inside};
  }
  pending_.push_back(
      {i, checkpoint.id, reg_id, at, decision.status, out.first_entry_time, !decision.accepted()});
  outcomes_[i] = std::move(out);
}

// The scans this batch rejected with the same client_scan_id as one that committed meanwhile
// elsewhere: the batch is rolled back and recorded one scan at a time (ScanBatcher).
class ConcurrentRetry : public std::runtime_error {
 public:
  ConcurrentRetry() : std::runtime_error("a client_scan_id of the batch committed concurrently") {}
};

void BatchRecorder::Flush() {
  if (pending_.empty()) return;
  SqlArray events, checkpoints, registrations, devices, client_scan_ids, directions, scanned,
      offline, statuses, device_statuses, first_entries, digests, hashes, lengths, headers,
      received;
  for (const PendingScan& p : pending_) {
    const ScanInput& in = *inputs_[p.index];
    const bool traced = p.traced;
    events.AddInt(in.event_id);
    checkpoints.AddInt(p.checkpoint_id);
    registrations.AddInt(p.registration_id);
    devices.AddInt(in.device_id);
    client_scan_ids.AddText(in.client_scan_id);
    directions.AddInt(Stored(in.direction));
    scanned.AddInt(ToMicros(p.at));
    offline.AddBool(in.offline);
    statuses.AddInt(Stored(p.status));
    device_statuses.AddInt(in.device_status);
    first_entries.AddInt(MicrosOrMinusOne(p.first_entry_at));
    digests.AddText(in.request_digest);
    hashes.AddText(traced ? in.code_hash : std::string());
    lengths.AddInt(traced ? in.code_length : 0);
    headers.AddText(traced ? in.code_header : std::string());
    received.AddInt(ToMicros(in.received_at));
  }
  SqlArray p_events, p_checkpoints, p_registrations, p_ever, p_inside, p_first, p_change, p_scan;
  for (const PresenceKey& k : moved_) {
    const StoredPresence& p = presence_.at(k);
    p_events.AddInt(k.event_id);
    p_checkpoints.AddInt(k.checkpoint_id);
    p_registrations.AddInt(k.registration_id);
    p_ever.AddBool(p.view.ever_admitted);
    p_inside.AddBool(p.view.inside);
    p_first.AddInt(MicrosOrMinusOne(p.view.first_entry_at));
    p_change.AddInt(MicrosOrMinusOne(p.view.last_change_at));
    p_scan.AddInt(MicrosOrMinusOne(p.last_scan_at));
  }
  pqxx::result r = store::Run(
      txn_, q::kBatchRecord, events.Text(), checkpoints.Text(), registrations.Text(),
      devices.Text(), client_scan_ids.Text(), directions.Text(), scanned.Text(), offline.Text(),
      statuses.Text(), device_statuses.Text(), first_entries.Text(), digests.Text(),
      hashes.Text(), lengths.Text(), headers.Text(), received.Text(), p_events.Text(),
      p_checkpoints.Text(), p_registrations.Text(), p_ever.Text(), p_inside.Text(),
      p_first.Text(), p_change.Text(), p_scan.Text());
  if (r.size() != pending_.size()) throw ConcurrentRetry();
  std::map<std::tuple<int64_t, int64_t, std::string>, int64_t> ids;
  for (const pqxx::row& row : r) {
    ids[{Column<int64_t>(row, "event_id"), Column<int64_t>(row, "device_id"),
         Column<std::string>(row, "client_scan_id")}] = Column<int64_t>(row, "id");
  }
  for (const PendingScan& p : pending_) {
    const ScanInput& in = *inputs_[p.index];
    outcomes_[p.index]->scan_id = ids.at({in.event_id, in.device_id, in.client_scan_id});
  }
  pending_.clear();
  moved_.clear();
}

}  // namespace

absl::StatusOr<ScanOutcome> PgScanStore::RecordScan(pqxx::work& txn, const ScanInput& in) {
  if (std::optional<FoundScan> found = FindScan(txn, in)) return Replay(txn, *found, in);
  auto checkpoint = GetCheckpoint(txn, in.event_id, in.checkpoint_id);
  if (!checkpoint.ok()) return checkpoint.status();
  if (checkpoint->event_purged) return PgEventStore::RequireNotPurged(txn, in.event_id);
  auto lookup = LookUpTicket(txn, in);
  if (!lookup.ok()) return lookup.status();
  domain::CheckpointView view = checkpoint->view;

  // Lock order, the same for every scan: the ticket's presence row, then the checkpoint row.
  const int64_t reg_id = lookup->registration_id;
  StoredPresence stored;
  if (reg_id != 0) {
    stored = ReadPresence(Run(txn, q::kPresenceUpsert, in.event_id, checkpoint->id, reg_id)[0]);
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
    Run(txn, kCheckpointLock, in.event_id, checkpoint->id);
    view.inside_count =
        Column<int32_t>(Run(txn, kInsideCount, in.event_id, checkpoint->id)[0], "inside");
  }
  const domain::ScanAttempt attempt{in.direction, at};
  const domain::ScanDecision decision = domain::DecideScan(lookup->ticket, view, presence, attempt);
  const domain::PresenceView after = domain::ApplyScan(presence, decision, attempt);
  const bool settles = reg_id != 0 && domain::DependsOnPresence(decision.status);

  ScanOutcome out;
  out.status = decision.status;
  out.checkpoint_id = checkpoint->id;
  out.at_session = view.session_id.has_value();
  if (decision.status == ScanStatus::kAlreadyCheckedIn) {
    out.first_entry_time = presence.first_entry_at;
  }
  // A refused scan keeps a trace of what was read, never the text itself (ScanInput::code_hash).
  const bool traced = !decision.accepted();
  pqxx::result recorded =
      Run(txn, q::kRecord, in.event_id, checkpoint->id, reg_id, in.device_id, in.client_scan_id,
          Stored(in.direction), ToMicros(at), in.offline, Stored(decision.status), in.device_status,
          MicrosOrMinusOne(out.first_entry_time), after.ever_admitted, after.inside,
          MicrosOrMinusOne(after.first_entry_at), MicrosOrMinusOne(after.last_change_at),
          settles && newest, in.request_digest, traced ? in.code_hash : std::string(),
          traced ? in.code_length : 0, traced ? in.code_header : std::string(),
          ToMicros(in.received_at));
  if (recorded.empty()) {
    // The same client_scan_id committed concurrently: its answer stands and this one counts
    // nothing.
    std::optional<FoundScan> committed = FindScan(txn, in);
    if (!committed) {
      return absl::AbortedError("client_scan_id: a concurrent scan with this id vanished; retry");
    }
    return Replay(txn, *committed, in);
  }
  out.scan_id = Column<int64_t>(recorded[0], "id");
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

std::vector<absl::StatusOr<ScanOutcome>> PgScanStore::RecordScans(
    pqxx::work& txn, const std::vector<const ScanInput*>& inputs) {
  return BatchRecorder(txn, inputs).Run();
}

absl::Status PgScanStore::Annul(pqxx::work& txn, int64_t event_id, int64_t scan_id,
                                int64_t device_id, absl::Time now, absl::Duration window) {
  pqxx::result r = Run(txn, kScanForAnnul, event_id, scan_id);
  if (r.empty()) {
    return absl::NotFoundError(
        absl::StrCat("scan events/", event_id, "/scans/", scan_id, " does not exist"));
  }
  const AnnulRow scan = ReadAnnulRow(r[0]);
  if (scan.device_id != device_id) {
    return absl::PermissionDeniedError("only the device that made a scan can annul it");
  }
  if (scan.annulled) return absl::OkStatus();
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  if (now - scan.received_at > window) {
    return absl::FailedPreconditionError(absl::StrCat("a scan can be annulled only within ",
                                                      absl::FormatDuration(window),
                                                      " of being made; this one is older"));
  }
  Run(txn, kAnnul, event_id, scan_id, ToMicros(now));
  if (!domain::DependsOnPresence(scan.status) || scan.registration_id == 0) {
    return absl::OkStatus();
  }
  // The scans that remain settle the presence, in the same canonical order as live scans.
  Run(txn, kPresenceLock, event_id, scan.checkpoint_id, scan.registration_id);
  auto checkpoint = GetCheckpoint(txn, event_id, scan.checkpoint_id);
  if (!checkpoint.ok()) return checkpoint.status();
  Settle(txn, event_id, scan.checkpoint_id, scan.registration_id, checkpoint->view.allow_reentry,
         LoadHistory(txn, event_id, scan.checkpoint_id, scan.registration_id));
  return absl::OkStatus();
}

int64_t PgScanStore::Conflicts(pqxx::work& txn, int64_t event_id) {
  return Column<int64_t>(Run(txn, kConflicts, event_id)[0], "conflicts");
}

absl::StatusOr<std::vector<CheckpointCountsRecord>> PgScanStore::Attendance(pqxx::work& txn,
                                                                            int64_t event_id,
                                                                            absl::Time now) {
  auto checkpoints = PgEventStore::ListCheckpoints(txn, event_id);
  if (!checkpoints.ok()) return checkpoints.status();
  std::map<int64_t, std::pair<int64_t, int64_t>> presence;
  for (const pqxx::row& r : Run(txn, kAttendancePresence, event_id)) {
    presence[Column<int64_t>(r, "checkpoint_id")] = {Column<int64_t>(r, "checked_in"),
                                                     Column<int64_t>(r, "inside")};
  }
  std::map<int64_t, int64_t> selected;
  for (const pqxx::row& r :
       Run(txn, kAttendanceSelected, event_id, Stored(ChoiceStatus::kConfirmed),
           Stored(RegistrationStatus::kConfirmed))) {
    selected[Column<int64_t>(r, "session_id")] = Column<int64_t>(r, "selected");
  }
  std::map<int64_t, int64_t> arrivals;
  for (const pqxx::row& r :
       Run(txn, kAttendanceArrivals, event_id, Stored(ScanStatus::kAdmitted), ToMicros(now))) {
    arrivals[Column<int64_t>(r, "checkpoint_id")] = Column<int64_t>(r, "arrivals");
  }
  const int64_t confirmed = Column<int64_t>(
      Run(txn, kAttendanceConfirmed, event_id, Stored(RegistrationStatus::kConfirmed))[0],
      "confirmed");
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
