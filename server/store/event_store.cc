#include "server/store/event_store.h"

#include "absl/strings/str_cat.h"
#include "server/store/pg.h"

namespace turnout::store {
namespace {

constexpr char kEventColumns[] = R"(
  e.id, e.title, e.venue, e.time_zone, us_of(e.start_time), us_of(e.end_time),
  us_of(e.doors_open_time), e.capacity, e.state, e.allow_reentry, us_of(e.create_time),
  us_of(e.update_time),
  (SELECT c.id FROM checkpoints c WHERE c.event_id = e.id AND c.session_id IS NULL),
  e.confirmed_count, e.waitlisted_count,
  us_of(e.purge_time))";

constexpr char kSessionColumns[] = R"(
  s.event_id, s.id, s.title, s.kind, s.track, s.room, s.round, us_of(s.start_time),
  us_of(s.end_time), s.capacity, s.requires_selection, s.allow_reentry,
  (SELECT c.id FROM checkpoints c WHERE c.event_id = s.event_id AND c.session_id = s.id),
  s.confirmed_count, s.waitlisted_count)";

// The entrance takes the event's window; a room opens kSessionDoorsOpenEarly before its session.
constexpr char kCheckpointColumns[] = R"(
  c.event_id, c.id, c.session_id,
  CASE WHEN s.id IS NULL THEN 'Entrance'
       WHEN s.round > 0 THEN s.title || ' (round ' || s.round || ')'
       ELSE s.title END,
  coalesce(s.capacity, e.capacity), coalesce(s.requires_selection, false),
  coalesce(s.allow_reentry, e.allow_reentry),
  us_of(coalesce(s.start_time - interval '30 minutes', e.doors_open_time)),
  us_of(coalesce(s.end_time, e.end_time)), coalesce(s.room, ''), e.purge_time IS NOT NULL,
  e.state)";

EventRecord ReadEvent(const pqxx::row& r) {
  EventRecord e;
  e.id = r[0].as<int64_t>();
  e.title = r[1].as<std::string>();
  e.venue = r[2].as<std::string>();
  e.time_zone = r[3].as<std::string>();
  e.start_time = FromMicros(r[4].as<int64_t>());
  e.end_time = FromMicros(r[5].as<int64_t>());
  e.doors_open_time = FromMicros(r[6].as<int64_t>());
  e.capacity = r[7].as<int32_t>();
  e.state = r[8].as<int>();
  e.allow_reentry = r[9].as<bool>();
  e.create_time = FromMicros(r[10].as<int64_t>());
  e.update_time = FromMicros(r[11].as<int64_t>());
  e.entrance_checkpoint_id = r[12].as<int64_t>(0);
  e.confirmed_count = r[13].as<int32_t>();
  e.waitlisted_count = r[14].as<int32_t>();
  if (!r[15].is_null()) e.purge_time = FromMicros(r[15].as<int64_t>());
  return e;
}

SessionRecord ReadSession(const pqxx::row& r) {
  SessionRecord s;
  s.event_id = r[0].as<int64_t>();
  s.id = r[1].as<int64_t>();
  s.title = r[2].as<std::string>();
  s.kind = r[3].as<int>();
  s.track = r[4].as<std::string>();
  s.room = r[5].as<std::string>();
  s.round = r[6].as<int32_t>();
  s.start_time = FromMicros(r[7].as<int64_t>());
  s.end_time = FromMicros(r[8].as<int64_t>());
  s.capacity = r[9].as<int32_t>();
  s.requires_selection = r[10].as<bool>();
  s.allow_reentry = r[11].as<bool>();
  s.checkpoint_id = r[12].as<int64_t>(0);
  s.confirmed_count = r[13].as<int32_t>();
  s.waitlisted_count = r[14].as<int32_t>();
  return s;
}

CheckpointRecord ReadCheckpoint(const pqxx::row& r) {
  CheckpointRecord c;
  c.event_id = r[0].as<int64_t>();
  c.id = r[1].as<int64_t>();
  if (!r[2].is_null()) c.session_id = r[2].as<int64_t>();
  c.title = r[3].as<std::string>();
  c.capacity = r[4].as<int32_t>();
  c.requires_selection = r[5].as<bool>();
  c.allow_reentry = r[6].as<bool>();
  c.open_time = FromMicros(r[7].as<int64_t>());
  c.close_time = FromMicros(r[8].as<int64_t>());
  c.room = r[9].as<std::string>();
  c.event_purged = r[10].as<bool>();
  c.event_state = r[11].as<int>();
  return c;
}

