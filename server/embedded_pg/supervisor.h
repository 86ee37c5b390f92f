// The thread that runs postgres: spawns the postmaster, waits for it, and when it dies ends the
// backends it left (postgres_processes.h) and starts it again on RestartSchedule's timing. Stops
// it on request: fast shutdown, then immediate, then SIGKILL.
//
// postgres is forked by the supervisor thread with a parent-death signal of SIGINT (fast
// shutdown): if turnout-server dies, postgres shuts itself down. It runs in its own process group,
// away from the terminal's Ctrl-C.
//
//   Supervisor supervisor(std::move(launch));  // starts postgres
//   RETURN_IF_ERROR(supervisor.AwaitReady(conninfo));
//   ...
//   supervisor.Stop();
//
// Thread-safe.
#ifndef TURNOUT_SERVER_EMBEDDED_PG_SUPERVISOR_H_
#define TURNOUT_SERVER_EMBEDDED_PG_SUPERVISOR_H_

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/embedded_pg/account.h"
#include "server/embedded_pg/pg_log.h"

namespace turnout::embedded_pg {

inline constexpr absl::Duration kReadyTimeout = absl::Seconds(60);
inline constexpr absl::Duration kFastShutdownTimeout = absl::Seconds(30);
inline constexpr absl::Duration kImmediateShutdownTimeout = absl::Seconds(5);

// What the supervisor needs to (re)start postgres.
struct Launch {
  std::vector<std::string> argv;  // postgres -D <data_dir/pg>
  std::filesystem::path pg_dir;   // its working directory once it runs, canonical
  std::optional<Account> run_as;  // set when we are root
  std::unique_ptr<PgLog> log;     // receives postgres's stdout and stderr
};

class Supervisor {
 public:
  // Starts the supervisor thread, which spawns postgres at once.
  explicit Supervisor(Launch launch);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  // Stop().
  ~Supervisor();

  // Waits, at most `timeout`, until postgres accepts a connection with `conninfo`. Internal if
  // postgres exits first, DeadlineExceeded on timeout; both quote the end of the log. Until it
  // succeeds an exit of postgres is not restarted (it is this call's failure to report).
  absl::Status AwaitReady(const std::string& conninfo, absl::Duration timeout = kReadyTimeout);

  // Shuts postgres down in fast mode and waits for it to exit; escalates to an immediate shutdown
  // after kFastShutdownTimeout, then to SIGKILL of its process group. Joins the thread.
  // Idempotent.
  void Stop();

 private:
  // Body of the supervisor thread: runs postgres and restarts it until Stop().
  void Supervise();
  // Waits (at most `timeout`) for the supervisor to reap the current postgres.
  bool AwaitExit(absl::Duration timeout);
  // Sends `sig` to postgres (SIGKILL to its process group) and tells the thread to stop.
  void SignalPostgres(int sig);

  const Launch launch_;

  absl::Mutex mu_;
  pid_t pid_ ABSL_GUARDED_BY(mu_) = 0;  // the running postmaster, not yet reaped; 0 if none
  int exits_ ABSL_GUARDED_BY(mu_) = 0;  // how many times postgres has exited (or failed to spawn)
  std::string last_exit_ ABSL_GUARDED_BY(mu_);  // how it last exited, for error messages
  bool started_ ABSL_GUARDED_BY(mu_) = false;   // AwaitReady() succeeded: restart postgres
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex stop_mu_;  // serializes Stop(); held while waiting for postgres to exit
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread thread_;  // started last by the constructor, joined by Stop()
};

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_SUPERVISOR_H_
