#include "server/store/registration_store.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/domain/registration_rules.h"
#include "server/domain/validation.h"
#include "server/store/event_store.h"
#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {

using domain::ChoiceStatus;
using domain::FromStored;
using domain::RegistrationStatus;
using domain::Stored;

namespace {

// ---- Events and sessions: their places, locked in the order of registration_store.h.

// The event's row, locked: places in it may change hands. FOR NO KEY UPDATE: the row stays
// referable (inserts that name it take KEY SHARE), while writers of places queue behind each other.
constexpr Query kEventLock{"registration_event_lock", R"(
    SELECT capacity, state, us_of(end_time) AS end_us, us_of(purge_time) AS purge_us,
           confirmed_count, waitlisted_count
    FROM events WHERE id = $1 FOR NO KEY UPDATE)"};

struct EventRow {
  domain::EventView view;
  int64_t waitlisted = 0;
  absl::Time end_time;
  std::optional<absl::Time> purge_time;
};

EventRow ReadEvent(const pqxx::row& r) {
  EventRow e;
  e.view.state = FromStored<domain::EventState>(Column<int>(r, "state"));
  e.view.places = {Column<int32_t>(r, "capacity"), Column<int64_t>(r, "confirmed_count")};
  e.waitlisted = Column<int64_t>(r, "waitlisted_count");
  e.end_time = FromMicros(Column<int64_t>(r, "end_us"));
  if (!r["purge_us"].is_null()) e.purge_time = FromMicros(Column<int64_t>(r, "purge_us"));
  return e;
}

std::optional<EventRow> LockEvent(pqxx::work& txn, int64_t event_id) {
  pqxx::result r = Run(txn, kEventLock, event_id);
  if (r.empty()) return std::nullopt;
  return ReadEvent(r[0]);
}

constexpr Query kEventEnd{"registration_event_end",
                          "SELECT us_of(end_time) AS end_us FROM events WHERE id = $1"};

// Adds ($2, $3) to the event's (confirmed, waitlisted) counters.
constexpr Query kEventCount{"registration_event_count", R"(
    UPDATE events SET confirmed_count = confirmed_count + $2,
                      waitlisted_count = waitlisted_count + $3
    WHERE id = $1)"};

void CountEvent(pqxx::work& txn, int64_t event_id, domain::CountDelta d) {
  if (!d.empty()) Run(txn, kEventCount, event_id, d.confirmed, d.waitlisted);
}

constexpr Query kSessionLock{"registration_session_lock", R"(
    SELECT id, round, capacity, confirmed_count, waitlisted_count, title, room FROM sessions
    WHERE event_id = $1 AND id = $2 FOR NO KEY UPDATE)"};

struct SessionRow {
  domain::SessionView view;
  int64_t waitlisted = 0;
  std::string title;
  std::string room;
};

SessionRow ReadSession(const pqxx::row& r) {
  return {{Column<int64_t>(r, "id"), Column<int32_t>(r, "round"),
           {Column<int32_t>(r, "capacity"), Column<int64_t>(r, "confirmed_count")}},
          Column<int64_t>(r, "waitlisted_count"),
          Column<std::string>(r, "title"),
          Column<std::string>(r, "room")};
}

// The rows of the sessions $2 of the event, locked in id order (the rows are locked as the sorted
// result is read).
constexpr Query kSessionsLock{"registration_sessions_lock", R"(
    SELECT id, round, capacity, confirmed_count, waitlisted_count, title, room FROM sessions
    WHERE event_id = $1 AND id = ANY ($2::bigint[]) ORDER BY id FOR NO KEY UPDATE)"};

std::optional<SessionRow> LockSession(pqxx::work& txn, int64_t event_id, int64_t session_id) {
  pqxx::result r = Run(txn, kSessionLock, event_id, session_id);
  if (r.empty()) return std::nullopt;
  return ReadSession(r[0]);
}

// Adds ($3, $4) to the session's (confirmed, waitlisted) counters.
constexpr Query kSessionCount{"registration_session_count", R"(
    UPDATE sessions SET confirmed_count = confirmed_count + $3,
                        waitlisted_count = waitlisted_count + $4
    WHERE event_id = $1 AND id = $2)"};

void CountSession(pqxx::work& txn, int64_t event_id, int64_t session_id, domain::CountDelta d) {
  if (!d.empty()) Run(txn, kSessionCount, event_id, session_id, d.confirmed, d.waitlisted);
}

// Confirms the earliest $3 waitlisted choices ($5) of the session whose registration is confirmed
// ($6): confirmed choices belong only to confirmed registrations.
constexpr Query kSessionPromote{"registration_session_promote", R"(
    UPDATE session_choices SET status = $4
    WHERE (event_id, registration_id, round) IN (
      SELECT sc.event_id, sc.registration_id, sc.round FROM session_choices sc
      JOIN registrations r ON r.event_id = sc.event_id AND r.id = sc.registration_id
      WHERE sc.event_id = $1 AND sc.session_id = $2 AND sc.status = $5 AND r.status = $6
      ORDER BY sc.chosen_time, sc.registration_id LIMIT $3))"};

// Confirms ($3) the earliest $2 waitlisted ($4) registrations of the event.
constexpr Query kRegistrationPromote{"registration_promote", R"(
    UPDATE registrations SET status = $3, update_time = now()
    WHERE (event_id, id) IN (
      SELECT event_id, id FROM registrations WHERE event_id = $1 AND status = $4
      ORDER BY id LIMIT $2)
    RETURNING id)"};

// ---- Registrations.

// The columns ReadRegistration reads, as every query of a whole registration names them.
#define TURNOUT_REGISTRATION_COLUMNS                                                          \
  " r.event_id, r.id, r.display_name, r.email_sealed, r.phone_sealed, r.preferred_language, " \
  " array_to_string(r.attention_flags, ',') AS attention_flags, r.status, r.source, "        \
  " us_of(r.create_time) AS create_us, us_of(r.update_time) AS update_us "

constexpr Query kRegistrationGet{
    "registration_get", "SELECT" TURNOUT_REGISTRATION_COLUMNS
                        "FROM registrations r WHERE r.event_id = $1 AND r.id = $2"};
constexpr Query kRegistrationByRequest{
    "registration_by_request", "SELECT" TURNOUT_REGISTRATION_COLUMNS
                               "FROM registrations r WHERE r.event_id = $1 AND r.request_id = $2"};
// Registrations with a status in $2 whose search form starts with $3, after id $4; at most $5.
constexpr Query kRegistrationList{
    "registration_list", "SELECT" TURNOUT_REGISTRATION_COLUMNS R"(
    FROM registrations r
    WHERE r.event_id = $1 AND r.status = ANY ($2::integer[]) AND r.search_name LIKE $3 || '%'
      AND r.id > $4
    ORDER BY r.id LIMIT $5)"};
#undef TURNOUT_REGISTRATION_COLUMNS

absl::StatusOr<RegistrationRecord> ReadRegistration(const pqxx::row& r, const DataKey& data_key) {
  RegistrationRecord reg;
  reg.event_id = Column<int64_t>(r, "event_id");
  reg.id = Column<int64_t>(r, "id");
  reg.display_name = Column<std::string>(r, "display_name");
  auto email = data_key.Open(Column<std::string>(r, "email_sealed"));
  auto phone = data_key.Open(Column<std::string>(r, "phone_sealed"));
  if (!email.ok()) return email.status();
  if (!phone.ok()) return phone.status();
  reg.email = *std::move(email);
  reg.phone = *std::move(phone);
  reg.preferred_language = Column<std::string>(r, "preferred_language");
  reg.attention_flags = ParseAttentionFlags(Column<std::string>(r, "attention_flags"));
  reg.status = Stored(FromStored<RegistrationStatus>(Column<int>(r, "status")));
  reg.source = Stored(FromStored<domain::RegistrationSource>(Column<int>(r, "source")));
  reg.create_time = FromMicros(Column<int64_t>(r, "create_us"));
  reg.update_time = FromMicros(Column<int64_t>(r, "update_us"));
  return reg;
}

constexpr Query kRegistrationCount{"registration_count", R"(
    SELECT count(*) AS n FROM registrations r
    WHERE r.event_id = $1 AND r.status = ANY ($2::integer[]) AND r.search_name LIKE $3 || '%')"};

// Inserts a registration (none when its request_id registered before) and adds ($13, $14) to the
// event's (confirmed, waitlisted) counters if it did.
constexpr Query kRegistrationInsert{"registration_insert", R"(
    WITH inserted AS (
      INSERT INTO registrations (event_id, display_name, search_name, email_sealed,
                                 phone_sealed, preferred_language, attention_flags, status,
                                 source, request_id, search_version, manage_secret_hash)
      VALUES ($1, $2, $3, $4, $5, $6, $7::integer[], $8, $9, NULLIF($10, ''), $11, $12)
      ON CONFLICT (event_id, request_id) DO NOTHING
      RETURNING id, us_of(create_time) AS create_us, us_of(update_time) AS update_us),
    counted AS (
      UPDATE events SET confirmed_count = confirmed_count + $13,
                        waitlisted_count = waitlisted_count + $14
      WHERE id = $1 AND EXISTS (SELECT 1 FROM inserted))
    SELECT id, create_us, update_us FROM inserted)"};

constexpr Query kRegistrationLock{"registration_lock", R"(
    SELECT status FROM registrations WHERE event_id = $1 AND id = $2 FOR NO KEY UPDATE)"};

std::optional<RegistrationStatus> LockRegistration(pqxx::work& txn, int64_t event_id, int64_t id) {
  pqxx::result r = Run(txn, kRegistrationLock, event_id, id);
  if (r.empty()) return std::nullopt;
  return FromStored<RegistrationStatus>(Column<int>(r[0], "status"));
}

constexpr Query kRegistrationSetStatus{"registration_set_status", R"(
    UPDATE registrations SET status = $3, update_time = now() WHERE event_id = $1 AND id = $2)"};
constexpr Query kSecretHash{"registration_secret_hash", R"(
    SELECT manage_secret_hash FROM registrations WHERE event_id = $1 AND id = $2)"};
constexpr Query kSetSecretHash{"registration_set_secret_hash", R"(
    UPDATE registrations SET manage_secret_hash = $3 WHERE event_id = $1 AND id = $2
    RETURNING id)"};
constexpr Query kRegistrationTouch{"registration_touch", R"(
    UPDATE registrations SET update_time = now() WHERE event_id = $1 AND id = $2)"};

constexpr Query kRegistrationSearch{"registration_search", R"(
    SELECT r.id, r.display_name, array_to_string(r.attention_flags, ',') AS attention_flags,
           r.status,
           EXISTS (SELECT 1 FROM presence p JOIN checkpoints c
                     ON c.event_id = p.event_id AND c.id = p.checkpoint_id
                   WHERE p.event_id = r.event_id AND p.registration_id = r.id
                     AND c.session_id IS NULL AND p.ever_admitted) AS checked_in
    FROM registrations r
    WHERE r.event_id = $1
      AND (r.search_name LIKE $2 || '%' OR r.search_name LIKE '% ' || $2 || '%')
    ORDER BY r.search_name, r.id LIMIT $3)"};

SearchMatch ReadSearchMatch(const pqxx::row& r) {
  SearchMatch m;
  m.registration_id = Column<int64_t>(r, "id");
  m.display_name = Column<std::string>(r, "display_name");
  m.attention_flags = ParseAttentionFlags(Column<std::string>(r, "attention_flags"));
  m.status = Stored(FromStored<RegistrationStatus>(Column<int>(r, "status")));
  m.checked_in = Column<bool>(r, "checked_in");
  return m;
}

// ---- Breakout choices.

// Inserts a choice and adds ($6, $7) to its session's (confirmed, waitlisted) counters.
constexpr Query kChoiceInsert{"registration_choice_insert", R"(
    WITH inserted AS (
      INSERT INTO session_choices (event_id, registration_id, round, session_id, status)
      VALUES ($1, $2, $3, $4, $5) RETURNING session_id)
    UPDATE sessions SET confirmed_count = confirmed_count + $6,
                        waitlisted_count = waitlisted_count + $7
    WHERE event_id = $1 AND id = (SELECT session_id FROM inserted))"};
// Deletes the choice of a round, answering its session and its status as it was deleted.
constexpr Query kChoiceDelete{"registration_choice_delete", R"(
    DELETE FROM session_choices WHERE event_id = $1 AND registration_id = $2 AND round = $3
    RETURNING session_id, status)"};
constexpr Query kChoicesGet{"registration_choices_get", R"(
    SELECT sc.registration_id, sc.session_id, sc.round, sc.status, s.title, s.room
    FROM session_choices sc JOIN sessions s ON s.event_id = sc.event_id AND s.id = sc.session_id
    WHERE sc.event_id = $1 AND sc.registration_id = ANY ($2::bigint[])
    ORDER BY sc.registration_id, sc.round)"};

// ---- Tickets.

constexpr Query kTicketInsert{"registration_ticket_insert", R"(
    INSERT INTO tickets (event_id, ticket_id, registration_id, key_id, code, expire_time)
    VALUES ($1, $2, $3, $4, $5, ts_of($6))
    RETURNING event_id, ticket_id, registration_id, key_id, code, us_of(issue_time) AS issue_us,
              us_of(expire_time) AS expire_us)"};
constexpr Query kTicketCurrent{"registration_ticket_current", R"(
    SELECT event_id, ticket_id, registration_id, key_id, code, us_of(issue_time) AS issue_us,
           us_of(expire_time) AS expire_us
    FROM tickets WHERE event_id = $1 AND registration_id = $2 AND superseded_time IS NULL)"};
constexpr Query kTicketsSignedBy{"registration_tickets_signed_by", R"(
    SELECT t.event_id, t.registration_id, us_of(e.end_time) AS end_us
    FROM tickets t JOIN events e ON e.id = t.event_id
    WHERE t.key_id = $1 AND t.superseded_time IS NULL
    ORDER BY t.event_id, t.registration_id
    FOR UPDATE OF t)"};
constexpr Query kTicketSupersede{"registration_ticket_supersede", R"(
    UPDATE tickets SET superseded_time = now()
    WHERE event_id = $1 AND registration_id = $2 AND superseded_time IS NULL)"};

TicketRecord ReadTicket(const pqxx::row& r) {
  TicketRecord t;
  t.event_id = Column<int64_t>(r, "event_id");
  t.ticket_id_hex = Column<std::string>(r, "ticket_id");
  t.registration_id = Column<int64_t>(r, "registration_id");
  t.key_id = Column<int>(r, "key_id");
  t.code = Column<std::string>(r, "code");
  t.issue_time = FromMicros(Column<int64_t>(r, "issue_us"));
  t.expire_time = FromMicros(Column<int64_t>(r, "expire_us"));
  return t;
}

std::string FlagsLiteral(const std::vector<int>& flags) {
  return absl::StrCat("{", absl::StrJoin(flags, ","), "}");
}

std::string IdsLiteral(const std::vector<int64_t>& ids) {
  return absl::StrCat("{", absl::StrJoin(ids, ","), "}");
}

absl::Status RegistrationNotFound(int64_t event_id, int64_t id) {
  return absl::NotFoundError(
      absl::StrCat("registration events/", event_id, "/registrations/", id, " does not exist"));
}

// Locks the rows of `session_ids` (sessions of the event), each once, in id order: the last step
// of the lock order in registration_store.h. Returns those that exist, by id.
std::map<int64_t, SessionRow> LockSessionRows(pqxx::work& txn, int64_t event_id,
                                              std::vector<int64_t> session_ids) {
  std::map<int64_t, SessionRow> locked;
  if (session_ids.empty()) return locked;
  for (const pqxx::row& r : Run(txn, kSessionsLock, event_id, IdsLiteral(session_ids))) {
    SessionRow s = ReadSession(r);
    locked[s.view.id] = std::move(s);
  }
  return locked;
}

std::map<int64_t, domain::SessionView> Views(const std::map<int64_t, SessionRow>& rows) {
  std::map<int64_t, domain::SessionView> views;
  for (const auto& [id, row] : rows) views[id] = row.view;
  return views;
}

std::map<int64_t, domain::SessionView> LockSessions(pqxx::work& txn, int64_t event_id,
                                                    std::vector<int64_t> session_ids) {
  return Views(LockSessionRows(txn, event_id, std::move(session_ids)));
}

// Adds a choice of `session` for the registration, with a seat if the rules give one; returns
// its status.
ChoiceStatus AddChoice(pqxx::work& txn, int64_t event_id, int64_t registration_id,
                       RegistrationStatus registration, domain::SessionView& session) {
  const ChoiceStatus seat = domain::SeatFor(registration, session.places);
  const domain::CountDelta d = domain::Moved(std::nullopt, seat);
  Run(txn, kChoiceInsert, event_id, registration_id, session.round, session.id, Stored(seat),
      d.confirmed, d.waitlisted);
  session.places.confirmed += d.confirmed;
  return seat;
}

// Deletes the registration's choice of `round`; returns its session and the status it had.
std::optional<domain::ChoiceView> DeleteChoice(pqxx::work& txn, int64_t event_id,
                                               int64_t registration_id, int32_t round) {
  pqxx::result r = Run(txn, kChoiceDelete, event_id, registration_id, round);
  if (r.empty()) return std::nullopt;
  domain::ChoiceView deleted{round, Column<int64_t>(r[0], "session_id"),
                             FromStored<ChoiceStatus>(Column<int>(r[0], "status"))};
  CountSession(txn, event_id, deleted.session_id, domain::Moved(deleted.status, std::nullopt));
  return deleted;
}

// Fills free seats of a breakout with its earliest waitlisted choices (of confirmed
// registrations).
void PromoteSession(pqxx::work& txn, int64_t event_id, int64_t session_id) {
  std::optional<SessionRow> s = LockSession(txn, event_id, session_id);
  if (!s.has_value()) return;
  const int64_t n = domain::PromotionCount(s->view.places, s->waitlisted);
  if (n <= 0) return;
  const int64_t promoted =
      Run(txn, kSessionPromote, event_id, session_id, n, Stored(ChoiceStatus::kConfirmed),
          Stored(ChoiceStatus::kWaitlisted), Stored(RegistrationStatus::kConfirmed))
          .affected_rows();
  CountSession(txn, event_id, session_id, {promoted, -promoted});
}

// Fills free places of the event with its earliest waitlisted registrations (locking the event
// row first) and returns their ids.
std::vector<int64_t> PromoteRegistrations(pqxx::work& txn, int64_t event_id) {
  std::vector<int64_t> promoted;
  std::optional<EventRow> event = LockEvent(txn, event_id);
  if (!event.has_value()) return promoted;
  const int64_t n = domain::PromotionCount(event->view.places, event->waitlisted);
  if (n <= 0) return promoted;
  for (const pqxx::row& r : Run(txn, kRegistrationPromote, event_id, n,
                                Stored(RegistrationStatus::kConfirmed),
                                Stored(RegistrationStatus::kWaitlisted))) {
    promoted.push_back(Column<int64_t>(r, "id"));
  }
  const int64_t count = static_cast<int64_t>(promoted.size());
  CountEvent(txn, event_id, {count, -count});
  return promoted;
}

// The choices of the registrations, in registration id and round order, by registration id.
std::map<int64_t, std::vector<ChoiceRecord>> ChoicesOf(pqxx::work& txn, int64_t event_id,
                                                       const std::vector<int64_t>& ids) {
  std::map<int64_t, std::vector<ChoiceRecord>> choices;
  if (ids.empty()) return choices;
  for (const pqxx::row& r : Run(txn, kChoicesGet, event_id, IdsLiteral(ids))) {
    choices[Column<int64_t>(r, "registration_id")].push_back(ReadChoiceRow(r));
  }
  return choices;
}

// The sessions the registrations chose.
std::vector<int64_t> SessionsChosenBy(pqxx::work& txn, int64_t event_id,
                                      const std::vector<int64_t>& registration_ids) {
  std::vector<int64_t> sessions;
  for (const auto& [id, choices] : ChoicesOf(txn, event_id, registration_ids)) {
    for (const ChoiceRecord& c : choices) sessions.push_back(c.session_id);
  }
  return sessions;
}

// Fills freed places of the event with the earliest waitlisted registrations, then gives the
// promoted their breakout seats where seats are free.
void PromoteEvent(pqxx::work& txn, int64_t event_id) {
  const std::vector<int64_t> promoted = PromoteRegistrations(txn, event_id);
  const std::map<int64_t, domain::SessionView> sessions =
      LockSessions(txn, event_id, SessionsChosenBy(txn, event_id, promoted));
  for (const auto& [session_id, session] : sessions) PromoteSession(txn, event_id, session_id);
}

// Signs a new code for the registration, valid until kTicketOuterBound after `event_end`.
absl::StatusOr<TicketRecord> IssueTicket(pqxx::work& txn, int64_t event_id, int64_t registration_id,
                                         absl::Time event_end, const domain::SigningKey& key) {
  if (event_id <= 0 || event_id > std::numeric_limits<uint32_t>::max()) {
    return absl::OutOfRangeError("event ids beyond 2^32 cannot be put in ticket codes");
  }
  domain::TicketClaims claims;
  claims.key_id = key.key_id;
  claims.event_id = static_cast<uint32_t>(event_id);
  claims.ticket_id = domain::RandomTicketId();
  claims.not_after = event_end + kTicketOuterBound;
  const std::string code = domain::EncodeTicketCode(claims, key);
  pqxx::result r =
      Run(txn, kTicketInsert, event_id, domain::TicketIdToHex(claims.ticket_id), registration_id,
          static_cast<int>(key.key_id), code, ToMicros(claims.not_after));
  return ReadTicket(r[0]);
}

void LoadChoices(pqxx::work& txn, RegistrationRecord& reg) {
  reg.choices = std::move(ChoicesOf(txn, reg.event_id, {reg.id})[reg.id]);
}

std::vector<domain::ChoiceView> ChoiceViews(const std::vector<ChoiceRecord>& choices) {
  std::vector<domain::ChoiceView> views;
  for (const ChoiceRecord& c : choices) {
    views.push_back({c.round, c.session_id, FromStored<ChoiceStatus>(c.status)});
  }
  return views;
}

// The sessions of a registration's choices.
std::vector<int64_t> SessionsOf(const std::vector<ChoiceRecord>& choices) {
  std::vector<int64_t> ids;
  for (const ChoiceRecord& c : choices) ids.push_back(c.session_id);
  return ids;
}

std::string LikePrefix(const std::string& prefix) {
  std::string escaped;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return escaped;
}

// The statuses a List filter names: `status` 0 = any.
std::string StatusFilter(int status) {
  if (status != 0) return IdsLiteral({Stored(FromStored<RegistrationStatus>(status))});
  return IdsLiteral({Stored(RegistrationStatus::kConfirmed), Stored(RegistrationStatus::kWaitlisted),
                     Stored(RegistrationStatus::kCanceled)});
}

// The answer to a replayed request_id: the registration it made, if the same person asks.
absl::StatusOr<Registered> Replay(pqxx::work& txn, int64_t event_id, const pqxx::row& row,
                                  const NewRegistration& input, const DataKey& data_key) {
  Registered done;
  auto reg = ReadRegistration(row, data_key);
  if (!reg.ok()) return reg.status();
  done.registration = *std::move(reg);
  // A replay answers only the same person: a request_id is not a key to someone else's data.
  if (done.registration.display_name != input.display_name ||
      done.registration.email != input.email) {
    return absl::AlreadyExistsError(
        "request_id: was used for another registration; send a new random one (a UUID)");
  }
  LoadChoices(txn, done.registration);
  // The first answer's secret cannot be given again (only its hash is kept): the replay carries a
  // new one, and the one its client may never have received stops working.
  if (!input.manage_secret_hash.empty()) {
    absl::Status replaced = PgRegistrationStore::SetManageSecretHash(
        txn, event_id, done.registration.id, input.manage_secret_hash);
    if (!replaced.ok()) return replaced;
  }
  auto ticket = PgRegistrationStore::CurrentTicket(txn, event_id, done.registration.id);
  if (!ticket.ok()) return ticket.status();
  done.ticket = *std::move(ticket);
  done.existed = true;
  return done;
}

}  // namespace

