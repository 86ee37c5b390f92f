#include "server/store/report_store.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {

namespace {

// Registrations of event $1 with id > $2, at most $3, in id order.
constexpr Query kRegistrations{"report_registrations", R"(
    SELECT id, display_name, status, source FROM registrations
    WHERE event_id = $1 AND id > $2 ORDER BY id LIMIT $3)"};

ReportRow ReadRegistration(const pqxx::row& r) {
  ReportRow row;
  row.registration_id = Column<int64_t>(r, "id");
  row.display_name = Column<std::string>(r, "display_name");
  row.status = Column<int>(r, "status");
  row.source = Column<int>(r, "source");
  return row;
}

// The first entries of registrations $2..$3 of event $1, per checkpoint.
constexpr Query kFirstEntries{"report_first_entries", R"(
    SELECT registration_id, checkpoint_id, us_of(first_entry_time) AS first_entry_us
    FROM presence
    WHERE event_id = $1 AND registration_id BETWEEN $2 AND $3 AND ever_admitted
      AND first_entry_time IS NOT NULL)"};

// The conflicts of registrations $2..$3 of event $1: offline scans the server overruled.
constexpr Query kConflicts{"report_conflicts", R"(
    SELECT registration_id, count(*) AS conflicts FROM scans
    WHERE event_id = $1 AND registration_id BETWEEN $2 AND $3 AND offline
      AND device_status IS NOT NULL AND device_status <> status AND annul_time IS NULL
    GROUP BY registration_id)"};

}  // namespace

std::vector<ReportRow> PgReportStore::Page(pqxx::work& txn, int64_t event_id, int64_t after_id,
                                           int limit) {
  std::vector<ReportRow> rows;
  absl::flat_hash_map<int64_t, size_t> by_id;
  for (const pqxx::row& r : Run(txn, kRegistrations, event_id, after_id, limit)) {
    ReportRow row = ReadRegistration(r);
    by_id[row.registration_id] = rows.size();
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return rows;
  const int64_t first = rows.front().registration_id;
  const int64_t last = rows.back().registration_id;
  for (const pqxx::row& r : Run(txn, kFirstEntries, event_id, first, last)) {
    auto it = by_id.find(Column<int64_t>(r, "registration_id"));
    if (it != by_id.end()) {
      rows[it->second].first_entry[Column<int64_t>(r, "checkpoint_id")] =
          FromMicros(Column<int64_t>(r, "first_entry_us"));
    }
  }
  for (const pqxx::row& r : Run(txn, kConflicts, event_id, first, last)) {
    auto it = by_id.find(Column<int64_t>(r, "registration_id"));
    if (it != by_id.end()) rows[it->second].conflicts = Column<int64_t>(r, "conflicts");
  }
  return rows;
}

}  // namespace turnout::store
