#include "server/store/registration_store.h"

#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/domain/validation.h"
#include "server/store/event_store.h"
#include "server/store/pg.h"

namespace turnout::store {
namespace {

// Proto enum numbers, as stored.
constexpr int kConfirmed = 1;
constexpr int kWaitlisted = 2;
constexpr int kCanceled = 3;
constexpr int kEventPublished = 2;  // Event.State
constexpr int kEventCanceled = 3;   // Event.State

constexpr char kRegistrationColumns[] = R"(
  r.event_id, r.id, r.display_name, r.email_sealed, r.phone_sealed, r.preferred_language,
  array_to_string(r.attention_flags, ','), r.status, r.source, us_of(r.create_time),
  us_of(r.update_time))";

std::string FlagsLiteral(const std::vector<int>& flags) {
  return absl::StrCat("{", absl::StrJoin(flags, ","), "}");
}

std::string IdsLiteral(const std::vector<int64_t>& ids) {
  return absl::StrCat("{", absl::StrJoin(ids, ","), "}");
}

std::vector<int> ParseFlags(const std::string& text) {
  std::vector<int> flags;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int flag = 0;
    if (absl::SimpleAtoi(part, &flag)) flags.push_back(flag);
  }
  return flags;
}

absl::StatusOr<RegistrationRecord> ReadRegistration(const pqxx::row& r, const DataKey& data_key) {
  RegistrationRecord reg;
  reg.event_id = r[0].as<int64_t>();
  reg.id = r[1].as<int64_t>();
  reg.display_name = r[2].as<std::string>();
  auto email = data_key.Open(r[3].as<std::string>());
  auto phone = data_key.Open(r[4].as<std::string>());
  if (!email.ok()) return email.status();
  if (!phone.ok()) return phone.status();
  reg.email = *std::move(email);
  reg.phone = *std::move(phone);
  reg.preferred_language = r[5].as<std::string>();
  reg.attention_flags = ParseFlags(r[6].as<std::string>());
  reg.status = r[7].as<int>();
  reg.source = r[8].as<int>();
  reg.create_time = FromMicros(r[9].as<int64_t>());
  reg.update_time = FromMicros(r[10].as<int64_t>());
  return reg;
}

ChoiceRecord ReadChoice(const pqxx::row& r) {
  ChoiceRecord c;
  c.session_id = r[1].as<int64_t>();
  c.round = r[2].as<int32_t>();
  c.status = r[3].as<int>();
  c.title = r[4].as<std::string>();
  c.room = r[5].as<std::string>();
  return c;
}

TicketRecord ReadTicket(const pqxx::row& r) {
  TicketRecord t;
  t.event_id = r[0].as<int64_t>();
  t.ticket_id_hex = r[1].as<std::string>();
  t.registration_id = r[2].as<int64_t>();
  t.key_id = r[3].as<int>();
  t.code = r[4].as<std::string>();
  t.issue_time = FromMicros(r[5].as<int64_t>());
  t.expire_time = FromMicros(r[6].as<int64_t>());
  return t;
}

absl::Status RegistrationNotFound(int64_t event_id, int64_t id) {
  return absl::NotFoundError(
      absl::StrCat("registration events/", event_id, "/registrations/", id, " does not exist"));
}

// A breakout chosen in a request, checked against the event's program and locked for its seats.
struct ChosenSession {
  int64_t session_id = 0;
  int32_t round = 0;
  int32_t capacity = 0;
};

// Locks the rows of `session_ids` (sessions of the event), each once, in id order: the last step
// of the lock order in registration_store.h. Returns the round and capacity of those that exist.
std::map<int64_t, ChosenSession> LockSessions(pqxx::work& txn, int64_t event_id,
                                              std::vector<int64_t> session_ids) {
  std::sort(session_ids.begin(), session_ids.end());
  session_ids.erase(std::unique(session_ids.begin(), session_ids.end()), session_ids.end());
  std::map<int64_t, ChosenSession> locked;
  for (int64_t id : session_ids) {
    pqxx::result r = txn.exec_prepared("session_lock", event_id, id);
    if (!r.empty()) locked[id] = ChosenSession{id, r[0][0].as<int32_t>(), r[0][1].as<int32_t>()};
  }
  return locked;
}