ChoiceRecord ReadChoiceRow(const pqxx::row& r) {
  ChoiceRecord c;
  c.session_id = Column<int64_t>(r, "session_id");
  c.round = Column<int32_t>(r, "round");
  c.status = Stored(FromStored<ChoiceStatus>(Column<int>(r, "status")));
  c.title = Column<std::string>(r, "title");
  c.room = Column<std::string>(r, "room");
  return c;
}

std::vector<int> ParseAttentionFlags(const std::string& text) {
  std::vector<int> flags;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int flag = 0;
    if (absl::SimpleAtoi(part, &flag)) flags.push_back(flag);
  }
  return flags;
}

absl::StatusOr<Registered> PgRegistrationStore::Register(pqxx::work& txn, int64_t event_id,
                                                         const NewRegistration& input,
                                                         const DataKey& data_key,
                                                         const domain::SigningKey& key) {
  // The lock order of registration_store.h: the event (its counters change), then the sessions.
  // The event's row lock also waits for a purge in progress (it holds the row FOR UPDATE).
  std::optional<EventRow> event = LockEvent(txn, event_id);
  if (!event.has_value()) {
    return absl::NotFoundError(absl::StrCat("event events/", event_id, " does not exist"));
  }
  if (event->purge_time.has_value()) return PurgedError(event_id, *event->purge_time);
  if (absl::Status open = domain::MayRegister(event_id, event->view, input.require_published);
      !open.ok()) {
    return open;
  }
  const domain::RegistrationSource source = FromStored<domain::RegistrationSource>(input.source);
  const RegistrationStatus status = domain::PlaceFor(event->view.places);
  std::map<int64_t, SessionRow> sessions = LockSessionRows(txn, event_id, input.session_ids);
  std::map<int64_t, domain::SessionView> views = Views(sessions);
  auto chosen = domain::CheckChoices(event_id, input.session_ids, views);
  if (!chosen.ok()) return chosen.status();

  const domain::CountDelta placed = domain::Moved(std::nullopt, status);
  pqxx::result inserted = Run(
      txn, kRegistrationInsert, event_id, input.display_name,
      domain::NormalizeForSearch(input.display_name), data_key.Seal(input.email),
      data_key.Seal(input.phone), input.preferred_language, FlagsLiteral(input.attention_flags),
      Stored(status), Stored(source), input.request_id, domain::kSearchNormalizationVersion,
      input.manage_secret_hash, placed.confirmed, placed.waitlisted);
  if (inserted.empty()) {
    // The request_id registered before (the unique index says so; a concurrent call that used it
    // committed first): answer as it did.
    pqxx::result r = Run(txn, kRegistrationByRequest, event_id, input.request_id);
    if (r.empty()) return absl::AbortedError("request_id: a concurrent registration; retry");
    return Replay(txn, event_id, r[0], input, data_key);
  }
  Registered done;
  RegistrationRecord& reg = done.registration;
  reg.event_id = event_id;
  reg.id = Column<int64_t>(inserted[0], "id");
  reg.display_name = input.display_name;
  reg.email = input.email;
  reg.phone = input.phone;
  reg.preferred_language = input.preferred_language;
  reg.attention_flags = input.attention_flags;
  reg.status = Stored(status);
  reg.source = Stored(source);
  reg.create_time = FromMicros(Column<int64_t>(inserted[0], "create_us"));
  reg.update_time = FromMicros(Column<int64_t>(inserted[0], "update_us"));
  for (const domain::SessionView& s : *chosen) {  // in id order; shown in round order
    const SessionRow& row = sessions[s.id];
    const ChoiceStatus seat = AddChoice(txn, event_id, reg.id, status, views[s.id]);
    reg.choices.push_back({s.id, s.round, Stored(seat), row.title, row.room});
  }
  std::sort(reg.choices.begin(), reg.choices.end(),
            [](const ChoiceRecord& a, const ChoiceRecord& b) { return a.round < b.round; });
  auto ticket = IssueTicket(txn, event_id, reg.id, event->end_time, key);
  if (!ticket.ok()) return ticket.status();
  done.ticket = *std::move(ticket);
  return done;
}

