#include "server/store/audit_store.h"

#include "server/store/pg.h"

namespace turnout::store {

void PgAuditStore::RegisterStatements() {
  AddStatements({
      {"audit_insert", R"(
          INSERT INTO audit_log (event_id, actor_token_id, action, target, count, detail)
          VALUES ($1, NULLIF($2::bigint, 0), $3, $4, $5, $6))"},
      {"audit_list", R"(
          SELECT id, us_of(action_time), coalesce(actor_token_id, 0), action, target, count, detail
          FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2)"},
  });
}

void PgAuditStore::Record(pqxx::work& txn, const AuditRecord& e) {
  txn.exec_prepared("audit_insert", e.event_id, e.actor_token_id, e.action, e.target, e.count,
                    e.detail);
}

std::vector<AuditRecord> PgAuditStore::List(pqxx::work& txn, int64_t after_id, int limit) {
  std::vector<AuditRecord> entries;
  for (const pqxx::row& r : txn.exec_prepared("audit_list", after_id, limit)) {
    AuditRecord e;
    e.id = r[0].as<int64_t>();
    e.time = FromMicros(r[1].as<int64_t>());
    e.actor_token_id = r[2].as<int64_t>();
    e.action = r[3].as<int>();
    e.target = r[4].as<std::string>();
    e.count = r[5].as<int64_t>();
    e.detail = r[6].as<std::string>();
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace turnout::store