absl::Status EventNotFound(int64_t id) {
  return absl::NotFoundError(absl::StrCat("event events/", id, " does not exist"));
}

}  // namespace

void PgEventStore::RegisterStatements() {
  static const std::string get_event =
      absl::StrCat("SELECT ", kEventColumns, " FROM events e WHERE e.id = $1");
  static const std::string event_by_request =
      absl::StrCat("SELECT ", kEventColumns, " FROM events e WHERE e.request_id = $1");
  static const std::string list_events = absl::StrCat(
      "SELECT ", kEventColumns, " FROM events e WHERE e.id > $1 ORDER BY e.id LIMIT $2");
  static const std::string get_session = absl::StrCat(
      "SELECT ", kSessionColumns, " FROM sessions s WHERE s.event_id = $1 AND s.id = $2");
  static const std::string session_by_request = absl::StrCat(
      "SELECT ", kSessionColumns, " FROM sessions s WHERE s.event_id = $1 AND s.request_id = $2");
  // Pages by the whole sort key, so that sessions created out of start time order are all listed.
  static const std::string list_sessions =
      absl::StrCat("SELECT ", kSessionColumns, R"( FROM sessions s
       WHERE s.event_id = $1 AND ($3::bigint = 0 OR (s.start_time, s.id) > (ts_of($2), $3::bigint))
       ORDER BY s.start_time, s.id LIMIT $4)");
  static const std::string checkpoints_from = R"(
      FROM checkpoints c JOIN events e ON e.id = c.event_id
      LEFT JOIN sessions s ON s.event_id = c.event_id AND s.id = c.session_id)";
  static const std::string list_checkpoints =
      absl::StrCat("SELECT ", kCheckpointColumns, checkpoints_from,
                   " WHERE c.event_id = $1 ORDER BY c.session_id NULLS FIRST, s.start_time, c.id");
  static const std::string get_checkpoint =
      absl::StrCat("SELECT ", kCheckpointColumns, checkpoints_from,
                   " WHERE c.event_id = $1 AND (c.id = $2 OR ($2 = 0 AND c.session_id IS NULL))");
  AddStatements({
      {"event_insert", R"(
          INSERT INTO events (title, venue, time_zone, start_time, end_time, doors_open_time,
                              capacity, state, allow_reentry, request_id)
          VALUES ($1, $2, $3, ts_of($4), ts_of($5), ts_of($6), $7, $8, $9, NULLIF($10, ''))
          ON CONFLICT (request_id) DO NOTHING
          RETURNING id)"},
      {"entrance_insert", "INSERT INTO checkpoints (event_id, session_id) VALUES ($1, NULL)"},
      {"event_get", get_event.c_str()},
      {"event_by_request", event_by_request.c_str()},
      {"event_list", list_events.c_str()},
      {"event_update", R"(
          UPDATE events SET title = $2, venue = $3, time_zone = $4, start_time = ts_of($5),
                 end_time = ts_of($6), doors_open_time = ts_of($7), capacity = $8, state = $9,
                 allow_reentry = $10, update_time = now()
          WHERE id = $1)"},
      {"sessions_shift", R"(
          UPDATE sessions SET start_time = start_time + $2 * interval '1 microsecond',
                              end_time = end_time + $2 * interval '1 microsecond'
          WHERE event_id = $1)"},
      {"tickets_earliest_expiry", R"(
          SELECT us_of(min(expire_time)) FROM tickets
          WHERE event_id = $1 AND superseded_time IS NULL)"},
      {"session_insert", R"(
          INSERT INTO sessions (event_id, title, kind, track, room, round, start_time, end_time,
                                capacity, requires_selection, allow_reentry, request_id)
          VALUES ($1, $2, $3, $4, $5, $6, ts_of($7), ts_of($8), $9, $10, $11, NULLIF($12, ''))
          ON CONFLICT (event_id, request_id) DO NOTHING
          RETURNING id)"},
      {"session_checkpoint_insert",
       "INSERT INTO checkpoints (event_id, session_id) VALUES ($1, $2)"},
      {"session_get", get_session.c_str()},
      {"session_by_request", session_by_request.c_str()},
      {"session_list", list_sessions.c_str()},
      {"session_update", R"(
          UPDATE sessions SET title = $3, kind = $4, track = $5, room = $6, round = $7,
                 start_time = ts_of($8), end_time = ts_of($9), capacity = $10,
                 requires_selection = $11, allow_reentry = $12
          WHERE event_id = $1 AND id = $2)"},
      {"event_lock_for_update", "SELECT 1 FROM events WHERE id = $1 FOR UPDATE"},
      {"session_lock_for_update",
       "SELECT 1 FROM sessions WHERE event_id = $1 AND id = $2 FOR UPDATE"},
      {"checkpoint_list", list_checkpoints.c_str()},
      {"event_purge_time", "SELECT us_of(purge_time) FROM events WHERE id = $1"},
      {"checkpoint_get", get_checkpoint.c_str()},
  });
}

