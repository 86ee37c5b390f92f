#include "server/api/retention.h"

#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/api/names.h"
#include "server/domain/retention.h"
#include "server/store/audit_store.h"
#include "server/store/pg.h"
#include "server/util/status_macros.h"
#include "turnout/v1/admin_service.pb.h"

namespace turnout::api {

absl::StatusOr<store::PurgeOutcome> PurgeAndAudit(pqxx::connection* conn, const PurgeRequest& req,
                                                  absl::Time now) {
  store::PurgeOutcome outcome;
  RETURN_IF_ERROR(store::Database::InTransaction(conn, [&](pqxx::work& txn) -> absl::Status {
    ASSIGN_OR_RETURN(outcome, store::PgPurgeStore::Purge(txn, req.event_id, now, req.force));
    if (!outcome.already_purged || req.audit_repeat) {
      store::AuditRecord entry;
      entry.actor_token_id = req.actor_token_id;
      entry.action = v1::AuditEntry::PERSONAL_DATA_PURGED;
      entry.target = EventName(req.event_id);
      entry.event_id = req.event_id;
      entry.count = outcome.registrations_purged;
      entry.detail = outcome.already_purged ? absl::StrCat(req.detail, req.detail.empty() ? "" : "; ",
                                                           "purged before")
                                            : req.detail;
      store::PgAuditStore::Record(txn, entry);
    }
    return absl::OkStatus();
  }));
  return outcome;
}

RetentionTask::RetentionTask(Options options) : options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

RetentionTask::~RetentionTask() {
  stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void RetentionTask::Loop() {
  do {
    try {
      if (absl::Status s = Pass(); !s.ok()) {
        std::cerr << "turnout-server: automatic purge: " << s.message() << "\n";
      }
    } catch (const std::exception& e) {
      std::cerr << "turnout-server: automatic purge failed with " << typeid(e).name() << "\n";
      conn_.reset();
    }
  } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
}

absl::Status RetentionTask::Pass() {
  if (conn_ == nullptr || !conn_->is_open()) {
    conn_.reset();
    ASSIGN_OR_RETURN(conn_, store::Connect(options_.connection));
  }
  const absl::Time now = options_.clock->Now();
  std::vector<int64_t> due;
  RETURN_IF_ERROR(store::Database::InTransaction(conn_.get(), [&](pqxx::work& txn) {
    due = store::PgPurgeStore::EventsEndedBy(
        txn, domain::RetentionCutoff(now, options_.retention));
    return absl::OkStatus();
  }));
  const int64_t days = absl::ToInt64Hours(options_.retention) / 24;
  const std::string detail = absl::StrCat("retention ", days, " days");
  for (int64_t event_id : due) {
    if (stop_.HasBeenNotified()) break;
    PurgeRequest req;
    req.event_id = event_id;
    req.detail = detail;
    req.audit_repeat = false;  // another replica purged it meanwhile
    absl::StatusOr<store::PurgeOutcome> done = PurgeAndAudit(conn_.get(), req, options_.clock->Now());
    if (!done.ok()) {
      std::cerr << "turnout-server: automatic purge of " << EventName(event_id) << ": "
                << done.status().message() << "\n";
      continue;
    }
    if (done->already_purged) continue;
    vacuum_pending_ = true;
    std::cerr << "turnout-server: purged the personal data of " << EventName(event_id) << " ("
              << done->registrations_purged << " registrations): it ended more than " << days
              << " days ago\n";
  }
  if (vacuum_pending_ && !stop_.HasBeenNotified()) {
    RETURN_IF_ERROR(store::VacuumPurgedTables(options_.connection, kVacuumLockWait));
    vacuum_pending_ = false;
  }
  return absl::OkStatus();
}

}  // namespace turnout::api