// Checks the chosen sessions (breakouts of this event, one per round) among the `locked` ones, in
// id order.
absl::StatusOr<std::vector<ChosenSession>> CheckChosenSessions(
    int64_t event_id, std::vector<int64_t> session_ids,
    const std::map<int64_t, ChosenSession>& locked) {
  std::sort(session_ids.begin(), session_ids.end());
  std::vector<ChosenSession> chosen;
  std::map<int32_t, int64_t> by_round;
  for (int64_t id : session_ids) {
    auto it = locked.find(id);
    if (it == locked.end()) {
      return absl::InvalidArgumentError(absl::StrCat("session_choices: events/", event_id,
                                                     "/sessions/", id,
                                                     " is not a session of this event"));
    }
    const ChosenSession& s = it->second;
    if (s.round <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("session_choices: events/", event_id, "/sessions/", id,
                       " is not a breakout (it belongs to no round) and cannot be chosen"));
    }
    if (auto [at, fresh] = by_round.emplace(s.round, id); !fresh) {
      return absl::InvalidArgumentError(
          absl::StrCat("session_choices: two sessions chosen for round ", s.round,
                       "; choose at most one breakout per round"));
    }
    chosen.push_back(s);
  }
  return chosen;
}

// A waitlisted registration waits for its breakouts too: seats go to people who can get in.
int SeatStatus(pqxx::work& txn, int64_t event_id, const ChosenSession& s, int registration_status) {
  if (registration_status != kConfirmed) return kWaitlisted;
  if (s.capacity <= 0) return kConfirmed;
  const int64_t taken =
      txn.exec_prepared("session_confirmed_count", event_id, s.session_id)[0][0].as<int64_t>();
  return taken < s.capacity ? kConfirmed : kWaitlisted;
}

// Fills freed seats of a breakout with the earliest waitlisted choices.
void PromoteSession(pqxx::work& txn, int64_t event_id, int64_t session_id) {
  pqxx::result s = txn.exec_prepared("session_lock", event_id, session_id);
  if (s.empty()) return;
  const int32_t capacity = s[0][1].as<int32_t>();
  const int64_t taken =
      txn.exec_prepared("session_confirmed_count", event_id, session_id)[0][0].as<int64_t>();
  const int64_t free = capacity <= 0 ? std::numeric_limits<int32_t>::max() : capacity - taken;
  if (free > 0) txn.exec_prepared("session_promote", event_id, session_id, free);
}

// Fills freed places of the event with the earliest waitlisted registrations (locking the event
// row first) and returns their ids.
std::vector<int64_t> PromoteRegistrations(pqxx::work& txn, int64_t event_id) {
  std::vector<int64_t> promoted;
  pqxx::result e = txn.exec_prepared("event_lock", event_id);
  if (e.empty()) return promoted;
  const int32_t capacity = e[0][0].as<int32_t>();
  const int64_t taken = txn.exec_prepared("event_confirmed_count", event_id)[0][0].as<int64_t>();
  const int64_t free = capacity <= 0 ? std::numeric_limits<int32_t>::max() : capacity - taken;
  if (free <= 0) return promoted;
  for (const pqxx::row& r : txn.exec_prepared("registration_promote", event_id, free)) {
    promoted.push_back(r[0].as<int64_t>());
  }
  return promoted;
}

// The sessions the registrations chose.
std::vector<int64_t> SessionsChosenBy(pqxx::work& txn, int64_t event_id,
                                      const std::vector<int64_t>& registration_ids) {
  std::vector<int64_t> sessions;
  if (registration_ids.empty()) return sessions;
  for (const pqxx::row& r :
       txn.exec_prepared("choices_get", event_id, IdsLiteral(registration_ids))) {
    sessions.push_back(r[1].as<int64_t>());
  }
  return sessions;
}