absl::StatusOr<RegistrationRecord> PgRegistrationStore::Get(pqxx::work& txn, int64_t event_id,
                                                            int64_t id, const DataKey& data_key) {
  pqxx::result r = Run(txn, kRegistrationGet, event_id, id);
  if (r.empty()) return RegistrationNotFound(event_id, id);
  auto reg = ReadRegistration(r[0], data_key);
  if (!reg.ok()) return reg.status();
  LoadChoices(txn, *reg);
  return reg;
}

absl::StatusOr<std::string> PgRegistrationStore::ManageSecretHash(pqxx::work& txn,
                                                                 int64_t event_id, int64_t id) {
  pqxx::result r = Run(txn, kSecretHash, event_id, id);
  if (r.empty()) return RegistrationNotFound(event_id, id);
  return Column<std::string>(r[0], "manage_secret_hash");
}

absl::Status PgRegistrationStore::SetManageSecretHash(pqxx::work& txn, int64_t event_id,
                                                      int64_t id, const std::string& hash) {
  if (Run(txn, kSetSecretHash, event_id, id, hash).empty()) {
    return RegistrationNotFound(event_id, id);
  }
  return absl::OkStatus();
}

absl::StatusOr<RegistrationRecord> PgRegistrationStore::Cancel(pqxx::work& txn, int64_t event_id,
                                                               int64_t id,
                                                               const DataKey& data_key) {
  // The lock order of registration_store.h: the event (its places may be given to the
  // waitlisted), the registration, then the sessions.
  if (!LockEvent(txn, event_id).has_value()) return RegistrationNotFound(event_id, id);
  std::optional<RegistrationStatus> before = LockRegistration(txn, event_id, id);
  if (!before.has_value()) return RegistrationNotFound(event_id, id);
  // The purge locks every registration row of its event: this waited for it.
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  if (*before != RegistrationStatus::kCanceled) {
    auto reg = Get(txn, event_id, id, data_key);
    if (!reg.ok()) return reg.status();
    Run(txn, kRegistrationSetStatus, event_id, id, Stored(RegistrationStatus::kCanceled));
    CountEvent(txn, event_id, domain::Moved(*before, RegistrationStatus::kCanceled));
    std::vector<int64_t> promoted;
    if (*before == RegistrationStatus::kConfirmed) promoted = PromoteRegistrations(txn, event_id);
    std::vector<int64_t> sessions = SessionsOf(reg->choices);
    for (int64_t s : SessionsChosenBy(txn, event_id, promoted)) sessions.push_back(s);
    const std::map<int64_t, domain::SessionView> locked = LockSessions(txn, event_id, sessions);
    for (const ChoiceRecord& c : reg->choices) DeleteChoice(txn, event_id, id, c.round);
    // Seats freed by the canceled, and seats for the newly confirmed, in session id order.
    for (const auto& [session_id, session] : locked) PromoteSession(txn, event_id, session_id);
  }
  return Get(txn, event_id, id, data_key);
}

