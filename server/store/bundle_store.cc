#include "server/store/bundle_store.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "server/store/event_store.h"
#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {
namespace {

std::vector<int> IntsFromList(const std::string& text) {
  std::vector<int> ints;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int value = 0;
    if (absl::SimpleAtoi(part, &value)) ints.push_back(value);
  }
  return ints;
}

absl::Time TimeOrPast(const pqxx::row& r, const char* column) {
  return r[column].is_null() ? absl::InfinitePast() : FromMicros(Column<int64_t>(r, column));
}

// The bundle reads one snapshot, and writes nothing.
constexpr Query kIsolation{"bundle_isolation",
                           "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"};

// The oldest transaction still running: every change by it or later has changed_xid >= it.
constexpr Query kVersion{"bundle_version",
                         "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS version"};

// The current tickets of event $1 with what the door sees of their registrations: all of them
// ($2 = 0), or those whose registration, ticket, choices or presence changed at version $2 or
// later.
constexpr Query kTickets{"bundle_tickets", R"(
    SELECT t.ticket_id, t.code, r.id AS registration_id, r.display_name, r.preferred_language,
           array_to_string(r.attention_flags, ',') AS attention_flags, r.status
    FROM tickets t
    JOIN registrations r ON r.event_id = t.event_id AND r.id = t.registration_id
    WHERE t.event_id = $1 AND t.superseded_time IS NULL
      AND ($2::bigint = 0
           OR r.changed_xid >= $2::bigint::text::xid8
           OR t.changed_xid >= $2::bigint::text::xid8
           OR EXISTS (SELECT 1 FROM session_choices sc
                      WHERE sc.event_id = r.event_id AND sc.registration_id = r.id
                        AND sc.changed_xid >= $2::bigint::text::xid8)
           OR EXISTS (SELECT 1 FROM presence p
                      WHERE p.event_id = r.event_id AND p.registration_id = r.id
                        AND p.changed_xid >= $2::bigint::text::xid8))
    ORDER BY r.id)"};

BundleTicket ReadTicket(const pqxx::row& r, int64_t event_id) {
  BundleTicket t;
  t.ticket_id_hex = Column<std::string>(r, "ticket_id");
  t.code = Column<std::string>(r, "code");
  t.registration.event_id = event_id;
  t.registration.id = Column<int64_t>(r, "registration_id");
  t.registration.display_name = Column<std::string>(r, "display_name");
  t.registration.preferred_language = Column<std::string>(r, "preferred_language");
  t.registration.attention_flags = IntsFromList(Column<std::string>(r, "attention_flags"));
  t.registration.status = Column<int>(r, "status");
  return t;
}

// Every breakout choice of event $1.
constexpr Query kChoices{"bundle_choices", R"(
    SELECT registration_id, session_id, round, status FROM session_choices
    WHERE event_id = $1 ORDER BY registration_id, round)"};

ChoiceRecord ReadChoice(const pqxx::row& r) {
  ChoiceRecord c;
  c.session_id = Column<int64_t>(r, "session_id");
  c.round = Column<int32_t>(r, "round");
  c.status = Column<int>(r, "status");
  return c;
}

// Every presence of event $1 that records something.
constexpr Query kPresence{"bundle_presence", R"(
    SELECT registration_id, checkpoint_id, ever_admitted, inside,
           us_of(first_entry_time) AS first_entry_us, us_of(last_scan_time) AS last_scan_us
    FROM presence
    WHERE event_id = $1 AND (ever_admitted OR inside OR last_scan_time IS NOT NULL)
    ORDER BY registration_id, checkpoint_id)"};

BundlePresence ReadPresence(const pqxx::row& r) {
  BundlePresence p;
  p.checkpoint_id = Column<int64_t>(r, "checkpoint_id");
  p.ever_admitted = Column<bool>(r, "ever_admitted");
  p.inside = Column<bool>(r, "inside");
  p.first_entry_time = TimeOrPast(r, "first_entry_us");
  p.last_scan_time = TimeOrPast(r, "last_scan_us");
  return p;
}

// The superseded tickets of event $1: all of them ($2 = 0), or those changed at version $2 or
// later.
constexpr Query kRevoked{"bundle_revoked", R"(
    SELECT ticket_id FROM tickets
    WHERE event_id = $1 AND superseded_time IS NOT NULL
      AND ($2::bigint = 0 OR changed_xid >= $2::bigint::text::xid8)
    ORDER BY ticket_id)"};

}  // namespace

absl::StatusOr<BundleRows> PgBundleStore::Read(pqxx::work& txn, int64_t event_id,
                                               int64_t since_version) {
  Run(txn, kIsolation);
  // A purged event has no roster left to give, and takes no more scans.
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  BundleRows rows;
  rows.version = Column<int64_t>(Run(txn, kVersion)[0], "version");
  // A version this database has not reached yet comes from elsewhere (a restored backup, another
  // deployment): only a full bundle is safe.
  if (since_version < 0 || since_version > rows.version) since_version = 0;
  rows.full = since_version == 0;

  absl::flat_hash_map<int64_t, size_t> by_registration;
  for (const pqxx::row& r : Run(txn, kTickets, event_id, since_version)) {
    BundleTicket t = ReadTicket(r, event_id);
    by_registration[t.registration.id] = rows.tickets.size();
    rows.tickets.push_back(std::move(t));
  }
  if (!rows.tickets.empty()) {
    for (const pqxx::row& r : Run(txn, kChoices, event_id)) {
      auto it = by_registration.find(Column<int64_t>(r, "registration_id"));
      if (it == by_registration.end()) continue;
      rows.tickets[it->second].registration.choices.push_back(ReadChoice(r));
    }
    for (const pqxx::row& r : Run(txn, kPresence, event_id)) {
      auto it = by_registration.find(Column<int64_t>(r, "registration_id"));
      if (it == by_registration.end()) continue;
      rows.tickets[it->second].presence.push_back(ReadPresence(r));
    }
  }
  for (const pqxx::row& r : Run(txn, kRevoked, event_id, since_version)) {
    rows.revoked_ticket_ids.push_back(Column<std::string>(r, "ticket_id"));
  }
  return rows;
}

}  // namespace turnout::store