// Fills freed places of the event with the earliest waitlisted registrations, then gives the
// promoted their breakout seats where seats are free.
void PromoteEvent(pqxx::work& txn, int64_t event_id) {
  const std::vector<int64_t> promoted = PromoteRegistrations(txn, event_id);
  const std::map<int64_t, ChosenSession> sessions =
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
  pqxx::result r = txn.exec_prepared(
      "ticket_insert", event_id, domain::TicketIdToHex(claims.ticket_id), registration_id,
      static_cast<int>(key.key_id), code, ToMicros(claims.not_after));
  return ReadTicket(r[0]);
}

void LoadChoices(pqxx::work& txn, RegistrationRecord& reg) {
  for (const pqxx::row& r : txn.exec_prepared("choices_get", reg.event_id, IdsLiteral({reg.id}))) {
    reg.choices.push_back(ReadChoice(r));
  }
}

// Deletes the choice of a round and lets the next waitlisted take its seat. The session's row is
// locked already. Its seat is offered whatever the choice's status was when read: a concurrent
// promotion may have confirmed it since, and offering a seat that is not free changes nothing.
void ReleaseChoice(pqxx::work& txn, int64_t event_id, int64_t registration_id,
                   const ChoiceRecord& choice) {
  txn.exec_prepared("choice_delete", event_id, registration_id, choice.round);
  PromoteSession(txn, event_id, choice.session_id);
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

}  // namespace