absl::StatusOr<RegistrationRecord> PgRegistrationStore::UpdateChoices(
    pqxx::work& txn, int64_t event_id, int64_t id, const std::vector<int64_t>& session_ids,
    const DataKey& data_key) {
  // The lock order of registration_store.h: the registration, then every session this changes
  // (those chosen and those left), in id order.
  std::optional<RegistrationStatus> status = LockRegistration(txn, event_id, id);
  if (!status.has_value()) return RegistrationNotFound(event_id, id);
  // The purge locks every registration row of its event: this waited for it.
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  if (absl::Status may = domain::MayChangeChoices(event_id, id, *status); !may.ok()) return may;
  auto current = Get(txn, event_id, id, data_key);
  if (!current.ok()) return current.status();
  std::vector<int64_t> involved = SessionsOf(current->choices);
  involved.insert(involved.end(), session_ids.begin(), session_ids.end());
  std::map<int64_t, domain::SessionView> sessions = LockSessions(txn, event_id, involved);
  auto chosen = domain::CheckChoices(event_id, session_ids, sessions);
  if (!chosen.ok()) return chosen.status();

  const domain::ChoiceChange change = domain::PlanChoiceChange(ChoiceViews(current->choices), *chosen);
  // A released seat goes to the next waitlisted, whatever the choice's status was when read: a
  // concurrent promotion may have confirmed it since, and offering a seat that is not free
  // changes nothing.
  for (const domain::ChoiceView& c : change.released) {
    DeleteChoice(txn, event_id, id, c.round);
    PromoteSession(txn, event_id, c.session_id);
  }
  for (const domain::SessionView& s : change.added) {
    // Re-read: a release above may have changed the session's counters.
    if (std::optional<SessionRow> now = LockSession(txn, event_id, s.id)) {
      sessions[s.id] = now->view;
    }
    AddChoice(txn, event_id, id, *status, sessions[s.id]);
  }
  Run(txn, kRegistrationTouch, event_id, id);
  return Get(txn, event_id, id, data_key);
}

