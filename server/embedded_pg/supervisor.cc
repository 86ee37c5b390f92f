#include "server/embedded_pg/supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <iostream>
#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/embedded_pg/postgres_processes.h"
#include "server/embedded_pg/process.h"
#include "server/embedded_pg/restart_schedule.h"

namespace turnout::embedded_pg {

Supervisor::Supervisor(Launch launch)
    : launch_(std::move(launch)), thread_(&Supervisor::Supervise, this) {}

Supervisor::~Supervisor() { Stop(); }

void Supervisor::Supervise() {
  RestartSchedule schedule;
  ChildSpec postgres;
  postgres.argv = launch_.argv;
  postgres.output_fd = launch_.log->fd();
  postgres.run_as = launch_.run_as ? &*launch_.run_as : nullptr;
  postgres.death_signal = SIGINT;  // fast shutdown
  postgres.own_process_group = true;
  while (true) {
    const absl::Time spawned = absl::Now();
    absl::StatusOr<pid_t> pid;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      // Spawning under mu_ means Stop() either sees this pid or prevents the spawn. This thread
      // forks postgres, so postgres's parent-death signal fires if this thread (or the process)
      // dies.
      pid = Spawn(postgres);
      if (pid.ok()) pid_ = *pid;
    }
    std::string how;
    if (pid.ok()) {
      // Wait without reaping, so that pid_ never names a pid the kernel could reuse.
      siginfo_t info;
      while (waitid(P_PID, *pid, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
      }
      EndOrphanedBackends(launch_.pg_dir);  // none after a clean shutdown
      absl::MutexLock lock(&mu_);
      how = DescribeWaitStatus(WaitFor(*pid));
      pid_ = 0;
    } else {
      how = absl::StrCat("could not be started (", pid.status().message(), ")");
    }

    absl::MutexLock lock(&mu_);
    ++exits_;
    last_exit_ = how;
    // During start-up, an exit is AwaitReady()'s failure to report; wait for its verdict.
    mu_.Await(absl::Condition(
        +[](Supervisor* self)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->stopping_ || self->started_; },
        this));
    if (stopping_) return;
    const absl::Duration delay = schedule.DelayAfterExit(absl::Now() - spawned);
    std::cerr << "turnout: the embedded PostgreSQL " << how << "; restarting it "
              << (delay == absl::ZeroDuration() ? "now"
                                                : absl::StrCat("in ", absl::FormatDuration(delay)))
              << " (log: " << launch_.log->path().string() << ")\n";
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
    if (stopping_) return;
  }
}

absl::Status Supervisor::AwaitReady(const std::string& conninfo, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string probe = conninfo + " connect_timeout=5";
  std::string last_error;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (exits_ > 0) {
        return absl::InternalError(
            absl::StrCat("the embedded PostgreSQL ", last_exit_, " while starting; end of ",
                         launch_.log->path().string(), ":\n", launch_.log->TailSinceOpen()));
      }
    }
    try {
      pqxx::connection conn(probe);
      absl::MutexLock lock(&mu_);
      started_ = true;
      return absl::OkStatus();
    } catch (const std::exception& e) {
      last_error = std::string(absl::StripAsciiWhitespace(e.what()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the embedded PostgreSQL did not accept connections within ",
                       absl::FormatDuration(timeout), " (last error: ", last_error, "); end of ",
                       launch_.log->path().string(), ":\n", launch_.log->TailSinceOpen()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

bool Supervisor::AwaitExit(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(
                                  +[](Supervisor* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
                                    return self->pid_ == 0;
                                  },
                                  this),
                              timeout);
}

void Supervisor::SignalPostgres(int sig) {
  // Signals go to the process group: after a kill -9 of the postmaster, its children are in it
  // too. pid_ is only signalled under mu_ while unreaped, so it cannot be a recycled pid.
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  if (pid_ > 0) kill(sig == SIGKILL ? -pid_ : pid_, sig);
}

void Supervisor::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return;
  SignalPostgres(SIGINT);  // fast shutdown: ends sessions, checkpoints, exits
  if (!AwaitExit(kFastShutdownTimeout)) {
    std::cerr << "turnout: the embedded PostgreSQL did not stop within " << kFastShutdownTimeout
              << "; forcing an immediate shutdown\n";
    SignalPostgres(SIGQUIT);
    if (!AwaitExit(kImmediateShutdownTimeout)) {
      SignalPostgres(SIGKILL);
      AwaitExit(absl::InfiniteDuration());
    }
  }
  if (thread_.joinable()) thread_.join();
  stopped_ = true;
}

}  // namespace turnout::embedded_pg