void PgRegistrationStore::RegisterStatements() {
  static const std::string get = absl::StrCat(
      "SELECT ", kRegistrationColumns, " FROM registrations r WHERE r.event_id = $1 AND r.id = $2");
  static const std::string by_request =
      absl::StrCat("SELECT ", kRegistrationColumns,
                   " FROM registrations r WHERE r.event_id = $1 AND r.request_id = $2");
  static const std::string list =
      absl::StrCat("SELECT ", kRegistrationColumns, R"( FROM registrations r
       WHERE r.event_id = $1 AND ($2 = 0 OR r.status = $2) AND r.search_name LIKE $3 || '%'
         AND r.id > $4
       ORDER BY r.id LIMIT $5)");
  AddStatements({
      {"event_for_registration",
       "SELECT capacity, state, us_of(end_time), us_of(purge_time) FROM events WHERE id = $1"},
      // FOR NO KEY UPDATE: the rows stay referable (inserts that name them take KEY SHARE),
      // while writers of seats and places queue behind each other.
      {"event_lock", "SELECT capacity FROM events WHERE id = $1 FOR NO KEY UPDATE"},
      {"event_end", "SELECT us_of(end_time) FROM events WHERE id = $1"},
      {"event_confirmed_count",
       "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 1"},
      {"session_lock",
       "SELECT round, capacity FROM sessions WHERE event_id = $1 AND id = $2 FOR NO KEY UPDATE"},
      // Confirmed choices belong only to confirmed registrations: a waitlisted registration's
      // choices wait with it, and a canceled one's are deleted.
      {"session_confirmed_count", R"(
          SELECT count(*) FROM session_choices
          WHERE event_id = $1 AND session_id = $2 AND status = 1)"},
      {"session_promote", R"(
          UPDATE session_choices SET status = 1
          WHERE (event_id, registration_id, round) IN (
            SELECT sc.event_id, sc.registration_id, sc.round FROM session_choices sc
            JOIN registrations r ON r.event_id = sc.event_id AND r.id = sc.registration_id
            WHERE sc.event_id = $1 AND sc.session_id = $2 AND sc.status = 2 AND r.status = 1
            ORDER BY sc.chosen_time, sc.registration_id LIMIT $3))"},
      {"registration_promote", R"(
          UPDATE registrations SET status = 1, update_time = now()
          WHERE (event_id, id) IN (
            SELECT event_id, id FROM registrations WHERE event_id = $1 AND status = 2
            ORDER BY id LIMIT $2)
          RETURNING id)"},
      {"registration_insert", R"(
          INSERT INTO registrations (event_id, display_name, search_name, email_sealed,
                                     phone_sealed, preferred_language, attention_flags, status,
                                     source, request_id, search_version, manage_secret_hash)
          VALUES ($1, $2, $3, $4, $5, $6, $7::integer[], $8, $9, NULLIF($10, ''), $11, $12)
          ON CONFLICT (event_id, request_id) DO NOTHING
          RETURNING id)"},
      {"registration_get", get.c_str()},
      {"registration_by_request", by_request.c_str()},
      {"registration_lock",
       "SELECT status FROM registrations WHERE event_id = $1 AND id = $2 FOR NO KEY UPDATE"},
      {"registration_set_status",
       "UPDATE registrations SET status = $3, update_time = now() WHERE event_id = $1 AND id = $2"},
      {"registration_secret_hash",
       "SELECT manage_secret_hash FROM registrations WHERE event_id = $1 AND id = $2"},
      {"registration_set_secret_hash", R"(
          UPDATE registrations SET manage_secret_hash = $3 WHERE event_id = $1 AND id = $2
          RETURNING id)"},
      {"registration_touch",
       "UPDATE registrations SET update_time = now() WHERE event_id = $1 AND id = $2"},
      {"registration_list", list.c_str()},
      {"registration_count", R"(
          SELECT count(*) FROM registrations r
          WHERE r.event_id = $1 AND ($2 = 0 OR r.status = $2) AND r.search_name LIKE $3 || '%')"},
      {"registration_search", R"(
          SELECT r.id, r.display_name, array_to_string(r.attention_flags, ','), r.status,
                 EXISTS (SELECT 1 FROM presence p JOIN checkpoints c
                           ON c.event_id = p.event_id AND c.id = p.checkpoint_id
                         WHERE p.event_id = r.event_id AND p.registration_id = r.id
                           AND c.session_id IS NULL AND p.ever_admitted)
          FROM registrations r
          WHERE r.event_id = $1
            AND (r.search_name LIKE $2 || '%' OR r.search_name LIKE '% ' || $2 || '%')
          ORDER BY r.search_name, r.id LIMIT $3)"},
      {"choice_insert", R"(
          INSERT INTO session_choices (event_id, registration_id, round, session_id, status)
          VALUES ($1, $2, $3, $4, $5))"},
      {"choice_delete",
       "DELETE FROM session_choices WHERE event_id = $1 AND registration_id = $2 AND round = $3"},
      {"choices_get", R"(
          SELECT sc.registration_id, sc.session_id, sc.round, sc.status, s.title, s.room
          FROM session_choices sc JOIN sessions s ON s.event_id = sc.event_id AND s.id = sc.session_id
          WHERE sc.event_id = $1 AND sc.registration_id = ANY ($2::bigint[])
          ORDER BY sc.registration_id, sc.round)"},
      {"ticket_insert", R"(
          INSERT INTO tickets (event_id, ticket_id, registration_id, key_id, code, expire_time)
          VALUES ($1, $2, $3, $4, $5, ts_of($6))
          RETURNING event_id, ticket_id, registration_id, key_id, code, us_of(issue_time),
                    us_of(expire_time))"},
      {"ticket_current", R"(
          SELECT event_id, ticket_id, registration_id, key_id, code, us_of(issue_time),
                 us_of(expire_time)
          FROM tickets WHERE event_id = $1 AND registration_id = $2 AND superseded_time IS NULL)"},
      {"tickets_signed_by", R"(
          SELECT t.event_id, t.registration_id, us_of(e.end_time)
          FROM tickets t JOIN events e ON e.id = t.event_id
          WHERE t.key_id = $1 AND t.superseded_time IS NULL
          ORDER BY t.event_id, t.registration_id
          FOR UPDATE OF t)"},
      {"ticket_supersede", R"(
          UPDATE tickets SET superseded_time = now()
          WHERE event_id = $1 AND registration_id = $2 AND superseded_time IS NULL)"},
  });
}

