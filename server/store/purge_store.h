// The purge of an event's personal data (docs/design.md, "Purge and retention"). In one
// transaction, holding the event's row FOR UPDATE (registrations, changes and scans wait for it and
// then see it purged):
//   - registrations keep their id, status, source and times; their display name, search form,
//     contact fields, language, attention flags, request_id and the manage secret's hash are
//     overwritten with empty values;
//   - breakout choices are deleted, their per-session tallies kept (purged_session_counts), so
//     every count reads as before;
//   - tickets (the codes, and so the link from a code someone holds to a registration) are
//     deleted;
//   - scans keep their status, checkpoint, direction and times; the keyed hash and code header of
//     what a refused scan read, and the request digest, are overwritten (its length is kept);
//   - presence (who was admitted where, by anonymous registration id) is kept;
//   - events.purge_time is set, once.
// Then, after the commit and outside any transaction, VacuumPurgedTables rewrites those tables so
// that the overwritten values leave the database's files.
#ifndef TURNOUT_SERVER_STORE_PURGE_STORE_H_
#define TURNOUT_SERVER_STORE_PURGE_STORE_H_

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace turnout::store {

struct PurgeOutcome {
  int32_t registrations_purged = 0;  // rows that still held personal data
  absl::Time purge_time;             // this purge's, or the first one's
  bool already_purged = false;       // the event had been purged before this call
};

class PgPurgeStore {
 public:

  // Erases the event's personal data as of `now`. Before the event's end, FAILED_PRECONDITION
  // unless `force` (domain::MayPurge); NOT_FOUND for no such event. An event purged before is
  // purged again (nothing is left to erase): OK, with already_purged and its first purge_time.
  static absl::StatusOr<PurgeOutcome> Purge(pqxx::work& txn, int64_t event_id, absl::Time now,
                                            bool force);

  // Events not yet purged that ended at or before `ended_by`, in id order.
  static std::vector<int64_t> EventsEndedBy(pqxx::work& txn, absl::Time ended_by);
};

// Rewrites the tables a purge overwrites (VACUUM FULL), on a connection of its own, outside any
// transaction. Each table's exclusive lock is waited for at most `lock_wait` (a waiting request
// would hold up every scan queued behind it); UNAVAILABLE if one was not granted (the purge
// stands; purging again retries the rewrite).
absl::Status VacuumPurgedTables(const std::string& connection_string, absl::Duration lock_wait);

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_PURGE_STORE_H_
