#include "server/store/event_store.h"

#include "absl/strings/str_cat.h"
#include "server/domain/program.h"
#include "server/domain/scan_rules.h"
#include "server/store/pg.h"
#include "server/store/query.h"
#include "server/store/registration_store.h"

namespace turnout::store {
namespace {

using domain::EventState;
using domain::FromStored;
using domain::SessionKind;
using domain::Stored;

// The columns ReadEvent reads; the counts are the counters the registration store keeps.
constexpr char kEventColumns[] = R"(
  e.id, e.title, e.venue, e.time_zone, us_of(e.start_time) AS start_us,
  us_of(e.end_time) AS end_us, us_of(e.doors_open_time) AS doors_open_us, e.capacity, e.state,
  e.allow_reentry, us_of(e.create_time) AS create_us, us_of(e.update_time) AS update_us,
  (SELECT c.id FROM checkpoints c WHERE c.event_id = e.id AND c.session_id IS NULL)
    AS entrance_checkpoint_id,
  e.confirmed_count, e.waitlisted_count, us_of(e.purge_time) AS purge_us)";

// The columns ReadSession reads; the counts are the counters the registration store keeps
// (purged choices included).
constexpr char kSessionColumns[] = R"(
  s.event_id, s.id, s.title, s.kind, s.track, s.room, s.round, us_of(s.start_time) AS start_us,
  us_of(s.end_time) AS end_us, s.capacity, s.requires_selection, s.allow_reentry,
  (SELECT c.id FROM checkpoints c WHERE c.event_id = s.event_id AND c.session_id = s.id)
    AS checkpoint_id,
  s.confirmed_count, s.waitlisted_count)";

// The columns ReadCheckpoint reads, from kCheckpointsFrom. The entrance takes the event's
// window; a room opens kSessionDoorsOpenEarly before its session.
constexpr char kCheckpointColumns[] = R"(
  c.event_id, c.id, c.session_id,
  CASE WHEN s.id IS NULL THEN 'Entrance'
       WHEN s.round > 0 THEN s.title || ' (round ' || s.round || ')'
       ELSE s.title END AS title,
  coalesce(s.capacity, e.capacity) AS capacity,
  coalesce(s.requires_selection, false) AS requires_selection,
  coalesce(s.allow_reentry, e.allow_reentry) AS allow_reentry,
  us_of(coalesce(s.start_time - interval '30 minutes', e.doors_open_time)) AS open_us,
  us_of(coalesce(s.end_time, e.end_time)) AS close_us, coalesce(s.room, '') AS room,
  e.purge_time IS NOT NULL AS event_purged, e.state AS event_state)";
constexpr char kCheckpointsFrom[] = R"(
  FROM checkpoints c JOIN events e ON e.id = c.event_id
  LEFT JOIN sessions s ON s.event_id = c.event_id AND s.id = c.session_id)";

// Events.
constexpr auto kGetEventSql = SqlText("SELECT ", kEventColumns, R"(
    FROM events e WHERE e.id = $1)");
constexpr Query kGetEvent{"event_get", kGetEventSql.data()};
constexpr auto kEventByRequestSql = SqlText("SELECT ", kEventColumns, R"(
    FROM events e WHERE e.request_id = $1)");
constexpr Query kEventByRequest{"event_by_request", kEventByRequestSql.data()};
constexpr auto kListEventsSql = SqlText("SELECT ", kEventColumns, R"(
    FROM events e WHERE e.id > $1 ORDER BY e.id LIMIT $2)");
constexpr Query kListEvents{"event_list", kListEventsSql.data()};

// Sessions.
constexpr auto kGetSessionSql = SqlText("SELECT ", kSessionColumns, R"(
    FROM sessions s WHERE s.event_id = $1 AND s.id = $2)");
constexpr Query kGetSession{"session_get", kGetSessionSql.data()};
constexpr auto kSessionByRequestSql = SqlText("SELECT ", kSessionColumns, R"(
    FROM sessions s WHERE s.event_id = $1 AND s.request_id = $2)");
