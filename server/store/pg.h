// PostgreSQL plumbing shared by the stores: a pool of worker threads, each owning one connection
// with every named statement prepared, and one place that retries transactions and maps errors to
// absl::Status.
//
// Database work never runs on a gRPC reactor thread: the API layer hands a closure to
// Database::Submit, which runs it on a worker with that worker's connection.
#ifndef TURNOUT_SERVER_STORE_PG_H_
#define TURNOUT_SERVER_STORE_PG_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace turnout::store {

// A named SQL statement, prepared on every connection of the pool.
struct Statement {
  const char* name;
  const char* sql;
};

// Adds statements to prepare on every new connection. Each store adds its own in
// RegisterStatements() before Database::Open.
void AddStatements(std::initializer_list<Statement> statements);

// The SQL of a registered statement, or nullptr (used by turnout-bench to replay the same SQL).
const char* StatementSql(absl::string_view name);

// Times travel as microseconds since the epoch; the schema converts with ts_of()/us_of().
int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);

class Database {
 public:
  struct Options {
    std::string connection_string;
    int workers = 16;
    // Jobs waiting beyond this are refused with UNAVAILABLE rather than queued without bound.
    int max_queue = 4096;
  };

  // Connects one worker (to fail fast on a bad connection string), applies migrations, starts the
  // pool.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const Options& options);
  ~Database();

  // A job gets its worker's connection, or nullptr when the database cannot be reached right now
  // (InTransaction then answers UNAVAILABLE, so jobs need no special case).
  using Job = std::function<void(pqxx::connection*)>;
  // Queues `job` to run on a worker with that worker's connection. Returns false, without running
  // the job, when the queue is full or the pool is stopping.
  bool Submit(Job job);

  // Runs `body` in a transaction on `conn`, retrying serialization failures and deadlocks, and
  // mapping database errors to absl::Status (UNAVAILABLE for a lost connection).
  static absl::Status InTransaction(pqxx::connection* conn,
                                    const std::function<absl::Status(pqxx::work&)>& body);

  // Runs `body` synchronously on a fresh connection (start-up tasks, tests).
  absl::Status RunNow(const std::function<absl::Status(pqxx::work&)>& body);

  const std::string& connection_string() const { return options_.connection_string; }

 private:
  explicit Database(Options options) : options_(std::move(options)) {}
  void WorkerLoop();

  Options options_;
  absl::Mutex mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// Opens a connection with every registered statement prepared.
absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect(const std::string& connection_string);

// Applies the schema migrations not yet applied, in order, each in its own transaction.
absl::Status Migrate(pqxx::connection& conn);

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_PG_H_
