// PostgreSQL plumbing shared by the stores: a pool of worker threads, each owning one connection
// (each store's Query constants are prepared on it as they first run, query.h), and one place
// that retries transactions and maps errors to absl::Status.
//
// Database work never runs on a gRPC reactor thread: the API layer hands a closure to
// Database::Submit, which runs it on a worker with that worker's connection.
//
// When PostgreSQL becomes unreachable (a worker's connection breaks, a connection is refused, or
// the once-a-second probe fails), the pool is "down": one reconnection attempt at a time for the
// whole pool, made by the pool's reconnector thread with jittered exponential backoff
// (reconnect_backoff.h), never one per call. Jobs wait for it, each up to its call's deadline (at
// most kMaxConnectionWait), and then run with a fresh connection, or with nullptr (their call fails
// UNAVAILABLE with a retry hint). docs/design.md, "Recovery".
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
#include "server/store/reconnect_backoff.h"

namespace turnout::store {

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
    // Between reconnection attempts while the database is unreachable.
    ReconnectBackoff backoff;
    // While the database is reachable, the reconnector checks it this often (SELECT 1), so that an
    // idle server notices an outage too.
    absl::Duration probe_interval = absl::Seconds(1);
  };

  // A job waits at most this long for the database to come back, whatever its deadline.
  static constexpr absl::Duration kMaxConnectionWait = absl::Seconds(5);

  // What the pool did to stay connected, since Open. Read-only; for metrics and tests.
  struct ConnectionStats {
    int64_t attempts = 0;    // connections tried, by workers and by the reconnector
    int64_t failures = 0;    // of those, the ones that failed
    int64_t outages = 0;     // times the database was found unreachable
    int64_t reconnects = 0;  // times it was reached again after an outage
    bool reachable = true;   // right now
  };

  // Connects one worker (to fail fast on a bad connection string), applies migrations, starts the
  // pool.
  static absl::StatusOr<std::unique_ptr<Database>> Open(const Options& options);
  ~Database();

  // A job gets its worker's connection, or nullptr when the database cannot be reached right now
  // (InTransaction then answers UNAVAILABLE, so jobs need no special case).
  using Job = std::function<void(pqxx::connection*)>;
  // Queues `job` to run on a worker with that worker's connection. Returns false, without running
  // the job, when the queue is full or the pool is stopping. While the database is unreachable the
  // job waits for it until `deadline` (its call's), then runs with nullptr.
  bool Submit(Job job, absl::Time deadline = absl::InfiniteFuture());

  ConnectionStats connection_stats() const;

  // Calls `listener` with whether the database is reachable now, then on every change, in order,
  // from the pool's reconnector thread (the health service listens here). One listener; set it
  // once. It must not call back into the Database.
  void OnReachabilityChange(std::function<void(bool reachable)> listener);

  // Runs `body` in a transaction on `conn`, retrying serialization failures and deadlocks, and
  // mapping database errors to absl::Status (UNAVAILABLE for a lost connection).
  static absl::Status InTransaction(pqxx::connection* conn,
                                    const std::function<absl::Status(pqxx::work&)>& body);

  // Runs `body` synchronously on a fresh connection (start-up tasks, tests).
  absl::Status RunNow(const std::function<absl::Status(pqxx::work&)>& body);

  const std::string& connection_string() const { return options_.connection_string; }

 private:
  struct QueuedJob {
    Job job;
    absl::Time deadline;
  };
  // A worker's connection, and the outage count when it was opened: one opened before the latest
  // outage is dropped before it serves another job, since that outage probably broke it.
  struct WorkerConnection {
    std::unique_ptr<pqxx::connection> conn;
    int64_t epoch = 0;
  };

  explicit Database(Options options) : options_(std::move(options)) {}
  void WorkerLoop();
  void ReconnectorLoop();
  // Waits (until `deadline`, at most kMaxConnectionWait) for the database to be reachable, then
  // opens a connection for a worker; an empty one when it stays unreachable or the pool stops.
  WorkerConnection AcquireConnection(absl::Time deadline);
  // The database was found unreachable by a connection opened in `epoch`. Starts an outage unless
  // one has started since.
  void ReportLost(int64_t epoch);
  void StartOutageLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(conn_mu_);
  // The reconnector's check while reachable: true if `probe` (reopened if needed) answers.
  bool Probe(std::unique_ptr<pqxx::connection>& probe);

  Options options_;
  absl::Mutex mu_;
  std::deque<QueuedJob> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;

  // Reachability, shared by the workers and the reconnector.
  mutable absl::Mutex conn_mu_;
  ConnectionStats stats_ ABSL_GUARDED_BY(conn_mu_);
  bool closing_ ABSL_GUARDED_BY(conn_mu_) = false;
  absl::Time outage_start_ ABSL_GUARDED_BY(conn_mu_);
  ConnectionStats at_outage_start_ ABSL_GUARDED_BY(conn_mu_);  // to log what an outage cost
  int failures_in_row_ ABSL_GUARDED_BY(conn_mu_) = 0;
  absl::Time next_attempt_ ABSL_GUARDED_BY(conn_mu_);
  std::function<void(bool)> listener_ ABSL_GUARDED_BY(conn_mu_);
  // What the listener was last told; nullopt-like -1 until it has been told anything.
  int told_ ABSL_GUARDED_BY(conn_mu_) = -1;
  std::thread reconnector_;
};

// Opens a connection (statements are prepared on it as they first run: query.h).
absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect(const std::string& connection_string);

// Applies the schema migrations not yet applied, in order, each in its own transaction.
absl::Status Migrate(pqxx::connection& conn);

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_PG_H_
