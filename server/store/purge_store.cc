#include "server/store/purge_store.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "server/domain/retention.h"
#include "server/domain/scan_rules.h"
#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {
namespace {

using domain::Stored;

// Every table whose rows a purge overwrites or deletes.
constexpr const char* kPurgedTables[] = {"registrations", "session_choices", "tickets", "scans"};

// Locks event $1 against changes while it is purged.
constexpr Query kLockEvent{"purge_lock_event", R"(
    SELECT us_of(end_time) AS end_us, us_of(purge_time) AS purge_us FROM events WHERE id = $1
    FOR UPDATE)"};

// The event's breakout tallies, kept after its choices are deleted: seats taken (choice status
// $2, CONFIRMED), waitlisted ($3) and selected (a seat of a registration with status $4,
// CONFIRMED). Added to what an earlier purge kept, should one find choices left (it cannot: a
// purged event takes no changes), so that the tallies stay exact either way.
constexpr Query kTallyChoices{"purge_tally_choices", R"(
    INSERT INTO purged_session_counts (event_id, session_id, confirmed, waitlisted, selected)
    SELECT sc.event_id, sc.session_id, count(*) FILTER (WHERE sc.status = $2),
           count(*) FILTER (WHERE sc.status = $3),
           count(*) FILTER (WHERE sc.status = $2 AND r.status = $4)
    FROM session_choices sc
    JOIN registrations r ON r.event_id = sc.event_id AND r.id = sc.registration_id
    WHERE sc.event_id = $1 GROUP BY sc.event_id, sc.session_id
    ON CONFLICT (event_id, session_id) DO UPDATE SET
      confirmed = purged_session_counts.confirmed + EXCLUDED.confirmed,
      waitlisted = purged_session_counts.waitlisted + EXCLUDED.waitlisted,
      selected = purged_session_counts.selected + EXCLUDED.selected)"};

// Blanks the personal data of event $1's registrations (those not blank already).
constexpr Query kRegistrations{"purge_registrations", R"(
    UPDATE registrations SET display_name = '', search_name = '', email_sealed = '',
           phone_sealed = '', preferred_language = '', attention_flags = '{}',
           request_id = NULL, manage_secret_hash = ''
    WHERE event_id = $1
      AND (display_name <> '' OR search_name <> '' OR email_sealed <> ''
           OR phone_sealed <> '' OR preferred_language <> '' OR attention_flags <> '{}'
           OR request_id IS NOT NULL OR manage_secret_hash <> ''))"};

constexpr Query kChoices{"purge_choices", "DELETE FROM session_choices WHERE event_id = $1"};

constexpr Query kTickets{"purge_tickets", "DELETE FROM tickets WHERE event_id = $1"};

// Blanks what event $1's scans kept of what was read.
constexpr Query kScans{"purge_scans", R"(
    UPDATE scans SET code_hash = '', code_header = '', request_digest = ''
    WHERE event_id = $1 AND (code_hash <> '' OR code_header <> '' OR request_digest <> ''))"};

// Marks event $1 purged at $2 (once: a second purge keeps the first time).
constexpr Query kMarkEvent{"purge_mark_event", R"(
    UPDATE events SET purge_time = coalesce(purge_time, ts_of($2)) WHERE id = $1
    RETURNING us_of(purge_time) AS purge_us)"};

// The events not purged that ended by $1.
constexpr Query kEventsDue{"purge_events_due", R"(
    SELECT id FROM events WHERE purge_time IS NULL AND end_time <= ts_of($1) ORDER BY id)"};

}  // namespace

absl::StatusOr<PurgeOutcome> PgPurgeStore::Purge(pqxx::work& txn, int64_t event_id, absl::Time now,
                                                 bool force) {
  pqxx::result event = Run(txn, kLockEvent, event_id);
  if (event.empty()) {
    return absl::NotFoundError(absl::StrCat("event events/", event_id, " does not exist"));
  }
  PurgeOutcome out;
  out.already_purged = !event[0]["purge_us"].is_null();
  if (!out.already_purged) {
    if (absl::Status may =
            domain::MayPurge(FromMicros(Column<int64_t>(event[0], "end_us")), now, force);
        !may.ok()) {
      return absl::Status(may.code(), absl::StrCat("event events/", event_id, ": ", may.message()));
    }
  }
  // Registrations first: their row locks wait for any change in progress (which locks its
  // registration row first), so what it wrote is seen, tallied and erased below.
  out.registrations_purged =
      static_cast<int32_t>(Run(txn, kRegistrations, event_id).affected_rows());
  Run(txn, kTallyChoices, event_id, Stored(domain::ChoiceStatus::kConfirmed),
      Stored(domain::ChoiceStatus::kWaitlisted), Stored(domain::RegistrationStatus::kConfirmed));
  Run(txn, kChoices, event_id);
  Run(txn, kTickets, event_id);
  Run(txn, kScans, event_id);
  out.purge_time =
      FromMicros(Column<int64_t>(Run(txn, kMarkEvent, event_id, ToMicros(now))[0], "purge_us"));
  return out;
}

std::vector<int64_t> PgPurgeStore::EventsEndedBy(pqxx::work& txn, absl::Time ended_by) {
  std::vector<int64_t> ids;
  for (const pqxx::row& r : Run(txn, kEventsDue, ToMicros(ended_by))) {
    ids.push_back(Column<int64_t>(r, "id"));
  }
  return ids;
}

absl::Status VacuumPurgedTables(const std::string& connection_string, absl::Duration lock_wait) {
  try {
    // A connection of its own: VACUUM cannot run in a transaction, and the lock timeout set here
    // must not outlive it.
    pqxx::connection conn(connection_string);
    pqxx::nontransaction work(conn);
    work.exec(absl::StrCat("SET lock_timeout = ", absl::ToInt64Milliseconds(lock_wait)));
    for (const char* table : kPurgedTables) {
      // FULL writes the table and its indexes anew and drops the old files, so the overwritten
      // values are gone from the database's pages, not merely marked free.
      work.exec(absl::StrCat("VACUUM (FULL) ", table));
    }
    return absl::OkStatus();
  } catch (const pqxx::sql_error& e) {
    // The SQLSTATE only (55P03: a lock was not granted in time).
    std::cerr << "turnout: VACUUM after a purge: SQL error " << e.sqlstate() << "\n";
    return absl::UnavailableError(
        "the personal data is erased, but rewriting the tables did not get its locks in time; "
        "purge again later to retry");
  } catch (const std::exception& e) {
    std::cerr << "turnout: VACUUM after a purge failed: " << typeid(e).name() << "\n";
    return absl::UnavailableError("the personal data is erased, but rewriting the tables failed");
  }
}

}  // namespace turnout::store