absl::StatusOr<RegistrationPage> PgRegistrationStore::List(pqxx::work& txn, int64_t event_id,
                                                           int status,
                                                           const std::string& name_prefix,
                                                           int64_t after_id, int limit,
                                                           const DataKey& data_key) {
  const std::string like = LikePrefix(name_prefix);
  const std::string statuses = StatusFilter(status);
  RegistrationPage page;
  std::vector<int64_t> ids;
  for (const pqxx::row& r : Run(txn, kRegistrationList, event_id, statuses, like, after_id, limit)) {
    auto reg = ReadRegistration(r, data_key);
    if (!reg.ok()) return reg.status();
    ids.push_back(reg->id);
    page.registrations.push_back(*std::move(reg));
  }
  std::map<int64_t, std::vector<ChoiceRecord>> choices = ChoicesOf(txn, event_id, ids);
  for (RegistrationRecord& reg : page.registrations) reg.choices = std::move(choices[reg.id]);
  page.total_size =
      Column<int32_t>(Run(txn, kRegistrationCount, event_id, statuses, like)[0], "n");
  return page;
}

void PgRegistrationStore::PromoteWaitlisted(pqxx::work& txn, int64_t event_id) {
  PromoteEvent(txn, event_id);
}

void PgRegistrationStore::PromoteSessionWaitlist(pqxx::work& txn, int64_t event_id,
                                                 int64_t session_id) {
  PromoteSession(txn, event_id, session_id);
}

