// turnout-server: the Turnout gRPC service. With no --database it runs its own PostgreSQL in
// --data_dir; see the README for the flags and a tour.
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "server/api/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7443", "Address to serve gRPC on (host:port)");
ABSL_FLAG(std::string, data_dir, "./data",
          "Directory for the embedded PostgreSQL, the data key and the first ADMIN token");
ABSL_FLAG(std::string, database, "",
          "PostgreSQL connection URI (postgresql://...); empty runs an embedded cluster");
ABSL_FLAG(int, db_workers, 16, "Database connections (and worker threads)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain; with --tls_key enables TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(int, scan_batch, 32,
          "Concurrent scans committed in one transaction at most (1: a transaction per scan)");
ABSL_FLAG(int, register_batch, 32,
          "Concurrent registrations committed in one transaction at most (1: one transaction each)");
ABSL_FLAG(double, register_rate, 2.0,
          "Registrations without a token allowed per second per client address");
ABSL_FLAG(double, register_burst, 30.0,
          "Registrations without a token one client address may make at once before --register_rate "
          "applies");
ABSL_FLAG(bool, durable, true, "Embedded PostgreSQL fsyncs commits (turn off only for tests)");
ABSL_FLAG(absl::Duration, watch_interval, absl::Milliseconds(25),
          "WatchAttendance: the least time between two updates of one event (a change after a "
          "quieter spell goes out at once; under load, one update per event this often at most)");
ABSL_FLAG(double, anonymous_rate, 20.0,
          "Calls without a token allowed per second per client address (RESOURCE_EXHAUSTED past it)");
ABSL_FLAG(double, anonymous_burst, 200.0,
          "Calls without a token one client address may make at once before --anonymous_rate applies");
ABSL_FLAG(std::string, metrics_listen, "",
          "Address to serve Prometheus metrics on (host:port, GET /metrics); empty serves none");
ABSL_FLAG(absl::Duration, handshake_timeout, absl::Seconds(10),
          "A connection that has not finished its handshake by then is closed");
ABSL_FLAG(absl::Duration, watch_heartbeat, absl::Seconds(15),
          "WatchAttendance: a heartbeat this often when nothing changes");
ABSL_FLAG(int, retention_days, 30,
          "Purge an event's personal data automatically this many days after it ends (0: never; "
          "checked at start and hourly)");
ABSL_FLAG(std::string, replica_name, "",
          "WatchAttendance: this replica's name in each stream's turnout-replica header "
          "(default: the --listen address)");

namespace {

int signal_pipe[2];

// Every connection is a file descriptor — a few thousand idle sockets, or watchers behind nginx,
// which holds one per stream (deploy/SCALING.md): the soft limit (often 1024) is raised to the hard
// one, so that they do not stop the server from accepting its doors.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t soft = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::cerr << "turnout-server: cannot raise the open-file limit; it stays at " << soft << "\n";
  }
}

void OnSignal(int) {
  const char byte = 1;
  (void)!write(signal_pipe[1], &byte, 1);
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex (ours and gRPC's) would track
  // the lock order in a global graph, under a global lock: profiled, the largest single symbol on
  // the gRPC threads while 1,000 watch streams were written (docs/benchmarks.md, watch section).
  // Lock order is checked where it belongs: in the tests and the thread annotations.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage("The Turnout registration and check-in server.");
  absl::ParseCommandLine(argc, argv);
  turnout::api::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.database = absl::GetFlag(FLAGS_database);
  options.db_workers = absl::GetFlag(FLAGS_db_workers);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.durable = absl::GetFlag(FLAGS_durable);
  options.scan_batch = absl::GetFlag(FLAGS_scan_batch);
  options.register_batch = absl::GetFlag(FLAGS_register_batch);
  options.register_rate = absl::GetFlag(FLAGS_register_rate);
  options.register_burst = absl::GetFlag(FLAGS_register_burst);
  options.watch_interval = absl::GetFlag(FLAGS_watch_interval);
  options.watch_heartbeat = absl::GetFlag(FLAGS_watch_heartbeat);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.anonymous_rate = absl::GetFlag(FLAGS_anonymous_rate);
  options.anonymous_burst = absl::GetFlag(FLAGS_anonymous_burst);
  options.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  RaiseOpenFileLimit();
  options.retention_days = absl::GetFlag(FLAGS_retention_days);
  if (options.retention_days < 0) {
    std::cerr << "turnout-server: --retention_days must be 0 (never purge automatically) or more\n";
    return 1;
  }
  options.replica_name = absl::GetFlag(FLAGS_replica_name);

  // Signals only write to a pipe; the main thread does the shutdown.
  if (pipe(signal_pipe) != 0) return 1;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  auto server = turnout::api::TurnoutServer::Start(options);
  if (!server.ok()) {
    std::cerr << "turnout-server: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "turnout-server: serving on port " << (*server)->port() << "\n";
  if ((*server)->metrics_port() != 0) {
    std::cerr << "turnout-server: metrics on port " << (*server)->metrics_port() << "\n";
    std::cout << "metrics on port " << (*server)->metrics_port() << "\n";
  }
  std::cout << "listening on port " << (*server)->port() << std::endl;
  char byte;
  while (read(signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  std::cerr << "turnout-server: shutting down\n";
  (*server)->Shutdown();
  return 0;
}
