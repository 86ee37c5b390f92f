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
#ifndef TURNOUT_SERVER_STORE_EMBEDDED_POSTGRES_H_
#define TURNOUT_SERVER_STORE_EMBEDDED_POSTGRES_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

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
  struct Launch;  // what the supervisor needs to (re)start postgres; defined in the .cc

  EmbeddedPostgres(std::unique_ptr<Launch> launch, std::string socket_dir, std::string role,
                   std::string database);

  // Body of the supervisor thread: runs postgres and restarts it with backoff until Stop().
  void Supervise();
  // Waits until postgres accepts connections, fails early if it exits during start-up.
  absl::Status AwaitReady();
  // Waits (at most `timeout`) for the supervisor to reap the current postgres.
  bool AwaitExit(absl::Duration timeout);

  const std::unique_ptr<Launch> launch_;
  const std::string socket_dir_;
  const std::string role_;
  const std::string database_;

  absl::Mutex mu_;
  pid_t pid_ ABSL_GUARDED_BY(mu_) = 0;  // the running postmaster, not yet reaped; 0 if none
  int exits_ ABSL_GUARDED_BY(mu_) = 0;  // how many times postgres has exited (or failed to spawn)
  std::string last_exit_ ABSL_GUARDED_BY(mu_);  // how it last exited, for error messages
  bool started_ ABSL_GUARDED_BY(mu_) = false;   // Start() succeeded: restart postgres when it dies
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex stop_mu_;  // serializes Stop(); held while waiting for postgres to exit
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread supervisor_;  // set once by Start(), joined by Stop()
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_EMBEDDED_POSTGRES_H_
