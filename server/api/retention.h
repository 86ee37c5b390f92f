// Purging an event's personal data, on request (AdminService.PurgePersonalData) and automatically
// once the retention period after its end has passed (RetentionTask, `--retention_days`). Both
// record the purge in the audit log, in the purge's own transaction, and then rewrite the purged
// tables (store::VacuumPurgedTables). docs/design.md, "Purge and retention".
#ifndef TURNOUT_SERVER_API_RETENTION_H_
#define TURNOUT_SERVER_API_RETENTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/store/purge_store.h"
#include "server/util/clock.h"

namespace turnout::api {

// How long the rewrite after a purge waits for each table's lock (store::VacuumPurgedTables).
inline constexpr absl::Duration kVacuumLockWait = absl::Seconds(5);

struct PurgeRequest {
  int64_t event_id = 0;
  bool force = false;
  int64_t actor_token_id = 0;  // 0: the server itself
  std::string detail;          // for the audit entry: "forced", "retention 30 days"
  // Whether purging an event purged before leaves an audit entry too: yes when a person asked.
  bool audit_repeat = true;
};

// Purges and records the audit entry in one transaction on `conn` (see store::PgPurgeStore).
absl::StatusOr<store::PurgeOutcome> PurgeAndAudit(pqxx::connection* conn, const PurgeRequest& req,
                                                  absl::Time now);

// Purges, at start and then every `interval`, the events that ended `retention` or longer ago.
class RetentionTask {
 public:
  struct Options {
    std::string connection;  // libpq connection string
    absl::Duration retention;  // positive
    absl::Duration interval = absl::Hours(1);
    const util::Clock* clock = util::Clock::Real();  // decides which events are due
  };
  explicit RetentionTask(Options options);
  ~RetentionTask();  // stops the task and waits for a pass in progress
  RetentionTask(const RetentionTask&) = delete;
  RetentionTask& operator=(const RetentionTask&) = delete;

 private:
  void Loop();
  // One pass: purges what is due, then rewrites the tables if it purged anything (or a rewrite
  // failed before).
  absl::Status Pass();

  const Options options_;
  std::unique_ptr<pqxx::connection> conn_;  // the task's thread only
  bool vacuum_pending_ = false;             // the task's thread only
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace turnout::api

#endif  // TURNOUT_SERVER_API_RETENTION_H_