constexpr Query kSessionByRequest{"session_by_request", kSessionByRequestSql.data()};
// Pages by the whole sort key, so that sessions created out of start time order are all listed.
constexpr auto kListSessionsSql = SqlText("SELECT ", kSessionColumns, R"(
    FROM sessions s
    WHERE s.event_id = $1 AND ($3::bigint = 0 OR (s.start_time, s.id) > (ts_of($2), $3::bigint))
    ORDER BY s.start_time, s.id LIMIT $4)");
constexpr Query kListSessions{"session_list", kListSessionsSql.data()};

constexpr auto kListCheckpointsSql = SqlText("SELECT ", kCheckpointColumns, kCheckpointsFrom, R"(
    WHERE c.event_id = $1 ORDER BY c.session_id NULLS FIRST, s.start_time, c.id)");
constexpr Query kListCheckpoints{"checkpoint_list", kListCheckpointsSql.data()};
constexpr auto kGetCheckpointSql = SqlText("SELECT ", kCheckpointColumns, kCheckpointsFrom, R"(
    WHERE c.event_id = $1 AND (c.id = $2 OR ($2 = 0 AND c.session_id IS NULL)))");
constexpr Query kGetCheckpoint{"checkpoint_get", kGetCheckpointSql.data()};

constexpr Query kInsertEvent{"event_insert", R"(
    INSERT INTO events (title, venue, time_zone, start_time, end_time, doors_open_time,
                        capacity, state, allow_reentry, request_id)
    VALUES ($1, $2, $3, ts_of($4), ts_of($5), ts_of($6), $7, $8, $9, NULLIF($10, ''))
    RETURNING id)"};
// Calls with one request_id $1 take turns (events are distributed by id: no unique index spans
// them); the next one finds what the first created.
constexpr Query kEventRequestLock{"event_request_lock",
                                  "SELECT pg_advisory_xact_lock(74110016, hashtext($1))"};
constexpr Query kInsertEntrance{"entrance_insert",
                                "INSERT INTO checkpoints (event_id, session_id) VALUES ($1, NULL)"};
constexpr Query kUpdateEvent{"event_update", R"(
    UPDATE events SET title = $2, venue = $3, time_zone = $4, start_time = ts_of($5),
           end_time = ts_of($6), doors_open_time = ts_of($7), capacity = $8, state = $9,
           allow_reentry = $10, update_time = now()
    WHERE id = $1)"};
// Before a postponement's promotions: every waitlisted registration of the event ($1), whom a
// promotion may confirm ($2 kWaitlisted), then every session, each in id order (the lock order of
// registration_store.h), so that the promotions lock nothing more.
constexpr Query kLockWaitlisted{"event_waitlisted_lock", R"(
    SELECT id FROM registrations WHERE event_id = $1 AND status = $2
    ORDER BY id FOR NO KEY UPDATE)"};
constexpr Query kLockSessions{"event_sessions_lock", R"(
    SELECT id FROM sessions WHERE event_id = $1 ORDER BY id FOR NO KEY UPDATE)"};
constexpr Query kShiftSessions{"sessions_shift", R"(
    UPDATE sessions SET start_time = start_time + $2 * interval '1 microsecond',
                        end_time = end_time + $2 * interval '1 microsecond'
    WHERE event_id = $1)"};
constexpr Query kEarliestTicketExpiry{"tickets_earliest_expiry", R"(
    SELECT us_of(min(expire_time)) AS expire_us FROM tickets
    WHERE event_id = $1 AND superseded_time IS NULL)"};

constexpr Query kInsertSession{"session_insert", R"(
    INSERT INTO sessions (event_id, title, kind, track, room, round, start_time, end_time,
                          capacity, requires_selection, allow_reentry, request_id)
    VALUES ($1, $2, $3, $4, $5, $6, ts_of($7), ts_of($8), $9, $10, $11, NULLIF($12, ''))
    ON CONFLICT (event_id, request_id) DO NOTHING
    RETURNING id)"};
constexpr Query kInsertSessionCheckpoint{
    "session_checkpoint_insert", "INSERT INTO checkpoints (event_id, session_id) VALUES ($1, $2)"};
