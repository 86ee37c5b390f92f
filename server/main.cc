// turnout-server: the Turnout gRPC service. With no --database it runs its own PostgreSQL in
// --data_dir; see the README for the flags and a tour.
#include <sys/resource.h>

#include <csignal>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
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
ABSL_FLAG(bool, durable, true, "Embedded PostgreSQL fsyncs commits (turn off only for tests)");
ABSL_FLAG(absl::Duration, watch_interval, absl::Milliseconds(250),
          "WatchAttendance: under load, one update per event this often");
ABSL_FLAG(absl::Duration, watch_heartbeat, absl::Seconds(15),
          "WatchAttendance: a heartbeat this often when nothing changes");
ABSL_FLAG(std::string, replica_name, "",
          "WatchAttendance: this replica's name in each stream's turnout-replica header "
          "(default: the --listen address)");

namespace {

int signal_pipe[2];

// Every client connection is a file descriptor, and a watcher behind nginx holds one of its own
// (deploy/SCALING.md): take as many as the system allows this process, not the shell's default.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void OnSignal(int) {
  const char byte = 1;
  (void)!write(signal_pipe[1], &byte, 1);
}

}  // namespace

int main(int argc, char** argv) {
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
  options.watch_interval = absl::GetFlag(FLAGS_watch_interval);
  options.watch_heartbeat = absl::GetFlag(FLAGS_watch_heartbeat);
  options.replica_name = absl::GetFlag(FLAGS_replica_name);

  RaiseOpenFileLimit();

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
  std::cout << "listening on port " << (*server)->port() << std::endl;
  char byte;
  while (read(signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  std::cerr << "turnout-server: shutting down\n";
  (*server)->Shutdown();
  return 0;
}