absl::StatusOr<Registered> PgRegistrationStore::Register(pqxx::work& txn, int64_t event_id,
                                                         const NewRegistration& input,
                                                         const DataKey& data_key,
                                                         const domain::SigningKey& key) {
  pqxx::result event = txn.exec_prepared("event_for_registration", event_id);
  if (event.empty()) {
    return absl::NotFoundError(absl::StrCat("event events/", event_id, " does not exist"));
  }
  if (!event[0][3].is_null()) return PurgedError(event_id, FromMicros(event[0][3].as<int64_t>()));
  if (event[0][1].as<int>() == kEventCanceled) {
    return absl::FailedPreconditionError(
        absl::StrCat("event events/", event_id, " is canceled; registration is closed"));
  }
  if (input.require_published && event[0][1].as<int>() != kEventPublished) {
    return absl::FailedPreconditionError(
        absl::StrCat("event events/", event_id, " is not open for registration"));
  }
  if (!input.request_id.empty()) {
    if (pqxx::result r = txn.exec_prepared("registration_by_request", event_id, input.request_id);
        !r.empty()) {
      Registered done;
      auto reg = ReadRegistration(r[0], data_key);
      if (!reg.ok()) return reg.status();
      done.registration = *std::move(reg);
      // A replay answers only the same person: a request_id is not a key to someone else's data.
      if (done.registration.display_name != input.display_name ||
          done.registration.email != input.email) {
        return absl::AlreadyExistsError(
            "request_id: was used for another registration; send a new random one (a UUID)");
      }
      LoadChoices(txn, done.registration);
      // The first answer's secret cannot be given again (only its hash is kept): the replay
      // carries a new one, and the one its client may never have received stops working.
      if (!input.manage_secret_hash.empty()) {
        absl::Status replaced = SetManageSecretHash(txn, event_id, done.registration.id,
                                                    input.manage_secret_hash);
        if (!replaced.ok()) return replaced;
      }
      auto ticket = CurrentTicket(txn, event_id, done.registration.id);
      if (!ticket.ok()) return ticket.status();
      done.ticket = *std::move(ticket);
      done.existed = true;
      return done;
    }
  }
  int status = kConfirmed;
  if (const int32_t capacity = event[0][0].as<int32_t>(); capacity > 0) {
    txn.exec_prepared("event_lock", event_id);  // serializes the last seats
    const int64_t taken = txn.exec_prepared("event_confirmed_count", event_id)[0][0].as<int64_t>();
    if (taken >= capacity) status = kWaitlisted;
  }
  auto chosen = CheckChosenSessions(event_id, input.session_ids,
                                    LockSessions(txn, event_id, input.session_ids));
  if (!chosen.ok()) return chosen.status();

  pqxx::result inserted = txn.exec_prepared(
      "registration_insert", event_id, input.display_name,
      domain::NormalizeForSearch(input.display_name), data_key.Seal(input.email),
      data_key.Seal(input.phone), input.preferred_language, FlagsLiteral(input.attention_flags),
      status, input.source, input.request_id, domain::kSearchNormalizationVersion,
      input.manage_secret_hash);
  if (inserted.empty()) {
    // A concurrent call with the same request_id committed first; answer as it did.
    return Register(txn, event_id, input, data_key, key);
  }
  // The insert's foreign key check took the event row FOR KEY SHARE, which waits for a purge in
  // progress (it holds the row FOR UPDATE): one that committed meanwhile is seen now.
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  const int64_t id = inserted[0][0].as<int64_t>();
  for (const ChosenSession& s : *chosen) {
    txn.exec_prepared("choice_insert", event_id, id, s.round, s.session_id,
                      SeatStatus(txn, event_id, s, status));
  }
  auto ticket = IssueTicket(txn, event_id, id, FromMicros(event[0][2].as<int64_t>()), key);
  if (!ticket.ok()) return ticket.status();
  auto reg = Get(txn, event_id, id, data_key);
  if (!reg.ok()) return reg.status();
  return Registered{*std::move(reg), *std::move(ticket), false};
}

absl::StatusOr<RegistrationRecord> PgRegistrationStore::Get(pqxx::work& txn, int64_t event_id,
                                                            int64_t id, const DataKey& data_key) {
  pqxx::result r = txn.exec_prepared("registration_get", event_id, id);
  if (r.empty()) return RegistrationNotFound(event_id, id);
  auto reg = ReadRegistration(r[0], data_key);
  if (!reg.ok()) return reg.status();
  LoadChoices(txn, *reg);
  return reg;
}

