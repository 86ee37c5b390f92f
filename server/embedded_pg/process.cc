#include "server/embedded_pg/process.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace turnout::embedded_pg {
namespace {

namespace fs = std::filesystem;

// Steps of the child set-up, reported back to the parent through a pipe when one fails.
enum class ChildStep : int { kProcessGroup, kStdio, kCredentials, kDeathSignal, kChdir, kExec };

absl::string_view ChildStepName(ChildStep step) {
  switch (step) {
    case ChildStep::kProcessGroup:
      return "create a process group";
    case ChildStep::kStdio:
      return "redirect stdin/stdout/stderr";
    case ChildStep::kCredentials:
      return "switch user";
    case ChildStep::kDeathSignal:
      return "set the parent-death signal";
    case ChildStep::kChdir:
      return "change directory to /";
    case ChildStep::kExec:
      return "execute";
  }
  return "start";
}

}  // namespace

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return absl::StrCat("was killed by signal ", WTERMSIG(status),
                        name != nullptr ? absl::StrCat(" (SIG", name, ")") : "");
  }
  return absl::StrCat("ended with wait status ", status);
}

std::string Tail(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  text.remove_prefix(text.size() - max_bytes);
  const size_t newline = text.find('\n');
  if (newline != absl::string_view::npos && newline + 1 < text.size()) {
    text.remove_prefix(newline + 1);
  }
  return absl::StrCat("...\n", text);
}

absl::StatusOr<pid_t> Spawn(const ChildSpec& spec) {
  // Everything the child needs is prepared here: after fork() only async-signal-safe calls are
  // allowed.
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const gid_t gid = spec.run_as != nullptr ? spec.run_as->gid : 0;
  const uid_t uid = spec.run_as != nullptr ? spec.run_as->uid : 0;
  const pid_t parent = getpid();
  long max_fd = sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 65536) max_fd = 65536;

  int report[2];  // the child writes {step, errno} here if set-up fails; exec closes it on success
  if (pipe2(report, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(report[0]);
    close(report[1]);
    return absl::ResourceExhaustedError(
        absl::StrCat("fork for ", spec.argv[0], ": ", std::strerror(err)));
  }
  if (pid == 0) {
    // Move our descriptors above stdio first: a daemon that closed fds 0-2 gets them from pipe2().
    int report_fd = fcntl(report[1], F_DUPFD_CLOEXEC, 3);
    if (report_fd < 0) report_fd = report[1];
    auto fail = [&](ChildStep step) {
      const int data[2] = {static_cast<int>(step), errno};
      [[maybe_unused]] ssize_t ignored = write(report_fd, data, sizeof(data));
      _exit(127);
    };
    if (spec.own_process_group && setpgid(0, 0) != 0) fail(ChildStep::kProcessGroup);
    const int null_fd = fcntl(open("/dev/null", O_RDWR | O_CLOEXEC), F_DUPFD_CLOEXEC, 3);
    const int out_fd = spec.output_fd >= 0 ? fcntl(spec.output_fd, F_DUPFD_CLOEXEC, 3) : null_fd;
    if (null_fd < 0 || out_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
        dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0) {
      fail(ChildStep::kStdio);
    }
    if (spec.run_as != nullptr &&
        (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
      fail(ChildStep::kCredentials);
    }
    // After setuid: changing credentials clears the parent-death signal.
    if (prctl(PR_SET_PDEATHSIG, spec.death_signal) != 0) fail(ChildStep::kDeathSignal);
    if (getppid() != parent) _exit(126);  // the parent died before prctl took effect
    // The caller's working directory may be closed to the unprivileged user (initdb then fails).
    if (chdir("/") != 0) fail(ChildStep::kChdir);
    // Don't pass the parent's signal mask, ignored signals or descriptors (sockets, files) on.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction default_action;
    std::memset(&default_action, 0, sizeof(default_action));
    default_action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);
    const unsigned keep = static_cast<unsigned>(report_fd);
    if (keep > 3) close_range(3, keep - 1, 0);
    if (close_range(keep + 1, ~0U, 0) != 0) {
      for (long fd = keep + 1; fd < max_fd; ++fd) close(static_cast<int>(fd));
    }
    execv(argv[0], argv.data());
    fail(ChildStep::kExec);
  }

  close(report[1]);
  int data[2];
  ssize_t n;
  do {
    n = read(report[0], data, sizeof(data));
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(data))) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    const std::string step(ChildStepName(static_cast<ChildStep>(data[0])));
    std::string what =
        absl::StrCat("could not ", step, " for ", spec.argv[0], ": ", std::strerror(data[1]));
    if (data[1] == ENOENT && static_cast<ChildStep>(data[0]) == ChildStep::kExec) {
      return absl::NotFoundError(what);
    }
    return absl::InternalError(what);
  }
  return pid;
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 0;  // ECHILD: somebody else reaped it (SIGCHLD ignored)
  }
  return status;
}

absl::StatusOr<RunResult> Run(std::vector<std::string> argv, const Account* run_as) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  ChildSpec spec;
  spec.argv = std::move(argv);
  spec.output_fd = out[1];
  spec.run_as = run_as;
  absl::StatusOr<pid_t> pid = Spawn(spec);
  close(out[1]);
  if (!pid.ok()) {
    close(out[0]);
    return pid.status();
  }
  RunResult result;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(out[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
    if (result.output.size() > 16384) result.output = Tail(result.output, 8192);
  }
  close(out[0]);
  result.status = WaitFor(*pid);
  result.output = Tail(result.output, 8192);
  return result;
}

bool Succeeded(const RunResult& result) {
  return WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0;
}

bool IsExecutable(const fs::path& path) { return access(path.c_str(), X_OK) == 0; }

std::optional<fs::path> FindInPath(absl::string_view name) {
  const char* path_env = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path_env != nullptr ? path_env : "", ':', absl::SkipEmpty());
  for (const char* extra :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    dirs.push_back(extra);
  }
  for (const std::string& dir : dirs) {
    const fs::path candidate = fs::path(dir) / std::string(name);
    if (IsExecutable(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace turnout::embedded_pg
