#include "server/store/report_store.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/store/pg.h"

namespace turnout::store {

void PgReportStore::RegisterStatements() {
  AddStatements({
      {"report_registrations", R"(
          SELECT id, display_name, status, source FROM registrations
          WHERE event_id = $1 AND id > $2 ORDER BY id LIMIT $3)"},
      {"report_first_entries", R"(
          SELECT registration_id, checkpoint_id, us_of(first_entry_time) FROM presence
          WHERE event_id = $1 AND registration_id BETWEEN $2 AND $3 AND ever_admitted
            AND first_entry_time IS NOT NULL)"},
      {"report_conflicts", R"(
          SELECT registration_id, count(*) FROM scans
          WHERE event_id = $1 AND registration_id BETWEEN $2 AND $3 AND offline
            AND device_status IS NOT NULL AND device_status <> status AND annul_time IS NULL
          GROUP BY registration_id)"},
  });
}

std::vector<ReportRow> PgReportStore::Page(pqxx::work& txn, int64_t event_id, int64_t after_id,
                                           int limit) {
  std::vector<ReportRow> rows;
  absl::flat_hash_map<int64_t, size_t> by_id;
  for (const pqxx::row& r : txn.exec_prepared("report_registrations", event_id, after_id, limit)) {
    ReportRow row;
    row.registration_id = r[0].as<int64_t>();
    row.display_name = r[1].as<std::string>();
    row.status = r[2].as<int>();
    row.source = r[3].as<int>();
    by_id[row.registration_id] = rows.size();
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return rows;
  const int64_t first = rows.front().registration_id;
  const int64_t last = rows.back().registration_id;
  for (const pqxx::row& r : txn.exec_prepared("report_first_entries", event_id, first, last)) {
    auto it = by_id.find(r[0].as<int64_t>());
    if (it != by_id.end()) {
      rows[it->second].first_entry[r[1].as<int64_t>()] = FromMicros(r[2].as<int64_t>());
    }
  }
  for (const pqxx::row& r : txn.exec_prepared("report_conflicts", event_id, first, last)) {
    auto it = by_id.find(r[0].as<int64_t>());
    if (it != by_id.end()) rows[it->second].conflicts = r[1].as<int64_t>();
  }
  return rows;
}

}  // namespace turnout::store