constexpr Query kUpdateSession{"session_update", R"(
    UPDATE sessions SET title = $3, kind = $4, track = $5, room = $6, round = $7,
           start_time = ts_of($8), end_time = ts_of($9), capacity = $10,
           requires_selection = $11, allow_reentry = $12
    WHERE event_id = $1 AND id = $2)"};

// FOR NO KEY UPDATE, as registration_store.h takes them: rows inserted meanwhile (a
// registration, a scan) may still refer to the locked row.
constexpr Query kLockEvent{"event_lock_for_update",
                           "SELECT 1 FROM events WHERE id = $1 FOR NO KEY UPDATE"};
constexpr Query kLockSession{
    "session_lock_for_update",
    "SELECT 1 FROM sessions WHERE event_id = $1 AND id = $2 FOR NO KEY UPDATE"};
constexpr Query kEventPurgeTime{"event_purge_time",
                                "SELECT us_of(purge_time) AS purge_us FROM events WHERE id = $1"};

absl::Time TimeColumn(const pqxx::row& r, const char* name) {
  return FromMicros(Column<int64_t>(r, name));
}

EventRecord ReadEvent(const pqxx::row& r) {
  EventRecord e;
  e.id = Column<int64_t>(r, "id");
  e.title = Column<std::string>(r, "title");
  e.venue = Column<std::string>(r, "venue");
  e.time_zone = Column<std::string>(r, "time_zone");
  e.start_time = TimeColumn(r, "start_us");
  e.end_time = TimeColumn(r, "end_us");
  e.doors_open_time = TimeColumn(r, "doors_open_us");
  e.capacity = Column<int32_t>(r, "capacity");
  e.state = FromStored<EventState>(Column<int>(r, "state"));
  e.allow_reentry = Column<bool>(r, "allow_reentry");
  e.create_time = TimeColumn(r, "create_us");
  e.update_time = TimeColumn(r, "update_us");
  e.entrance_checkpoint_id = ColumnOr<int64_t>(r, "entrance_checkpoint_id", 0);
  e.confirmed_count = Column<int32_t>(r, "confirmed_count");
  e.waitlisted_count = Column<int32_t>(r, "waitlisted_count");
  if (!r["purge_us"].is_null()) e.purge_time = TimeColumn(r, "purge_us");
  return e;
}

SessionRecord ReadSession(const pqxx::row& r) {
  SessionRecord s;
  s.event_id = Column<int64_t>(r, "event_id");
  s.id = Column<int64_t>(r, "id");
  s.title = Column<std::string>(r, "title");
  s.kind = FromStored<SessionKind>(Column<int>(r, "kind"));
  s.track = Column<std::string>(r, "track");
  s.room = Column<std::string>(r, "room");
  s.round = Column<int32_t>(r, "round");
  s.start_time = TimeColumn(r, "start_us");
  s.end_time = TimeColumn(r, "end_us");
  s.capacity = Column<int32_t>(r, "capacity");
  s.requires_selection = Column<bool>(r, "requires_selection");
  s.allow_reentry = Column<bool>(r, "allow_reentry");
  s.checkpoint_id = ColumnOr<int64_t>(r, "checkpoint_id", 0);
  s.confirmed_count = Column<int32_t>(r, "confirmed_count");
  s.waitlisted_count = Column<int32_t>(r, "waitlisted_count");
  return s;
}

CheckpointRecord ReadCheckpoint(const pqxx::row& r) {
  CheckpointRecord c;
  c.event_id = Column<int64_t>(r, "event_id");
  c.id = Column<int64_t>(r, "id");
  if (!r["session_id"].is_null()) c.session_id = Column<int64_t>(r, "session_id");
  c.title = Column<std::string>(r, "title");
  c.capacity = Column<int32_t>(r, "capacity");
  c.requires_selection = Column<bool>(r, "requires_selection");
  c.allow_reentry = Column<bool>(r, "allow_reentry");
  c.open_time = TimeColumn(r, "open_us");
  c.close_time = TimeColumn(r, "close_us");
  c.room = Column<std::string>(r, "room");
  c.event_purged = Column<bool>(r, "event_purged");
  c.event_state = Stored(FromStored<EventState>(Column<int>(r, "event_state")));
  return c;
}

