#include "server/store/pg.h"

#include <iostream>
#include <typeinfo>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "server/store/migrations.h"

namespace turnout::store {
namespace {

constexpr int kMaxTransactionAttempts = 8;

}  // namespace

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect(const std::string& connection_string) {
  try {
    return std::make_unique<pqxx::connection>(connection_string);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", e.what()));
  }
}

absl::Status Database::InTransaction(pqxx::connection* conn,
                                     const std::function<absl::Status(pqxx::work&)>& body) {
  if (conn == nullptr) {
    // The pool waited for the database up to the call's deadline (pg.h); the door retries with the
    // same client_scan_id, which never counts twice.
    return absl::UnavailableError(
        "the database is unreachable and the server is reconnecting; retry in 1 s");
  }
  for (int attempt = 1;; ++attempt) {
    try {
      pqxx::work txn(*conn);
      absl::Status status = body(txn);
      if (!status.ok()) return status;  // the work is rolled back by its destructor
      txn.commit();
      return absl::OkStatus();
    } catch (const pqxx::transaction_rollback& e) {
      // Serialization failures and deadlocks: retry the whole transaction.
      if (attempt >= kMaxTransactionAttempts) {
        return absl::AbortedError("the database kept refusing a conflicting transaction; retry");
      }
    } catch (const pqxx::in_doubt_error& e) {
      return absl::UnavailableError("the database connection was lost during commit; retry");
    } catch (const pqxx::broken_connection& e) {
      return absl::UnavailableError("the database connection was lost; retry");
    } catch (const pqxx::sql_error& e) {
      // Only the SQLSTATE: messages can quote row values, which may be personal data.
      std::cerr << "turnout: SQL error " << e.sqlstate() << "\n";
      return absl::InternalError("database error");
    } catch (const std::exception& e) {
      // The type only: conversion errors quote the value, which may be personal data.
      std::cerr << "turnout: database error of type " << typeid(e).name() << "\n";
      return absl::InternalError("database error");
    }
  }
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const Options& options) {
  auto conn = Connect(options.connection_string);
  if (!conn.ok()) return conn.status();
  if (absl::Status s = Migrate(**conn); !s.ok()) return s;
  std::unique_ptr<Database> db(new Database(options));
  for (int i = 0; i < options.workers; ++i)
    db->threads_.emplace_back([d = db.get()] { d->WorkerLoop(); });
  db->reconnector_ = std::thread([d = db.get()] { d->ReconnectorLoop(); });
  return db;
}

Database::~Database() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  {
    // Jobs waiting for an unreachable database stop waiting; queued jobs still run.
    absl::MutexLock lock(&conn_mu_);
    closing_ = true;
  }
  for (std::thread& t : threads_) t.join();
  reconnector_.join();
}

bool Database::Submit(Job job, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || static_cast<int>(queue_.size()) >= options_.max_queue) return false;
  queue_.push_back(QueuedJob{std::move(job), deadline});
  return true;
}

Database::ConnectionStats Database::connection_stats() const {
  absl::MutexLock lock(&conn_mu_);
  return stats_;
}

void Database::OnReachabilityChange(std::function<void(bool reachable)> listener) {
  absl::MutexLock lock(&conn_mu_);
  listener_ = std::move(listener);
  told_ = -1;  // the reconnector tells the new listener the current state
}

absl::Status Database::RunNow(const std::function<absl::Status(pqxx::work&)>& body) {
  auto conn = Connect(options_.connection_string);
  if (!conn.ok()) return conn.status();
  return InTransaction(conn->get(), body);
}

void Database::WorkerLoop() {
  WorkerConnection mine;
  for (;;) {
    QueuedJob queued;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and everything queued has run
      queued = std::move(queue_.front());
      queue_.pop_front();
    }
    if (mine.conn != nullptr) {
      absl::MutexLock lock(&conn_mu_);
      if (mine.epoch != stats_.outages) mine.conn.reset();  // opened before the latest outage
    }
    if (mine.conn == nullptr || !mine.conn->is_open()) mine = AcquireConnection(queued.deadline);
    try {
      queued.job(mine.conn.get());
    } catch (const std::exception& e) {
      std::cerr << "turnout: a database job failed with an exception of type " << typeid(e).name()
                << "\n";
    }
    if (mine.conn != nullptr && !mine.conn->is_open()) {
      ReportLost(mine.epoch);
      mine.conn.reset();
    }
  }
}

