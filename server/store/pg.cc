#include "server/store/pg.h"

#include <iostream>
#include <typeinfo>

#include "absl/strings/str_cat.h"
#include "server/store/migrations.h"

namespace turnout::store {
namespace {

absl::Mutex registry_mu;
std::vector<Statement>& Registry() {
  static auto* statements = new std::vector<Statement>();
  return *statements;
}

constexpr int kMaxTransactionAttempts = 8;

}  // namespace

void AddStatements(std::initializer_list<Statement> statements) {
  absl::MutexLock lock(&registry_mu);
  for (const Statement& s : statements) Registry().push_back(s);
}

const char* StatementSql(absl::string_view name) {
  absl::MutexLock lock(&registry_mu);
  for (const Statement& s : Registry()) {
    if (name == s.name) return s.sql;
  }
  return nullptr;
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect(const std::string& connection_string) {
  try {
    auto conn = std::make_unique<pqxx::connection>(connection_string);
    absl::MutexLock lock(&registry_mu);
    for (const Statement& s : Registry()) conn->prepare(s.name, s.sql);
    return conn;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot connect to PostgreSQL: ", e.what()));
  }
}

absl::Status Database::InTransaction(pqxx::connection* conn,
                                     const std::function<absl::Status(pqxx::work&)>& body) {
  if (conn == nullptr) return absl::UnavailableError("the database is unreachable; retry shortly");
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
  // Re-prepare: migrations may have created what the statements refer to.
  conn = Connect(options.connection_string);
  if (!conn.ok()) return conn.status();
  std::unique_ptr<Database> db(new Database(options));
  for (int i = 0; i < options.workers; ++i)
    db->threads_.emplace_back([d = db.get()] { d->WorkerLoop(); });
  return db;
}

Database::~Database() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

bool Database::Submit(Job job) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || static_cast<int>(queue_.size()) >= options_.max_queue) return false;
  queue_.push_back(std::move(job));
  return true;
}

absl::Status Database::RunNow(const std::function<absl::Status(pqxx::work&)>& body) {
  auto conn = Connect(options_.connection_string);
  if (!conn.ok()) return conn.status();
  return InTransaction(conn->get(), body);
}

void Database::WorkerLoop() {
  std::unique_ptr<pqxx::connection> conn;
  for (;;) {
    Job job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and everything queued has run
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    // One connection attempt per job: while PostgreSQL is down, callers get UNAVAILABLE at once
    // instead of waiting in a queue that grows.
    if (conn == nullptr || !conn->is_open()) {
      conn.reset();
      auto fresh = Connect(options_.connection_string);
      if (fresh.ok()) conn = std::move(*fresh);
    }
    try {
      job(conn.get());
    } catch (const std::exception& e) {
      std::cerr << "turnout: a database job failed with an exception of type " << typeid(e).name()
                << "\n";
    }
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