absl::StatusOr<std::string> PgRegistrationStore::ManageSecretHash(pqxx::work& txn,
                                                                 int64_t event_id, int64_t id) {
  pqxx::result r = txn.exec_prepared("registration_secret_hash", event_id, id);
  if (r.empty()) return RegistrationNotFound(event_id, id);
  return r[0][0].as<std::string>();
}

absl::Status PgRegistrationStore::SetManageSecretHash(pqxx::work& txn, int64_t event_id,
                                                      int64_t id, const std::string& hash) {
  if (txn.exec_prepared("registration_set_secret_hash", event_id, id, hash).empty()) {
    return RegistrationNotFound(event_id, id);
  }
  return absl::OkStatus();
}

absl::StatusOr<RegistrationRecord> PgRegistrationStore::Cancel(pqxx::work& txn, int64_t event_id,
                                                               int64_t id,
                                                               const DataKey& data_key) {
  // The lock order of registration_store.h: the event (its places may be given to the
  // waitlisted), the registration, then the sessions.
  if (txn.exec_prepared("event_lock", event_id).empty()) return RegistrationNotFound(event_id, id);
  pqxx::result locked = txn.exec_prepared("registration_lock", event_id, id);
  if (locked.empty()) return RegistrationNotFound(event_id, id);
  // The purge locks every registration row of its event: this waited for it.
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  const int before = locked[0][0].as<int>();
  if (before != kCanceled) {
    auto reg = Get(txn, event_id, id, data_key);
    if (!reg.ok()) return reg.status();
    txn.exec_prepared("registration_set_status", event_id, id, kCanceled);
    std::vector<int64_t> promoted;
    if (before == kConfirmed) promoted = PromoteRegistrations(txn, event_id);
    std::vector<int64_t> sessions = SessionsOf(reg->choices);
    for (int64_t s : SessionsChosenBy(txn, event_id, promoted)) sessions.push_back(s);
    const std::map<int64_t, ChosenSession> locked_sessions = LockSessions(txn, event_id, sessions);
    for (const ChoiceRecord& c : reg->choices) {
      txn.exec_prepared("choice_delete", event_id, id, c.round);
    }
    // Seats freed by the canceled, and seats for the newly confirmed, in session id order.
    for (const auto& [session_id, session] : locked_sessions) {
      PromoteSession(txn, event_id, session_id);
    }
  }
  return Get(txn, event_id, id, data_key);
}

absl::StatusOr<RegistrationRecord> PgRegistrationStore::UpdateChoices(
    pqxx::work& txn, int64_t event_id, int64_t id, const std::vector<int64_t>& session_ids,
    const DataKey& data_key) {
  // The lock order of registration_store.h: the registration, then every session this changes
  // (those chosen and those left), in id order.
  pqxx::result locked = txn.exec_prepared("registration_lock", event_id, id);
  if (locked.empty()) return RegistrationNotFound(event_id, id);
  // The purge locks every registration row of its event: this waited for it.
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  const int registration_status = locked[0][0].as<int>();
  if (registration_status == kCanceled) {
    return absl::FailedPreconditionError(
        absl::StrCat("registration events/", event_id, "/registrations/", id,
                     " is canceled; register again to choose breakouts"));
  }
  auto current = Get(txn, event_id, id, data_key);
  if (!current.ok()) return current.status();
  std::vector<int64_t> sessions = SessionsOf(current->choices);
  sessions.insert(sessions.end(), session_ids.begin(), session_ids.end());
  auto chosen = CheckChosenSessions(event_id, session_ids, LockSessions(txn, event_id, sessions));
  if (!chosen.ok()) return chosen.status();

  std::map<int32_t, int64_t> wanted;
  for (const ChosenSession& s : *chosen) wanted[s.round] = s.session_id;
  std::map<int32_t, int64_t> kept;
  for (const ChoiceRecord& c : current->choices) {
    auto it = wanted.find(c.round);
    if (it != wanted.end() && it->second == c.session_id) {
      kept[c.round] = c.session_id;  // keeps its seat or its place in the waitlist
    } else {
      ReleaseChoice(txn, event_id, id, c);
    }
  }
  for (const ChosenSession& s : *chosen) {
    if (kept.count(s.round)) continue;
    txn.exec_prepared("choice_insert", event_id, id, s.round, s.session_id,
                      SeatStatus(txn, event_id, s, registration_status));
  }
  txn.exec_prepared("registration_touch", event_id, id);
  return Get(txn, event_id, id, data_key);
}

