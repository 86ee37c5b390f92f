#include "server/store/bundle_store.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "server/store/event_store.h"
#include "server/store/pg.h"

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

absl::Time TimeOrPast(const pqxx::field& f) {
  return f.is_null() ? absl::InfinitePast() : FromMicros(f.as<int64_t>());
}

}  // namespace

void PgBundleStore::RegisterStatements() {
  AddStatements({
      {"bundle_isolation", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"},
      // The oldest transaction still running: every change by it or later has changed_xid >= it.
      {"bundle_version", "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"},
      {"bundle_tickets", R"(
          SELECT t.ticket_id, t.code, r.id, r.display_name, r.preferred_language,
                 array_to_string(r.attention_flags, ','), r.status
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
          ORDER BY r.id)"},
      {"bundle_choices", R"(
          SELECT registration_id, session_id, round, status FROM session_choices
          WHERE event_id = $1 ORDER BY registration_id, round)"},
      {"bundle_presence", R"(
          SELECT registration_id, checkpoint_id, ever_admitted, inside, us_of(first_entry_time),
                 us_of(last_scan_time)
          FROM presence
          WHERE event_id = $1 AND (ever_admitted OR inside OR last_scan_time IS NOT NULL)
          ORDER BY registration_id, checkpoint_id)"},
      {"bundle_revoked", R"(
          SELECT ticket_id FROM tickets
          WHERE event_id = $1 AND superseded_time IS NOT NULL
            AND ($2::bigint = 0 OR changed_xid >= $2::bigint::text::xid8)
          ORDER BY ticket_id)"},
  });
}

absl::StatusOr<BundleRows> PgBundleStore::Read(pqxx::work& txn, int64_t event_id,
                                               int64_t since_version) {
  txn.exec_prepared("bundle_isolation");
  // A purged event has no roster left to give, and takes no more scans.
  if (absl::Status open = PgEventStore::RequireNotPurged(txn, event_id); !open.ok()) return open;
  BundleRows rows;
  rows.version = txn.exec_prepared("bundle_version")[0][0].as<int64_t>();
  // A version this database has not reached yet comes from elsewhere (a restored backup, another
  // deployment): only a full bundle is safe.
  if (since_version < 0 || since_version > rows.version) since_version = 0;
  rows.full = since_version == 0;

  absl::flat_hash_map<int64_t, size_t> by_registration;
  for (const pqxx::row& r : txn.exec_prepared("bundle_tickets", event_id, since_version)) {
    BundleTicket t;
    t.ticket_id_hex = r[0].as<std::string>();
    t.code = r[1].as<std::string>();
    t.registration.event_id = event_id;
    t.registration.id = r[2].as<int64_t>();
    t.registration.display_name = r[3].as<std::string>();
    t.registration.preferred_language = r[4].as<std::string>();
    t.registration.attention_flags = IntsFromList(r[5].as<std::string>());
    t.registration.status = r[6].as<int>();
    by_registration[t.registration.id] = rows.tickets.size();
    rows.tickets.push_back(std::move(t));
  }
  if (!rows.tickets.empty()) {
    for (const pqxx::row& r : txn.exec_prepared("bundle_choices", event_id)) {
      auto it = by_registration.find(r[0].as<int64_t>());
      if (it == by_registration.end()) continue;
      ChoiceRecord c;
      c.session_id = r[1].as<int64_t>();
      c.round = r[2].as<int32_t>();
      c.status = r[3].as<int>();
      rows.tickets[it->second].registration.choices.push_back(c);
    }
    for (const pqxx::row& r : txn.exec_prepared("bundle_presence", event_id)) {
      auto it = by_registration.find(r[0].as<int64_t>());
      if (it == by_registration.end()) continue;
      BundlePresence p;
      p.checkpoint_id = r[1].as<int64_t>();
      p.ever_admitted = r[2].as<bool>();
      p.inside = r[3].as<bool>();
      p.first_entry_time = TimeOrPast(r[4]);
      p.last_scan_time = TimeOrPast(r[5]);
      rows.tickets[it->second].presence.push_back(p);
    }
  }
  for (const pqxx::row& r : txn.exec_prepared("bundle_revoked", event_id, since_version)) {
    rows.revoked_ticket_ids.push_back(r[0].as<std::string>());
  }
  return rows;
}

}  // namespace turnout::store
