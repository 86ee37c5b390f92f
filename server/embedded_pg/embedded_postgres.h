// The embedded default database: a private PostgreSQL 15 cluster that turnout-server creates, runs
// and supervises in its own data directory, so that a user installs nothing but the packages.
//
// The cluster lives in `data_dir/pg`, listens only on a Unix socket in `data_dir/run` (no TCP), and
// logs to `data_dir/pg.log`. A supervisor thread restarts postgres if it dies; if turnout-server
// dies, the kernel tells postgres to shut down (PR_SET_PDEATHSIG), so a crashed server never leaves
// one running.
//
// PostgreSQL refuses to run as root. When started by root, EmbeddedPostgres creates the
// unprivileged system user `system_user` if needed (useradd --system), gives it the cluster
// directories and runs initdb and postgres as that user. The caller keeps running as root and
// connects over the socket.
//
//   EmbeddedPostgresOptions options;
//   options.data_dir = "/var/lib/turnout";
//   absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> pg = EmbeddedPostgres::Start(options);
//   if (!pg.ok()) return pg.status();
//   pqxx::connection conn((*pg)->ConnectionString());
//
// Thread-safe. Installs no signal handlers; the owner calls Stop() (or destroys the object) on
// shutdown.
//
// This class only puts the pieces of server/embedded_pg/ together, one file per job:
//   layout.h              the data directory's layout and the checks on its path
//   account.h             who runs postgres (a system user when we are root)
//   locks.h               one server per data directory; a previous postgres still stopping
//   config.h, cluster.h   initdb, turnout.conf, the database, the checkpoint after start
//   pg_log.h              pg.log and its tail in error messages
//   supervisor.h          the thread that runs postgres and restarts it (restart_schedule.h,
//                         postgres_processes.h, process.h)
// It keeps the name turnout::store::EmbeddedPostgres: to its users it is the store's default
// database.
#ifndef TURNOUT_SERVER_EMBEDDED_PG_EMBEDDED_POSTGRES_H_
#define TURNOUT_SERVER_EMBEDDED_PG_EMBEDDED_POSTGRES_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/embedded_pg/locks.h"
#include "server/embedded_pg/supervisor.h"

namespace turnout::store {

struct EmbeddedPostgresOptions {
  // The cluster lives in data_dir/pg, its Unix socket in data_dir/run. Created if missing.
  std::string data_dir;
  // The unprivileged account that runs postgres; used only when the process runs as root.
  std::string system_user = "turnout";
  // false (tests only): fsync=off, synchronous_commit=off, full_page_writes=off. A crash of the
  // machine can then lose or corrupt data.
  bool durable = true;
  // Created on every start if missing.
  std::string database = "turnout";
};

class EmbeddedPostgres {
 public:
  // Creates the cluster on first use (initdb), starts postgres and waits up to 60 s until it
  // accepts connections, then creates `options.database` if missing. Errors:
  //   InvalidArgument     bad options;
  //   FailedPrecondition  data_dir is in use by another EmbeddedPostgres (or its postgres still
  //                       runs), the system user cannot reach it, or data_dir/pg is not a cluster;
  //   NotFound            the PostgreSQL server binaries are not installed;
  //   Internal / DeadlineExceeded  initdb or postgres failed; the message carries the end of the
  //   log.
  static absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> Start(
      const EmbeddedPostgresOptions& options);

  EmbeddedPostgres(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;
  // Stops postgres (see Stop()).
  ~EmbeddedPostgres();

  // libpq key/value connection string for `options.database`, e.g.
  // "host=/var/lib/turnout/run port=5432 dbname=turnout user=turnout".
  std::string ConnectionString() const;
  // The same for another database of this cluster.
  std::string ConnectionString(absl::string_view database) const;

  // Creates the database `name` if it does not exist. Idempotent, safe to call concurrently.
  absl::Status CreateDatabase(absl::string_view name);

  // Shuts postgres down in fast mode (open sessions are ended, committed work is kept) and waits
  // for it to exit; escalates to an immediate shutdown, then SIGKILL, if it takes more than 30 s.
  // Idempotent.
  absl::Status Stop();

 private:
  EmbeddedPostgres(embedded_pg::DataDirLock lock, std::string socket_dir, std::string role,
                   std::string database);

  const std::string socket_dir_;
  const std::string role_;
  const std::string database_;

  absl::Mutex mu_;                                      // serializes Stop()
  embedded_pg::DataDirLock lock_ ABSL_GUARDED_BY(mu_);  // released by Stop()
  // Set once by Start() before the object is shared.
  std::unique_ptr<embedded_pg::Supervisor> supervisor_;
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_EMBEDDED_PG_EMBEDDED_POSTGRES_H_
