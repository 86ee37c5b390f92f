// Child processes of the embedded PostgreSQL supervisor: fork + exec with a clean environment
// (descriptors, signals, working directory, optionally another user), waiting for them, and
// running a short-lived program (initdb, useradd, pg_config) to completion with its output.
//
//   ChildSpec spec;
//   spec.argv = {"/usr/lib/postgresql/15/bin/initdb", "-D", dir};
//   absl::StatusOr<RunResult> result = Run(spec.argv);
//   if (result.ok() && !Succeeded(*result)) ... DescribeWaitStatus(result->status) ...
#ifndef TURNOUT_SERVER_EMBEDDED_PG_PROCESS_H_
#define TURNOUT_SERVER_EMBEDDED_PG_PROCESS_H_

#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/embedded_pg/account.h"

namespace turnout::embedded_pg {

// What a child process should look like between fork() and exec().
struct ChildSpec {
  std::vector<std::string> argv;    // argv[0] is an absolute path
  int output_fd = -1;               // receives stdout and stderr; -1: /dev/null
  const Account* run_as = nullptr;  // switch to this account (we are root)
  int death_signal = SIGKILL;       // sent to the child when the forking thread dies
  bool own_process_group = false;   // keep terminal signals (Ctrl-C) away from the child
};

// fork + exec of `spec`. Returns the child's pid once exec has succeeded; NotFound if argv[0]
// does not exist, Internal if another set-up step failed (the message names it).
absl::StatusOr<pid_t> Spawn(const ChildSpec& spec);

// Waits for `pid`, retrying on EINTR. Returns the wait status (0 if somebody else reaped it).
int WaitFor(pid_t pid);

// "exited with status 1", "was killed by signal 9 (SIGKILL)".
std::string DescribeWaitStatus(int status);

struct RunResult {
  int status = 0;      // wait status
  std::string output;  // stdout and stderr, the last 8 KiB
};

// Runs `argv` (as `run_as`, if set) to completion, capturing its output.
absl::StatusOr<RunResult> Run(std::vector<std::string> argv, const Account* run_as = nullptr);

// True if the program exited with status 0.
bool Succeeded(const RunResult& result);

// True if the current user may execute `path`.
bool IsExecutable(const std::filesystem::path& path);

// Finds an executable in $PATH (and the sbin directories, which root's PATH may lack).
std::optional<std::filesystem::path> FindInPath(absl::string_view name);

// The last `max_bytes` of `text`, starting at a line boundary when possible and then marked
// with a leading "...\n".
std::string Tail(absl::string_view text, size_t max_bytes);

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_PROCESS_H_
