#include "tools/bench/observe.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace turnout::bench {
namespace {

namespace fs = std::filesystem;

double Seconds(const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; }

struct ProcStat {
  pid_t ppid = 0;
  double own_cpu = 0;       // utime + stime, seconds
  double children_cpu = 0;  // cutime + cstime: reaped children (process-wide, even for a thread)
};

// /proc/<pid>/stat: "pid (comm) state ppid ..." — comm may hold spaces, so split after ')'.
bool ReadProcStat(const fs::path& path, ProcStat* out) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) return false;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::vector<std::string> f = absl::StrSplit(line.substr(close + 2), ' ');
  // f[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  if (f.size() < 15) return false;
  int64_t ppid = 0, ticks[4] = {};
  if (!absl::SimpleAtoi(f[1], &ppid)) return false;
  for (int i = 0; i < 4; ++i) {
    if (!absl::SimpleAtoi(f[11 + i], &ticks[i])) return false;
  }
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  out->ppid = static_cast<pid_t>(ppid);
  out->own_cpu = (ticks[0] + ticks[1]) / tick;
  out->children_cpu = (ticks[2] + ticks[3]) / tick;
  return true;
}

}  // namespace

CpuSnapshot TakeCpuSnapshot(pid_t postmaster_pid) {
  CpuSnapshot s;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  {
    std::ifstream in("/proc/stat");
    std::string cpu;
    // user nice system idle iowait irq softirq steal
    int64_t v[8] = {};
    in >> cpu;
    for (int64_t& x : v) in >> x;
    s.machine_busy = (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tick;
    s.machine_total = s.machine_busy + (v[3] + v[4]) / tick;
  }
  struct rusage self {};
  getrusage(RUSAGE_SELF, &self);
  s.self = Seconds(self.ru_utime) + Seconds(self.ru_stime);
  {
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator("/proc/self/task", ec)) {
      std::ifstream comm_in(e.path() / "comm");
      std::string comm;
      ProcStat st;
      if (std::getline(comm_in, comm) && ReadProcStat(e.path() / "stat", &st)) {
        s.self_threads[comm] += st.own_cpu;
      }
    }
  }
  if (postmaster_pid != 0) {
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator("/proc", ec)) {
      int64_t pid = 0;
      if (!absl::SimpleAtoi(e.path().filename().string(), &pid)) continue;
      ProcStat st;
      if (!ReadProcStat(e.path() / "stat", &st)) continue;
      // The postmaster's children time holds the backends that exited (pgbench's, at its end).
      if (pid == postmaster_pid) s.postgres += st.own_cpu + st.children_cpu;
      if (st.ppid == postmaster_pid) s.postgres += st.own_cpu;
    }
  }
  return s;
}

absl::StatusOr<pid_t> PostmasterPid(const std::string& pg_data_dir) {
  std::ifstream in(fs::path(pg_data_dir) / "postmaster.pid");
  std::string line;
  int64_t pid = 0;
  if (!std::getline(in, line) || !absl::SimpleAtoi(line, &pid)) {
    return absl::NotFoundError(absl::StrCat("no postmaster.pid in ", pg_data_dir));
  }
  return static_cast<pid_t>(pid);
}

PgCounters PgCounters::operator-(const PgCounters& o) const {
  PgCounters d;
  d.wal_records = wal_records - o.wal_records;
  d.wal_bytes = wal_bytes - o.wal_bytes;
  d.wal_sync = wal_sync - o.wal_sync;
  d.commits = commits - o.commits;
  d.rows_fetched = rows_fetched - o.rows_fetched;
  d.rows_inserted = rows_inserted - o.rows_inserted;
  d.rows_updated = rows_updated - o.rows_updated;
  d.blocks_hit = blocks_hit - o.blocks_hit;
  d.blocks_read = blocks_read - o.blocks_read;
  return d;
}

absl::StatusOr<PgCounters> ReadPgCounters(const std::string& connection_string) {
  try {
    pqxx::connection conn(connection_string);
    pqxx::nontransaction txn(conn);
    pqxx::row r = txn.exec1(R"(
        SELECT w.wal_records, w.wal_bytes::bigint, w.wal_sync, d.xact_commit,
               t.fetched, t.inserted, t.updated, d.blks_hit, d.blks_read
        FROM pg_stat_wal w, pg_stat_database d,
             (SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0)::bigint AS fetched,
                     coalesce(sum(n_tup_ins), 0)::bigint AS inserted,
                     coalesce(sum(n_tup_upd), 0)::bigint AS updated
              FROM pg_stat_user_tables) t
        WHERE d.datname = current_database())");
    PgCounters c;
    c.wal_records = r[0].as<int64_t>();
    c.wal_bytes = r[1].as<int64_t>();
    c.wal_sync = r[2].as<int64_t>();
    c.commits = r[3].as<int64_t>();
    c.rows_fetched = r[4].as<int64_t>();
    c.rows_inserted = r[5].as<int64_t>();
    c.rows_updated = r[6].as<int64_t>();
    c.blocks_hit = r[7].as<int64_t>();
    c.blocks_read = r[8].as<int64_t>();
    return c;
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("reading pg_stat_wal and pg_stat_database: ", e.what()));
  }
}

ActivitySampler::ActivitySampler(std::string connection_string, absl::Duration interval)
    : connection_string_(std::move(connection_string)), interval_(interval) {}

ActivitySampler::~ActivitySampler() { Stop(); }

void ActivitySampler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ActivitySampler::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
}

void ActivitySampler::Loop() {
  pthread_setname_np(pthread_self(), "bench-sampler");
  try {
    pqxx::connection conn(connection_string_);
    conn.prepare("activity", R"(
        SELECT CASE WHEN state <> 'active' THEN state
                    WHEN wait_event IS NULL THEN 'on CPU'
                    ELSE wait_event_type || ':' || wait_event END,
               count(*)
        FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND datname = current_database()
          AND pid <> pg_backend_pid()
        GROUP BY 1)");
    while (!stop_.WaitForNotificationWithTimeout(interval_)) {
      pqxx::nontransaction txn(conn);
      pqxx::result r = txn.exec_prepared("activity");
      absl::MutexLock lock(&mu_);
      ++samples_;
      for (const pqxx::row& row : r) totals_[row[0].as<std::string>()] += row[1].as<int64_t>();
    }
  } catch (const std::exception& e) {
    std::cerr << "turnout-bench: sampling pg_stat_activity stopped: " << e.what() << "\n";
  }
}

std::map<std::string, double> ActivitySampler::AverageConnections() const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, double> out;
  if (samples_ == 0) return out;
  for (const auto& [state, total] : totals_) out[state] = static_cast<double>(total) / samples_;
  return out;
}

int ActivitySampler::samples() const {
  absl::MutexLock lock(&mu_);
  return samples_;
}

}  // namespace turnout::bench
