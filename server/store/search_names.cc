#include "server/store/search_names.h"

#include <string>
#include <vector>

#include "server/domain/validation.h"
#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {
namespace {

struct StaleName {
  int64_t event_id = 0;
  int64_t id = 0;
  std::string display_name;
};

// Rows after ($1, $2) in primary key order whose form is older than $3; at most $4.
constexpr Query kSelectStale{"search_names_stale", R"(
    SELECT event_id, id, display_name FROM registrations
    WHERE (event_id, id) > ($1, $2) AND search_version < $3
    ORDER BY event_id, id LIMIT $4)"};

StaleName ReadStaleName(const pqxx::row& r) {
  return {Column<int64_t>(r, "event_id"), Column<int64_t>(r, "id"),
          Column<std::string>(r, "display_name")};
}

// Sets ($1, $2)'s search form to $3 computed by rules version $4, unless it is already current.
constexpr Query kUpdate{"search_name_update", R"(
    UPDATE registrations SET search_name = $3, search_version = $4
    WHERE event_id = $1 AND id = $2 AND search_version < $4)"};

}  // namespace

absl::StatusOr<int64_t> PgSearchNames::RenormalizeAll(pqxx::connection& conn, int batch) {
  int64_t updated = 0;
  StaleName last;
  for (bool more = true; more;) {
    std::vector<StaleName> stale;
    int64_t batch_updated = 0;
    absl::Status status = Database::InTransaction(&conn, [&](pqxx::work& txn) -> absl::Status {
      stale.clear();  // InTransaction may run this again
      batch_updated = 0;
      for (const pqxx::row& r : Run(txn, kSelectStale, last.event_id, last.id,
                                        domain::kSearchNormalizationVersion, batch)) {
        stale.push_back(ReadStaleName(r));
      }
      for (const StaleName& s : stale) {
        batch_updated += Run(txn, kUpdate, s.event_id, s.id, domain::NormalizeForSearch(s.display_name),
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
