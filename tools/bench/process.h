// Child processes `turnout-bench watch` measures from the outside (turnout-server, the bare
// fan-out server), and what /proc says about a process: resident memory, CPU time, sockets.
//
//   absl::StatusOr<std::unique_ptr<ServingProcess>> p =
//       ServingProcess::Start({"/path/turnout-server", "--listen=127.0.0.1:0", ...}, "server.log");
//   (*p)->port();  // from its "listening on port N" line
//   ProcessRssBytes((*p)->pid());
#ifndef TURNOUT_TOOLS_BENCH_PROCESS_H_
#define TURNOUT_TOOLS_BENCH_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace turnout::bench {

// A server started as a child process. It prints "listening on port N" on stdout once it serves;
// its stderr goes to a log file. Its stdin is a pipe the parent holds: a child that watches it
// (the fan-out server does) exits when the bench does, however the bench ends.
class ServingProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServingProcess>> Start(
      const std::vector<std::string>& argv, const std::string& log_path,
      absl::Duration timeout = absl::Seconds(120));
  ~ServingProcess();  // Stop()

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // SIGTERM, then SIGKILL after `grace`; waits for it. Idempotent.
  void Stop(absl::Duration grace = absl::Seconds(20));

 private:
  ServingProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  int stdin_fd_ = -1;
};

// VmRSS of a process, in bytes; 0 if it cannot be read.
int64_t ProcessRssBytes(pid_t pid);
// User + system CPU seconds a process used so far (its own threads, not its children).
double ProcessCpuSeconds(pid_t pid);
// Open sockets of a process (TCP connections, listeners, Unix sockets).
int ProcessSocketCount(pid_t pid);

// Raises this process's open-file soft limit to its hard limit (children inherit it); returns the
// limit now in force.
int64_t RaiseOpenFileLimit();

// The directory of this executable (for finding turnout-server beside it in the build tree).
std::string SelfDirectory();

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_PROCESS_H_