absl::StatusOr<TicketRecord> PgRegistrationStore::CurrentTicket(pqxx::work& txn, int64_t event_id,
                                                                int64_t registration_id) {
  pqxx::result r = Run(txn, kTicketCurrent, event_id, registration_id);
  if (r.empty()) {
    // A purge erases tickets: say so rather than that the registration does not exist.
    if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
    return RegistrationNotFound(event_id, registration_id);
  }
  return ReadTicket(r[0]);
}

absl::StatusOr<TicketRecord> PgRegistrationStore::Reissue(pqxx::work& txn, int64_t event_id,
                                                          int64_t registration_id,
                                                          const domain::SigningKey& key) {
  std::optional<RegistrationStatus> status = LockRegistration(txn, event_id, registration_id);
  if (!status.has_value()) return RegistrationNotFound(event_id, registration_id);
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  if (absl::Status may = domain::MayReissue(event_id, registration_id, *status); !may.ok()) {
    return may;
  }
  Run(txn, kTicketSupersede, event_id, registration_id);
  const absl::Time event_end = FromMicros(Column<int64_t>(Run(txn, kEventEnd, event_id)[0], "end_us"));
  return IssueTicket(txn, event_id, registration_id, event_end, key);
}

absl::StatusOr<int> PgRegistrationStore::ReissueSignedBy(pqxx::work& txn,
                                                        uint16_t revoked_key_id,
                                                        const domain::SigningKey& key) {
  int reissued = 0;
  for (const pqxx::row& r : Run(txn, kTicketsSignedBy, static_cast<int>(revoked_key_id))) {
    const int64_t event_id = Column<int64_t>(r, "event_id");
    const int64_t registration_id = Column<int64_t>(r, "registration_id");
    Run(txn, kTicketSupersede, event_id, registration_id);
    auto ticket = IssueTicket(txn, event_id, registration_id,
                              FromMicros(Column<int64_t>(r, "end_us")), key);
    if (!ticket.ok()) return ticket.status();
    ++reissued;
  }
  return reissued;
}

absl::StatusOr<std::vector<SearchMatch>> PgRegistrationStore::Search(
    pqxx::work& txn, int64_t event_id, const std::string& normalized_query, int limit) {
  std::vector<SearchMatch> matches;
  for (const pqxx::row& r :
       Run(txn, kRegistrationSearch, event_id, LikePrefix(normalized_query), limit)) {
    matches.push_back(ReadSearchMatch(r));
  }
  return matches;
}

}  // namespace turnout::store
