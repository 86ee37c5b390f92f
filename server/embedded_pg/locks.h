// The locks that keep two servers off one cluster, and concurrent starts off each other.
//
// - DataDirLock: an exclusive flock on the data directory, held while an EmbeddedPostgres runs
//   on it; a second one (another turnout-server, a test) is refused at once.
// - AwaitPreviousPostmaster: postgres's own lock files (pg/postmaster.pid, run/.s.PGSQL.5432.lock)
//   may name a postgres from a previous run that is still shutting down; wait a little for it.
// - ScopedFlock: a best-effort lock with a timeout, used to take turns creating the system user.
#ifndef TURNOUT_SERVER_EMBEDDED_PG_LOCKS_H_
#define TURNOUT_SERVER_EMBEDDED_PG_LOCKS_H_

#include <filesystem>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/embedded_pg/layout.h"

namespace turnout::embedded_pg {

// A postgres from a previous run may still be finishing its shutdown (for example the server was
// killed and postgres got its parent-death signal); it gets this long before a start is refused.
inline constexpr absl::Duration kPreviousPostmasterTimeout = absl::Seconds(15);

// An exclusive flock on a data directory, released by Release() or on destruction. Move-only.
class DataDirLock {
 public:
  // Locks `data_dir`, which must exist. FailedPrecondition if it cannot be opened or another
  // DataDirLock (in any process) holds it; the message says to stop the other server or choose
  // another --data_dir.
  static absl::StatusOr<DataDirLock> Acquire(const std::filesystem::path& data_dir);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

  // Releases the lock. Idempotent.
  void Release();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Holds an exclusive flock on `path` for its lifetime, waiting up to `timeout` for it; best
// effort: carries on unlocked if it cannot get it.
class ScopedFlock {
 public:
  ScopedFlock(const char* path, absl::Duration timeout);
  ~ScopedFlock();
  ScopedFlock(const ScopedFlock&) = delete;
  ScopedFlock& operator=(const ScopedFlock&) = delete;

 private:
  int fd_ = -1;
};

// Waits, at most kPreviousPostmasterTimeout, for the postgres named in the cluster's lock files
// to go; FailedPrecondition if it stays. Removes lock files whose pid is not a running postgres:
// postgres would refuse to start over a lock file whose pid is a zombie (containers whose init
// does not reap) or has been reused by an unrelated process.
absl::Status AwaitPreviousPostmaster(const ClusterLayout& layout);

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_LOCKS_H_
