// What `turnout-bench checkin` watches while a phase runs, to say what limits it: CPU time of the
// machine, of this process, and of the PostgreSQL cluster; PostgreSQL's WAL counters (how many
// commits share one WAL flush); and what the database connections were doing, sampled from
// pg_stat_activity.
#ifndef TURNOUT_TOOLS_BENCH_OBSERVE_H_
#define TURNOUT_TOOLS_BENCH_OBSERVE_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace turnout::bench {

// CPU seconds consumed so far; differences of two snapshots give a phase's use.
struct CpuSnapshot {
  double machine_busy = 0;   // all CPUs, all processes (from /proc/stat)
  double machine_total = 0;  // busy + idle, all CPUs
  double self = 0;           // this process (in-process server and gRPC load)
  // This process's live threads by name: "turnout-bench" are the server's database workers (and
  // the idle main thread); gRPC names its own threads (server and load share them).
  std::map<std::string, double> self_threads;
  double postgres = 0;  // the postmaster and its children, reaped ones included
};

// `postmaster_pid` 0 leaves `postgres` at 0.
CpuSnapshot TakeCpuSnapshot(pid_t postmaster_pid);

// The first line of data_dir/pg/postmaster.pid.
absl::StatusOr<pid_t> PostmasterPid(const std::string& pg_data_dir);

// Cumulative counters of the cluster (pg_stat_wal), the database (pg_stat_database) and its own
// tables (pg_stat_user_tables: rows, catalogs left out).
struct PgCounters {
  int64_t wal_records = 0;
  int64_t wal_bytes = 0;
  int64_t wal_sync = 0;  // fsyncs of WAL: one per group commit
  int64_t commits = 0;
  int64_t rows_fetched = 0;
  int64_t rows_inserted = 0;
  int64_t rows_updated = 0;
  int64_t blocks_hit = 0;
  int64_t blocks_read = 0;

  PgCounters operator-(const PgCounters& o) const;
};

// Backends publish their counters when idle for about a second, so read them a moment after a
// phase ends.
absl::StatusOr<PgCounters> ReadPgCounters(const std::string& connection_string);

// Samples pg_stat_activity for the client backends of the database every `interval` until Stop().
class ActivitySampler {
 public:
  ActivitySampler(std::string connection_string, absl::Duration interval);
  ~ActivitySampler();
  void Start();
  void Stop();

  // Average number of connections in each state over the samples: "idle in transaction" (waiting
  // for the client's next statement), "on CPU" (active, no wait event), or "Type:Event" waits.
  std::map<std::string, double> AverageConnections() const;
  int samples() const;

 private:
  void Loop();

  const std::string connection_string_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::map<std::string, int64_t> totals_ ABSL_GUARDED_BY(mu_);
  int samples_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_OBSERVE_H_
