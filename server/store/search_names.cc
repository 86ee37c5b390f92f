#include "server/store/search_names.h"

#include <string>
#include <vector>

#include "server/domain/validation.h"
#include "server/store/pg.h"

namespace turnout::store {
namespace {

struct StaleName {
  int64_t event_id = 0;
  int64_t id = 0;
  std::string display_name;
};

// Rows after ($1, $2) in primary key order whose form is older than $3; at most $4.
constexpr char kSelectStale[] = R"(
    SELECT event_id, id, display_name FROM registrations
    WHERE (event_id, id) > ($1, $2) AND search_version < $3
    ORDER BY event_id, id LIMIT $4)";

StaleName ReadStaleName(const pqxx::row& r) {
  return {r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<std::string>()};
}

constexpr char kUpdate[] = R"(
    UPDATE registrations SET search_name = $3, search_version = $4
    WHERE event_id = $1 AND id = $2 AND search_version < $4)";

}  // namespace

void PgSearchNames::RegisterStatements() {
  AddStatements({
      {"search_names_stale", kSelectStale},
      {"search_name_update", kUpdate},
  });
}

absl::StatusOr<int64_t> PgSearchNames::RenormalizeAll(pqxx::connection& conn, int batch) {
  int64_t updated = 0;
  StaleName last;
  for (bool more = true; more;) {
    std::vector<StaleName> stale;
    int64_t batch_updated = 0;
    absl::Status status = Database::InTransaction(&conn, [&](pqxx::work& txn) -> absl::Status {
      stale.clear();  // InTransaction may run this again
      batch_updated = 0;
      for (const pqxx::row& r : txn.exec_prepared("search_names_stale", last.event_id, last.id,
                                                  domain::kSearchNormalizationVersion, batch)) {
        stale.push_back(ReadStaleName(r));
      }
      for (const StaleName& s : stale) {
        batch_updated += txn.exec_prepared("search_name_update", s.event_id, s.id,
                                           domain::NormalizeForSearch(s.display_name),
                                           domain::kSearchNormalizationVersion)
                             .affected_rows();
      }
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    updated += batch_updated;
    more = static_cast<int>(stale.size()) == batch;
    if (!stale.empty()) last = stale.back();
  }
  return updated;
}

}  // namespace turnout::store
