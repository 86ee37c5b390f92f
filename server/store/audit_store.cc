#include "server/store/audit_store.h"

#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {

namespace {

// An entry filed under event $1 (0: none) by token $2 (0: the server itself): action $3 on
// target $4, count $5, detail $6.
constexpr Query kInsert{"audit_insert", R"(
    INSERT INTO audit_log (event_id, actor_token_id, action, target, count, detail)
    VALUES ($1, NULLIF($2::bigint, 0), $3, $4, $5, $6))"};

// Entries with id > $1, oldest first, at most $2.
constexpr Query kList{"audit_list", R"(
    SELECT id, us_of(action_time) AS action_us, coalesce(actor_token_id, 0) AS actor_token_id,
           action, target, count, detail
    FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2)"};

AuditRecord ReadEntry(const pqxx::row& r) {
  AuditRecord e;
  e.id = Column<int64_t>(r, "id");
  e.time = FromMicros(Column<int64_t>(r, "action_us"));
  e.actor_token_id = Column<int64_t>(r, "actor_token_id");
  e.action = Column<int>(r, "action");
  e.target = Column<std::string>(r, "target");
  e.count = Column<int64_t>(r, "count");
  e.detail = Column<std::string>(r, "detail");
  return e;
}

}  // namespace

void PgAuditStore::Record(pqxx::work& txn, const AuditRecord& e) {
  Run(txn, kInsert, e.event_id, e.actor_token_id, e.action, e.target, e.count, e.detail);
}

std::vector<AuditRecord> PgAuditStore::List(pqxx::work& txn, int64_t after_id, int limit) {
  std::vector<AuditRecord> entries;
  for (const pqxx::row& r : Run(txn, kList, after_id, limit)) entries.push_back(ReadEntry(r));
  return entries;
}

}  // namespace turnout::store