int64_t ReadInsertedId(const pqxx::row& r) { return Column<int64_t>(r, "id"); }

absl::Status EventNotFound(int64_t id) {
  return absl::NotFoundError(absl::StrCat("event events/", id, " does not exist"));
}

absl::Status SessionNotFound(int64_t event_id, int64_t session_id) {
  return absl::NotFoundError(
      absl::StrCat("session events/", event_id, "/sessions/", session_id, " does not exist"));
}

bool EventExists(pqxx::work& txn, int64_t event_id) {
  return !Run(txn, kEventPurgeTime, event_id).empty();
}

}  // namespace

absl::StatusOr<EventRecord> PgEventStore::CreateEvent(pqxx::work& txn, const EventRecord& e,
                                                      absl::string_view request_id) {
  if (!request_id.empty()) {  // a request_id used before: answer with what it created
    Run(txn, kEventRequestLock, std::string(request_id));
    pqxx::result existing = Run(txn, kEventByRequest, std::string(request_id));
    if (!existing.empty()) return ReadEvent(existing[0]);
  }
  pqxx::result inserted =
      Run(txn, kInsertEvent, e.title, e.venue, e.time_zone, ToMicros(e.start_time),
          ToMicros(e.end_time), ToMicros(e.doors_open_time), e.capacity, Stored(e.state),
          e.allow_reentry, std::string(request_id));
  const int64_t id = ReadInsertedId(inserted[0]);
  Run(txn, kInsertEntrance, id);
  return GetEvent(txn, id);
}

absl::StatusOr<EventRecord> PgEventStore::GetEvent(pqxx::work& txn, int64_t event_id) {
  pqxx::result r = Run(txn, kGetEvent, event_id);
  if (r.empty()) return EventNotFound(event_id);
  return ReadEvent(r[0]);
}

absl::StatusOr<std::vector<EventRecord>> PgEventStore::ListEvents(pqxx::work& txn, int64_t after_id,
                                                                  int limit) {
  std::vector<EventRecord> events;
  for (const pqxx::row& r : Run(txn, kListEvents, after_id, limit)) {
    events.push_back(ReadEvent(r));
  }
  return events;
}

absl::StatusOr<EventRecord> PgEventStore::UpdateEvent(pqxx::work& txn, const EventRecord& e,
                                                      absl::Duration session_shift) {
  pqxx::result r = Run(txn, kUpdateEvent, e.id, e.title, e.venue, e.time_zone,
                       ToMicros(e.start_time), ToMicros(e.end_time), ToMicros(e.doors_open_time),
                       e.capacity, Stored(e.state), e.allow_reentry);
  if (r.affected_rows() == 0) return EventNotFound(e.id);
  if (session_shift != absl::ZeroDuration()) {
    Run(txn, kLockWaitlisted, e.id, Stored(domain::RegistrationStatus::kWaitlisted));
    Run(txn, kLockSessions, e.id);
    Run(txn, kShiftSessions, e.id, absl::ToInt64Microseconds(session_shift));
  }
  // A raised capacity seats people: registration rows, then the sessions they chose.
  PgRegistrationStore::PromoteWaitlisted(txn, e.id);
  return GetEvent(txn, e.id);
}

std::optional<absl::Time> PgEventStore::EarliestTicketExpiry(pqxx::work& txn, int64_t event_id) {
  pqxx::result r = Run(txn, kEarliestTicketExpiry, event_id);
  if (r[0]["expire_us"].is_null()) return std::nullopt;
  return TimeColumn(r[0], "expire_us");
}

absl::StatusOr<SessionRecord> PgEventStore::CreateSession(pqxx::work& txn, const SessionRecord& s,
                                                          absl::string_view request_id) {
  if (!EventExists(txn, s.event_id)) return EventNotFound(s.event_id);
  pqxx::result inserted =
      Run(txn, kInsertSession, s.event_id, s.title, Stored(s.kind), s.track, s.room, s.round,
          ToMicros(s.start_time), ToMicros(s.end_time), s.capacity, s.requires_selection,
          s.allow_reentry, std::string(request_id));
  if (inserted.empty()) {  // the request_id was used before: answer with what it created
    return ReadSession(
        Run(txn, kSessionByRequest, s.event_id, std::string(request_id))[0]);
  }
  const int64_t id = ReadInsertedId(inserted[0]);
  Run(txn, kInsertSessionCheckpoint, s.event_id, id);
  return GetSession(txn, s.event_id, id);
}

