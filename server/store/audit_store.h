// The audit log of administrative actions: who (a token, or the server itself) did what to which
// resource, when, with a count. Entries are written in the transaction of the action they record,
// so an action and its entry commit together; they are filed by event (0 for tokens and signing
// keys, which belong to no event). They carry resource names, roles and counts only: never
// personal data, never a token's label (free text).
#ifndef TURNOUT_SERVER_STORE_AUDIT_STORE_H_
#define TURNOUT_SERVER_STORE_AUDIT_STORE_H_

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace turnout::store {

struct AuditRecord {
  int64_t id = 0;           // read only
  absl::Time time;          // read only: the transaction's time
  int64_t actor_token_id = 0;  // 0: the server itself
  int64_t event_id = 0;     // the event acted on; 0: a global resource (a token, a signing key)
  int action = 0;           // AuditEntry.Action
  std::string target;       // a resource name, e.g. "tokens/7", "events/3"
  int64_t count = 0;
  std::string detail;       // e.g. a role, "forced"; never free text from a request
};

class PgAuditStore {
 public:
  static void Record(pqxx::work& txn, const AuditRecord& entry);
  // Entries with id > after_id, oldest first.
  static std::vector<AuditRecord> List(pqxx::work& txn, int64_t after_id, int limit);
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_AUDIT_STORE_H_
