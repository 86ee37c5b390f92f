// Finding the postgres processes of a cluster in /proc, and ending the backends a dead
// postmaster left behind.
//
// After the postmaster dies (kill -9, the OOM killer), its backends linger until they notice and
// hold the cluster's shared memory: a new postmaster refuses to start until they are gone. Each
// leads a process group of its own, so a signal to the postmaster's group misses them. They are
// found by name and working directory: the postmaster and its children all work in the cluster's
// directory, and only one EmbeddedPostgres runs a postmaster on it (the data-directory lock).
//
// The /proc root is a parameter so that tests can pass a directory laid out like /proc.
#ifndef TURNOUT_SERVER_EMBEDDED_PG_POSTGRES_PROCESSES_H_
#define TURNOUT_SERVER_EMBEDDED_PG_POSTGRES_PROCESSES_H_

#include <sys/types.h>

#include <filesystem>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace turnout::embedded_pg {

inline constexpr char kProcRoot[] = "/proc";
// How long the supervisor waits for a dead postmaster's backends to go before restarting anyway.
inline constexpr absl::Duration kOrphansTimeout = absl::Seconds(5);

// True if `stat_line`, the contents of /proc/<pid>/stat ("<pid> (<comm>) <state> ..."), is a
// process named postgres that is not a zombie.
bool IsLivePostgresStat(absl::string_view stat_line);

// True if `pid` is a running (not zombie) process named postgres.
bool IsLivePostgres(pid_t pid, const std::filesystem::path& proc_root = kProcRoot);

// The pids of running (not zombie) postgres processes whose working directory is `pg_dir` (as
// /proc/<pid>/cwd reads it: canonical).
std::vector<pid_t> PostgresProcessesIn(const std::filesystem::path& pg_dir,
                                       const std::filesystem::path& proc_root = kProcRoot);

// Kills (SIGKILL) every postgres process working in `pg_dir` and waits, at most kOrphansTimeout,
// for them to go. Called after the postmaster exited; finds none after a clean shutdown.
void EndOrphanedBackends(const std::filesystem::path& pg_dir);

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_POSTGRES_PROCESSES_H_