absl::StatusOr<EventRecord> PgEventStore::CreateEvent(pqxx::work& txn, const EventRecord& e,
                                                      absl::string_view request_id) {
  pqxx::result inserted = txn.exec_prepared(
      "event_insert", e.title, e.venue, e.time_zone, ToMicros(e.start_time), ToMicros(e.end_time),
      ToMicros(e.doors_open_time), e.capacity, e.state, e.allow_reentry, std::string(request_id));
  if (inserted.empty()) {  // the request_id was used before: answer with what it created
    pqxx::result existing = txn.exec_prepared("event_by_request", std::string(request_id));
    return ReadEvent(existing[0]);
  }
  const int64_t id = inserted[0][0].as<int64_t>();
  txn.exec_prepared("entrance_insert", id);
  return GetEvent(txn, id);
}

absl::StatusOr<EventRecord> PgEventStore::GetEvent(pqxx::work& txn, int64_t event_id) {
  pqxx::result r = txn.exec_prepared("event_get", event_id);
  if (r.empty()) return EventNotFound(event_id);
  return ReadEvent(r[0]);
}

absl::StatusOr<std::vector<EventRecord>> PgEventStore::ListEvents(pqxx::work& txn, int64_t after_id,
                                                                  int limit) {
  std::vector<EventRecord> events;
  for (const pqxx::row& r : txn.exec_prepared("event_list", after_id, limit)) {
    events.push_back(ReadEvent(r));
  }
  return events;
}

absl::StatusOr<EventRecord> PgEventStore::UpdateEvent(pqxx::work& txn, const EventRecord& e) {
  pqxx::result r = txn.exec_prepared(
      "event_update", e.id, e.title, e.venue, e.time_zone, ToMicros(e.start_time),
      ToMicros(e.end_time), ToMicros(e.doors_open_time), e.capacity, e.state, e.allow_reentry);
  if (r.affected_rows() == 0) return EventNotFound(e.id);
  return GetEvent(txn, e.id);
}

void PgEventStore::ShiftSessions(pqxx::work& txn, int64_t event_id, absl::Duration shift) {
  txn.exec_prepared("sessions_shift", event_id, absl::ToInt64Microseconds(shift));
}

std::optional<absl::Time> PgEventStore::EarliestTicketExpiry(pqxx::work& txn, int64_t event_id) {
  pqxx::result r = txn.exec_prepared("tickets_earliest_expiry", event_id);
  if (r[0][0].is_null()) return std::nullopt;
  return FromMicros(r[0][0].as<int64_t>());
}

absl::StatusOr<SessionRecord> PgEventStore::CreateSession(pqxx::work& txn, const SessionRecord& s,
                                                          absl::string_view request_id) {
  if (pqxx::result e = txn.exec_prepared("event_get", s.event_id); e.empty()) {
    return EventNotFound(s.event_id);
  }
  pqxx::result inserted =
      txn.exec_prepared("session_insert", s.event_id, s.title, s.kind, s.track, s.room, s.round,
                        ToMicros(s.start_time), ToMicros(s.end_time), s.capacity,
                        s.requires_selection, s.allow_reentry, std::string(request_id));
  if (inserted.empty()) {
    pqxx::result existing =
        txn.exec_prepared("session_by_request", s.event_id, std::string(request_id));
    return ReadSession(existing[0]);
  }
  const int64_t id = inserted[0][0].as<int64_t>();
  txn.exec_prepared("session_checkpoint_insert", s.event_id, id);
  return GetSession(txn, s.event_id, id);
}