absl::StatusOr<SessionRecord> PgEventStore::GetSession(pqxx::work& txn, int64_t event_id,
                                                       int64_t session_id) {
  pqxx::result r = Run(txn, kGetSession, event_id, session_id);
  if (r.empty()) return SessionNotFound(event_id, session_id);
  return ReadSession(r[0]);
}

absl::StatusOr<std::vector<SessionRecord>> PgEventStore::ListSessions(pqxx::work& txn,
                                                                      int64_t event_id,
                                                                      absl::Time after_start,
                                                                      int64_t after_id, int limit) {
  if (!EventExists(txn, event_id)) return EventNotFound(event_id);
  std::vector<SessionRecord> sessions;
  for (const pqxx::row& r :
       Run(txn, kListSessions, event_id, ToMicros(after_start), after_id, limit)) {
    sessions.push_back(ReadSession(r));
  }
  return sessions;
}

absl::StatusOr<SessionRecord> PgEventStore::UpdateSession(pqxx::work& txn, const SessionRecord& s) {
  pqxx::result r = Run(txn, kUpdateSession, s.event_id, s.id, s.title, Stored(s.kind), s.track,
                       s.room, s.round, ToMicros(s.start_time), ToMicros(s.end_time), s.capacity,
                       s.requires_selection, s.allow_reentry);
  if (r.affected_rows() == 0) return SessionNotFound(s.event_id, s.id);
  // A raised capacity seats the breakout's waitlist.
  PgRegistrationStore::PromoteSessionWaitlist(txn, s.event_id, s.id);
  return GetSession(txn, s.event_id, s.id);
}

absl::Status PgEventStore::RequireNotPurged(pqxx::work& txn, int64_t event_id) {
  pqxx::result r = Run(txn, kEventPurgeTime, event_id);
  if (r.empty()) return EventNotFound(event_id);
  if (r[0]["purge_us"].is_null()) return absl::OkStatus();
  return PurgedError(event_id, TimeColumn(r[0], "purge_us"));
}

absl::Status PurgedError(int64_t event_id, absl::Time purge_time) {
  return absl::FailedPreconditionError(
      absl::StrCat("event events/", event_id, " was purged at ",
                   absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", purge_time, absl::UTCTimeZone()),
                   ": its personal data is erased, and it takes no more registrations, changes "
                   "or scans"));
}

void PgEventStore::LockEvent(pqxx::work& txn, int64_t event_id) { Run(txn, kLockEvent, event_id); }

void PgEventStore::LockSession(pqxx::work& txn, int64_t event_id, int64_t session_id) {
  Run(txn, kLockSession, event_id, session_id);
}

absl::StatusOr<std::vector<CheckpointRecord>> PgEventStore::ListCheckpoints(pqxx::work& txn,
                                                                            int64_t event_id) {
  if (!EventExists(txn, event_id)) return EventNotFound(event_id);
  std::vector<CheckpointRecord> checkpoints;
  for (const pqxx::row& r : Run(txn, kListCheckpoints, event_id)) {
    checkpoints.push_back(ReadCheckpoint(r));
  }
  return checkpoints;
}

absl::StatusOr<CheckpointRecord> PgEventStore::GetCheckpoint(pqxx::work& txn, int64_t event_id,
                                                             int64_t checkpoint_id) {
  pqxx::result r = Run(txn, kGetCheckpoint, event_id, checkpoint_id);
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat("checkpoint events/", event_id, "/checkpoints/",
                                            checkpoint_id, " does not exist"));
  }
  return ReadCheckpoint(r[0]);
}

const Query& PgEventStore::GetCheckpointQuery() { return kGetCheckpoint; }

}  // namespace turnout::store