absl::StatusOr<RegistrationPage> PgRegistrationStore::List(pqxx::work& txn, int64_t event_id,
                                                           int status,
                                                           const std::string& name_prefix,
                                                           int64_t after_id, int limit,
                                                           const DataKey& data_key) {
  const std::string like = LikePrefix(name_prefix);
  RegistrationPage page;
  std::vector<int64_t> ids;
  for (const pqxx::row& r :
       txn.exec_prepared("registration_list", event_id, status, like, after_id, limit)) {
    auto reg = ReadRegistration(r, data_key);
    if (!reg.ok()) return reg.status();
    ids.push_back(reg->id);
    page.registrations.push_back(*std::move(reg));
  }
  if (!ids.empty()) {
    std::map<int64_t, RegistrationRecord*> by_id;
    for (RegistrationRecord& reg : page.registrations) by_id[reg.id] = &reg;
    for (const pqxx::row& r : txn.exec_prepared("choices_get", event_id, IdsLiteral(ids))) {
      by_id[r[0].as<int64_t>()]->choices.push_back(ReadChoice(r));
    }
  }
  page.total_size =
      txn.exec_prepared("registration_count", event_id, status, like)[0][0].as<int32_t>();
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
  pqxx::result r = txn.exec_prepared("ticket_current", event_id, registration_id);
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
  pqxx::result locked = txn.exec_prepared("registration_lock", event_id, registration_id);
  if (locked.empty()) return RegistrationNotFound(event_id, registration_id);
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  if (locked[0][0].as<int>() == kCanceled) {
    return absl::FailedPreconditionError(
        absl::StrCat("registration events/", event_id, "/registrations/", registration_id,
                     " is canceled; a canceled registration gets no new ticket"));
  }
  txn.exec_prepared("ticket_supersede", event_id, registration_id);
  const absl::Time event_end =
      FromMicros(txn.exec_prepared("event_end", event_id)[0][0].as<int64_t>());
  return IssueTicket(txn, event_id, registration_id, event_end, key);
}

absl::StatusOr<int> PgRegistrationStore::ReissueSignedBy(pqxx::work& txn,
                                                        uint16_t revoked_key_id,
                                                        const domain::SigningKey& key) {
  int reissued = 0;
  for (const pqxx::row& r : txn.exec_prepared("tickets_signed_by", static_cast<int>(revoked_key_id))) {
    const int64_t event_id = r[0].as<int64_t>();
    const int64_t registration_id = r[1].as<int64_t>();
    txn.exec_prepared("ticket_supersede", event_id, registration_id);
    auto ticket = IssueTicket(txn, event_id, registration_id, FromMicros(r[2].as<int64_t>()), key);
    if (!ticket.ok()) return ticket.status();
    ++reissued;
  }
  return reissued;
}

absl::StatusOr<std::vector<SearchMatch>> PgRegistrationStore::Search(
    pqxx::work& txn, int64_t event_id, const std::string& normalized_query, int limit) {
  std::vector<SearchMatch> matches;
  for (const pqxx::row& r :
       txn.exec_prepared("registration_search", event_id, LikePrefix(normalized_query), limit)) {
    SearchMatch m;
    m.registration_id = r[0].as<int64_t>();
    m.display_name = r[1].as<std::string>();
    m.attention_flags = ParseFlags(r[2].as<std::string>());
    m.status = r[3].as<int>();
    m.checked_in = r[4].as<bool>();
    matches.push_back(std::move(m));
  }
  return matches;
}

}  // namespace turnout::store