Database::WorkerConnection Database::AcquireConnection(absl::Time deadline) {
  deadline = std::min(deadline, absl::Now() + kMaxConnectionWait);
  for (;;) {
    int64_t epoch = 0;
    {
      absl::MutexLock lock(&conn_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(conn_mu_) {
        return closing_ || stats_.reachable;
      };
      conn_mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
      if (!stats_.reachable) return {};  // still down at the deadline, or the pool is closing
      epoch = stats_.outages;
      ++stats_.attempts;
    }
    auto fresh = Connect(options_.connection_string);
    absl::MutexLock lock(&conn_mu_);
    if (fresh.ok()) return {std::move(*fresh), epoch};
    ++stats_.failures;
    if (stats_.reachable && stats_.outages == epoch) StartOutageLocked();
  }
}

void Database::ReportLost(int64_t epoch) {
  absl::MutexLock lock(&conn_mu_);
  if (stats_.reachable && stats_.outages == epoch) StartOutageLocked();
}

void Database::StartOutageLocked() {
  stats_.reachable = false;
  ++stats_.outages;
  outage_start_ = absl::Now();
  at_outage_start_ = stats_;
  failures_in_row_ = 0;
  next_attempt_ = outage_start_;  // the first attempt at once: a lost connection may be all it was
  std::cerr << "turnout: lost the connection to PostgreSQL; reconnecting, one attempt at a time\n";
}

bool Database::Probe(std::unique_ptr<pqxx::connection>& probe) {
  // Twice: a probe connection broken by a restart that nobody noticed is not an outage.
  for (int round = 0; round < 2; ++round) {
    const bool opening = probe == nullptr || !probe->is_open();
    try {
      if (opening) {
        probe.reset();
        {
          absl::MutexLock lock(&conn_mu_);
          ++stats_.attempts;
        }
        probe = std::make_unique<pqxx::connection>(options_.connection_string);
      }
      pqxx::nontransaction txn(*probe);
      txn.exec("SELECT 1");
      return true;
    } catch (const std::exception&) {
      probe.reset();
      if (opening) {
        absl::MutexLock lock(&conn_mu_);
        ++stats_.failures;
        return false;
      }
    }
  }
  return false;
}

void Database::ReconnectorLoop() {
  std::unique_ptr<pqxx::connection> probe;  // the reconnector's own connection
  absl::BitGen random;
  absl::Time next_probe = absl::Now() + options_.probe_interval;
  bool saw_reachable = true;
  for (;;) {
    std::function<void(bool)> listener;
    bool reachable = true;
    int64_t epoch = 0;
    {
      absl::MutexLock lock(&conn_mu_);
      // Wakes for a change (an outage a worker found), a listener to tell, or the pool closing.
      auto news = [this, &saw_reachable]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(conn_mu_) {
        return closing_ || stats_.reachable != saw_reachable ||
               (listener_ && told_ != static_cast<int>(stats_.reachable));
      };
      conn_mu_.AwaitWithDeadline(absl::Condition(&news),
                                 stats_.reachable ? next_probe : next_attempt_);
      if (closing_) return;
      reachable = saw_reachable = stats_.reachable;
      epoch = stats_.outages;
      if (listener_ && told_ != static_cast<int>(reachable)) {
        told_ = reachable;
        listener = listener_;
      } else if (absl::Now() < (reachable ? next_probe : next_attempt_)) {
        continue;
      }
    }
    if (listener) {
      listener(reachable);  // outside the lock; only this thread calls it, so in order
      continue;
    }
    if (reachable) {
      const bool ok = Probe(probe);
      next_probe = absl::Now() + options_.probe_interval;
      if (!ok) ReportLost(epoch);
      continue;
    }
    // Down: this thread alone tries, once per backoff step.
    probe.reset();
    {
      absl::MutexLock lock(&conn_mu_);
      ++stats_.attempts;
    }
    try {
      probe = std::make_unique<pqxx::connection>(options_.connection_string);
    } catch (const std::exception&) {
      probe.reset();
    }
    absl::MutexLock lock(&conn_mu_);
    if (probe == nullptr) {
      ++stats_.failures;
      ++failures_in_row_;
      next_attempt_ =
          absl::Now() + options_.backoff.Delay(failures_in_row_, absl::Uniform(random, 0.0, 1.0));
      continue;
    }
    stats_.reachable = saw_reachable = true;
    ++stats_.reconnects;
    next_probe = absl::Now() + options_.probe_interval;
    // One line per outage, read by operators and by tests/e2e/fault_test.py.
    std::cerr << "turnout: PostgreSQL reachable again after "
              << absl::ToInt64Milliseconds(absl::Now() - outage_start_) << " ms: "
              << stats_.attempts - at_outage_start_.attempts << " connection attempts, "
              << stats_.failures - at_outage_start_.failures << " refused\n";
  }
}

}  // namespace turnout::store

namespace turnout::store {

absl::Status Migrate(pqxx::connection& conn) {
  try {
    pqxx::work txn(conn);
    // Replicas starting together take turns; the loser sees the migrations already applied.
    txn.exec("SELECT pg_advisory_xact_lock(74110015)");
    txn.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "description text NOT NULL, applied_time timestamptz NOT NULL DEFAULT now())");
    const int current =
        txn.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
    for (const Migration& m : Migrations()) {
      if (m.version <= current) continue;
      txn.exec(m.sql);
      txn.exec_params("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                      m.version, m.description);
    }
    txn.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("applying schema migrations failed: ", e.what()));
  }
}

}  // namespace turnout::store
