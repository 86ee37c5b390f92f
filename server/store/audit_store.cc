#include "server/store/audit_store.h"

#include "server/store/pg.h"
#include "server/store/query.h"

namespace turnout::store {

namespace {

// An entry by token $1 (0: the server itself): action $2 on target $3, count $4, detail $5.
constexpr Query kInsert{"audit_insert", R"(
    INSERT INTO audit_log (actor_token_id, action, target, count, detail)
    VALUES (NULLIF($1::bigint, 0), $2, $3, $4, $5))"};

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
  Run(txn, kInsert, e.actor_token_id, e.action, e.target, e.count, e.detail);
}

std::vector<AuditRecord> PgAuditStore::List(pqxx::work& txn, int64_t after_id, int limit) {
  std::vector<AuditRecord> entries;
  for (const pqxx::row& r : Run(txn, kList, after_id, limit)) entries.push_back(ReadEntry(r));
  return entries;
}

}  // namespace turnout::store