absl::StatusOr<SessionRecord> PgEventStore::GetSession(pqxx::work& txn, int64_t event_id,
                                                       int64_t session_id) {
  pqxx::result r = txn.exec_prepared("session_get", event_id, session_id);
  if (r.empty()) {
    return absl::NotFoundError(
        absl::StrCat("session events/", event_id, "/sessions/", session_id, " does not exist"));
  }
  return ReadSession(r[0]);
}

absl::StatusOr<std::vector<SessionRecord>> PgEventStore::ListSessions(pqxx::work& txn,
                                                                      int64_t event_id,
                                                                      absl::Time after_start,
                                                                      int64_t after_id, int limit) {
  if (pqxx::result e = txn.exec_prepared("event_get", event_id); e.empty()) {
    return EventNotFound(event_id);
  }
  std::vector<SessionRecord> sessions;
  for (const pqxx::row& r :
       txn.exec_prepared("session_list", event_id, ToMicros(after_start), after_id, limit)) {
    sessions.push_back(ReadSession(r));
  }
  return sessions;
}

absl::StatusOr<SessionRecord> PgEventStore::UpdateSession(pqxx::work& txn, const SessionRecord& s) {
  pqxx::result r = txn.exec_prepared("session_update", s.event_id, s.id, s.title, s.kind, s.track,
                                     s.room, s.round, ToMicros(s.start_time), ToMicros(s.end_time),
                                     s.capacity, s.requires_selection, s.allow_reentry);
  if (r.affected_rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("session events/", s.event_id, "/sessions/", s.id, " does not exist"));
  }
  return GetSession(txn, s.event_id, s.id);
}

absl::Status PgEventStore::RequireNotPurged(pqxx::work& txn, int64_t event_id) {
  pqxx::result r = txn.exec_prepared("event_purge_time", event_id);
  if (r.empty()) return EventNotFound(event_id);
  if (r[0][0].is_null()) return absl::OkStatus();
  return PurgedError(event_id, FromMicros(r[0][0].as<int64_t>()));
}

absl::Status PurgedError(int64_t event_id, absl::Time purge_time) {
  return absl::FailedPreconditionError(
      absl::StrCat("event events/", event_id, " was purged at ",
                   absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", purge_time, absl::UTCTimeZone()),
                   ": its personal data is erased, and it takes no more registrations, changes "
                   "or scans"));
}

void PgEventStore::LockEvent(pqxx::work& txn, int64_t event_id) {
  txn.exec_prepared("event_lock_for_update", event_id);
}

void PgEventStore::LockSession(pqxx::work& txn, int64_t event_id, int64_t session_id) {
  txn.exec_prepared("session_lock_for_update", event_id, session_id);
}

absl::StatusOr<std::vector<CheckpointRecord>> PgEventStore::ListCheckpoints(pqxx::work& txn,
                                                                            int64_t event_id) {
  if (pqxx::result e = txn.exec_prepared("event_get", event_id); e.empty()) {
    return EventNotFound(event_id);
  }
  std::vector<CheckpointRecord> checkpoints;
  for (const pqxx::row& r : txn.exec_prepared("checkpoint_list", event_id)) {
    checkpoints.push_back(ReadCheckpoint(r));
  }
  return checkpoints;
}

absl::StatusOr<CheckpointRecord> PgEventStore::GetCheckpoint(pqxx::work& txn, int64_t event_id,
                                                             int64_t checkpoint_id) {
  pqxx::result r = txn.exec_prepared("checkpoint_get", event_id, checkpoint_id);
  if (r.empty()) {
    return absl::NotFoundError(absl::StrCat("checkpoint events/", event_id, "/checkpoints/",
                                            checkpoint_id, " does not exist"));
  }
  return ReadCheckpoint(r[0]);
}

}  // namespace turnout::store
