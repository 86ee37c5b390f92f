#include "server/store/embedded_postgres.h"

#include <fcntl.h>
#include <grp.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <pqxx/pqxx>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace turnout::store {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kFallbackBinDir = "/usr/lib/postgresql/15/bin";
constexpr int kPort = 5432;
constexpr absl::Duration kReadyTimeout = absl::Seconds(60);
constexpr absl::Duration kFastShutdownTimeout = absl::Seconds(30);
constexpr absl::Duration kImmediateShutdownTimeout = absl::Seconds(5);
// A postgres from a previous run may still be finishing its shutdown (for example the server was
// killed and postgres got its parent-death signal); give it this long before refusing to start.
constexpr absl::Duration kPreviousPostmasterTimeout = absl::Seconds(15);
// A postgres that dies is restarted at once (doors are waiting: docs/design.md, "Recovery"); one
// that dies again soon after is restarted after 100 ms, then 200 ms, ... up to 5 s.
constexpr absl::Duration kMinBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
// A postgres that ran this long before dying is restarted at once again.
constexpr absl::Duration kStableRun = absl::Seconds(30);
// How long the supervisor waits for a dead postmaster's backends to go before restarting anyway.
constexpr absl::Duration kOrphansTimeout = absl::Seconds(5);
// pg.log is appended to across runs; past this size it is moved to pg.log.1 at start.
constexpr off_t kMaxLogBytes = off_t{16} << 20;
// PostgreSQL's NAMEDATALEN - 1.
constexpr size_t kMaxIdentifierBytes = 63;

constexpr char kDatabaseExistsSql[] = "SELECT 1 FROM pg_database WHERE datname = $1";

// An operating-system account that runs initdb and postgres.
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

std::string ErrnoText(int err) { return std::strerror(err); }

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return absl::StrCat("was killed by signal ", WTERMSIG(status),
                        name != nullptr ? absl::StrCat(" (SIG", name, ")") : "");
  }
  return absl::StrCat("ended with wait status ", status);
}

// The last `max_bytes` of `text`, starting at a line boundary when possible.
std::string Tail(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  text.remove_prefix(text.size() - max_bytes);
  const size_t newline = text.find('\n');
  if (newline != absl::string_view::npos && newline + 1 < text.size()) {
    text.remove_prefix(newline + 1);
  }
  return absl::StrCat("...\n", text);
}

// What a child process should look like between fork() and exec().
struct ChildSpec {
  std::vector<std::string> argv;    // argv[0] is an absolute path
  int output_fd = -1;               // receives stdout and stderr; -1: /dev/null
  const Account* run_as = nullptr;  // switch to this account (we are root)
  int death_signal = SIGKILL;       // sent to the child when the forking thread dies
  bool own_process_group = false;   // keep terminal signals (Ctrl-C) away from the child
};

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

// fork + exec of `spec`. Returns the child's pid once exec has succeeded.
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
    return absl::InternalError(absl::StrCat("pipe2: ", ErrnoText(errno)));
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(report[0]);
    close(report[1]);
    return absl::ResourceExhaustedError(
        absl::StrCat("fork for ", spec.argv[0], ": ", ErrnoText(err)));
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
        absl::StrCat("could not ", step, " for ", spec.argv[0], ": ", ErrnoText(data[1]));
    if (data[1] == ENOENT && static_cast<ChildStep>(data[0]) == ChildStep::kExec) {
      return absl::NotFoundError(what);
    }
    return absl::InternalError(what);
  }
  return pid;
}

// Waits for `pid`, retrying on EINTR. Returns the wait status.
int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 0;  // ECHILD: somebody else reaped it (SIGCHLD ignored)
  }
  return status;
}

struct RunResult {
  int status = 0;
  std::string output;  // stdout and stderr, the last 8 KiB
};

// Runs `argv` (as `run_as`, if set) to completion, capturing its output.
absl::StatusOr<RunResult> Run(std::vector<std::string> argv, const Account* run_as = nullptr) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", ErrnoText(errno)));
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

// Finds an executable in $PATH (and the sbin directories, which root's PATH may lack).
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

// The directory holding initdb and postgres: `pg_config --bindir`, else the Debian PostgreSQL 15
// path.
absl::StatusOr<fs::path> FindBinDir() {
  std::vector<fs::path> candidates;
  if (std::optional<fs::path> pg_config = FindInPath("pg_config")) {
    absl::StatusOr<RunResult> result = Run({pg_config->string(), "--bindir"});
    if (result.ok() && Succeeded(*result)) {
      candidates.push_back(std::string(absl::StripAsciiWhitespace(result->output)));
    }
  }
  candidates.push_back(std::string(kFallbackBinDir));
  for (const fs::path& dir : candidates) {
    if (IsExecutable(dir / "postgres") && IsExecutable(dir / "initdb")) return dir;
  }
  std::vector<std::string> tried;
  for (const fs::path& dir : candidates) tried.push_back(dir.string());
  return absl::NotFoundError(absl::StrCat(
      "the PostgreSQL server programs (initdb, postgres) are not in ", absl::StrJoin(tried, " or "),
      "; install them (Debian: apt-get install postgresql-15) or configure --database to use an "
      "existing server"));
}

absl::StatusOr<Account> LookupUser(const std::string& name) {
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int err = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (err != 0) {
    return absl::InternalError(absl::StrCat("looking up user '", name, "': ", ErrnoText(err)));
  }
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no user '", name, "'"));
  return Account{entry.pw_name, entry.pw_uid, entry.pw_gid};
}

// The account we run as when not root; its name is also the database role.
absl::StatusOr<Account> CurrentAccount() {
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const uid_t uid = geteuid();
  const int err = getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
  if (err != 0 || found == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("user id ", uid,
                     " has no name (no entry in /etc/passwd); initdb needs one. Run as a user "
                     "with a passwd entry, or as root"));
  }
  return Account{entry.pw_name, entry.pw_uid, entry.pw_gid};
}

bool IsValidUserName(absl::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  if (!(absl::ascii_islower(name[0]) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-';
  });
}

// Holds an exclusive flock on a path for its lifetime (best effort: unlocked if it cannot get it).
class ScopedFlock {
 public:
  ScopedFlock(const char* path, absl::Duration timeout) {
    fd_ = open(path, O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;
    const absl::Time deadline = absl::Now() + timeout;
    while (flock(fd_, LOCK_EX | LOCK_NB) != 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  ~ScopedFlock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  ScopedFlock(const ScopedFlock&) = delete;
  ScopedFlock& operator=(const ScopedFlock&) = delete;

 private:
  int fd_ = -1;
};

// Returns the system account `name`, creating it (useradd --system) if missing.
absl::StatusOr<Account> EnsureSystemUser(const std::string& name) {
  if (absl::StatusOr<Account> account = LookupUser(name);
      account.ok() || !absl::IsNotFound(account.status())) {
    return account;
  }
  // Concurrent useradds (parallel test processes) do not reliably exclude each other: each can
  // report success while the last writer's /etc/passwd wins, so an account found a moment ago
  // vanishes. Our starts take turns; the lock is on /etc because that inode never changes.
  ScopedFlock lock("/etc", absl::Seconds(30));
  std::optional<fs::path> useradd = FindInPath("useradd");
  std::string last_error;
  for (int attempt = 0; attempt < 10; ++attempt) {
    absl::StatusOr<Account> account = LookupUser(name);
    if (account.ok() || !absl::IsNotFound(account.status())) return account;
    if (!useradd) {
      last_error = "useradd is not installed";
      break;
    }
    absl::StatusOr<RunResult> result =
        Run({useradd->string(), "--system", "--user-group", "--no-create-home", "--home-dir",
             "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment",
             "Turnout embedded PostgreSQL", name});
    if (!result.ok()) {
      last_error = std::string(result.status().message());
      break;
    }
    if (Succeeded(*result)) continue;
    // For example /etc/passwd locked by another tool: try again shortly.
    last_error = absl::StrCat("useradd ", DescribeWaitStatus(result->status), ": ",
                              absl::StripAsciiWhitespace(result->output));
    absl::SleepFor(absl::Milliseconds(100 + 100 * attempt));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("PostgreSQL cannot run as root and the system user '", name,
                   "' to run it could not be created (", last_error,
                   "). Create it (useradd --system --user-group ", name,
                   ") or run turnout-server as an unprivileged user"));
}

// Checks, as `account`, that every directory from / down to `dir` can be entered.
absl::Status CheckReachable(const fs::path& dir, const Account& account) {
  std::vector<std::string> chain;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    chain.push_back(p.string());
    if (p == p.parent_path()) break;
  }
  std::reverse(chain.begin(), chain.end());
  std::vector<const char*> paths;
  for (const std::string& p : chain) paths.push_back(p.c_str());

  const pid_t pid = fork();
  if (pid < 0) return absl::ResourceExhaustedError(absl::StrCat("fork: ", ErrnoText(errno)));
  if (pid == 0) {
    if (setgroups(1, &account.gid) != 0 || setgid(account.gid) != 0 || setuid(account.uid) != 0) {
      _exit(255);
    }
    for (size_t i = 0; i < paths.size(); ++i) {
      if (access(paths[i], X_OK) != 0) _exit(static_cast<int>(std::min<size_t>(i + 1, 254)));
    }
    _exit(0);
  }
  const int status = WaitFor(pid);
  if (!WIFEXITED(status)) {
    return absl::InternalError(absl::StrCat("directory check ", DescribeWaitStatus(status)));
  }
  const int code = WEXITSTATUS(status);
  if (code == 0) return absl::OkStatus();
  if (code == 255) {
    return absl::InternalError(absl::StrCat("could not switch to user '", account.name, "'"));
  }
  const std::string& blocked = chain[static_cast<size_t>(code - 1)];
  std::string mode;
  struct stat st;
  if (stat(blocked.c_str(), &st) == 0) {
    std::ostringstream octal;
    octal << std::oct << (st.st_mode & 07777);
    mode = absl::StrCat(" (mode 0", octal.str(), ", owner uid ", st.st_uid, ")");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "PostgreSQL runs as the unprivileged user '", account.name, "', which cannot enter ", blocked,
      mode, " on the way to the data directory ", dir.string(),
      ". Choose a data directory it can reach (for example --data_dir=/var/lib/turnout), or let it "
      "in "
      "(chmod o+x ",
      blocked, ")"));
}

// Gives `path` and everything below it to `account` if it belongs to someone else (for example a
// cluster first created by a non-root run).
absl::Status ChownTree(const fs::path& path, const Account& account) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    return absl::InternalError(absl::StrCat("stat ", path.string(), ": ", ErrnoText(errno)));
  }
  if (st.st_uid == account.uid && st.st_gid == account.gid) return absl::OkStatus();
  if (lchown(path.c_str(), account.uid, account.gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", path.string(), ": ", ErrnoText(errno)));
  }
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (lchown(it->path().c_str(), account.uid, account.gid) != 0) {
      return absl::InternalError(
          absl::StrCat("chown ", it->path().string(), ": ", ErrnoText(errno)));
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("listing ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

// Creates `path` (mode 0700) if missing; when running as root, makes `run_as` its owner.
absl::Status MakePrivateDir(const fs::path& path, const Account* run_as) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create directory ", path.string(), ": ", ErrnoText(errno)));
  }
  if (run_as != nullptr) {
    if (absl::Status status = ChownTree(path, *run_as); !status.ok()) return status;
  }
  // postgres insists on 0700 (or 0750) for its data directory; the socket directory stays private
  // too.
  if (chmod(path.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot chmod ", path.string(), ": ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

// A value for postgresql.conf: single-quoted, quotes doubled.
std::string ConfString(absl::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

// A value for a libpq key/value connection string: quoted with backslash escapes when needed.
std::string ConnValue(absl::string_view value) {
  const bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    return c == ' ' || c == '\'' || c == '\\' || c == '\t' || c == '\n';
  });
  if (plain) return std::string(value);
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

// C.UTF-8 where the C library has it (Debian 12 does): codepoint collation that never changes
// between glibc versions, and upper()/lower() that understand non-ASCII names.
std::string ClusterLocale() {
  locale_t probe = newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(0));
  if (probe == static_cast<locale_t>(0)) return "C";
  freelocale(probe);
  return "C.UTF-8";
}

// Writes `contents` to `path` atomically (temporary file + rename), owned by `run_as` if set.
absl::Status WriteFileAtomically(const fs::path& path, const std::string& contents,
                                 const Account* run_as) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << contents;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", temporary.string()));
  }
  if (run_as != nullptr && chown(temporary.c_str(), run_as->uid, run_as->gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", temporary.string(), ": ", ErrnoText(errno)));
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename to ", path.string(), ": ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

// The settings turnout owns, rewritten on every start so a change of `durable` (or of turnout's
// defaults) takes effect. postgresql.conf includes this file last; ALTER SYSTEM still overrides it.
std::string TurnoutConf(const fs::path& socket_dir, bool durable) {
  std::string conf = absl::StrCat(
      "# Written by turnout-server on every start: edits are lost. Override with ALTER SYSTEM.\n",
      "listen_addresses = ''\n",  // Unix socket only: no TCP
      "unix_socket_directories = ", ConfString(socket_dir.string()), "\n",
      "max_connections = 200\n", "shared_buffers = 128MB\n",
      // The log keeps no row values: error details can quote them, and they may be personal data.
      "log_error_verbosity = terse\n", "log_min_error_statement = panic\n",
      "log_parameter_max_length_on_error = 0\n",
      // After a crash, postgres makes the data directory durable before it replays the WAL: one
      // syncfs() of the file system, not an fsync() of each of its thousands of files (seconds),
      // and a checkpoint a minute keeps what the end-of-recovery checkpoint writes small. Doors
      // wait for both (docs/design.md, "Recovery").
      "recovery_init_sync_method = syncfs\n", "checkpoint_timeout = 1min\n");
  if (!durable) {
    absl::StrAppend(&conf,
                    "# Not durable (tests): a machine crash can lose or corrupt data.\n"
                    "fsync = off\n"
                    "synchronous_commit = off\n"
                    "full_page_writes = off\n");
  }
  return conf;
}

// Runs initdb into data_dir/pg.initdb and renames it to `pg_dir` when complete, so an interrupted
// first start never leaves a half-made cluster behind.
absl::Status InitCluster(const fs::path& bin_dir, const fs::path& pg_dir, const std::string& role,
                         bool durable, const Account* run_as) {
  const fs::path staging = pg_dir.string() + ".initdb";
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("removing ", staging.string(), ": ", ec.message()));
  }
  if (absl::Status status = MakePrivateDir(staging, run_as); !status.ok()) return status;

  std::vector<std::string> initdb = {(bin_dir / "initdb").string(),
                                     "-D",
                                     staging.string(),
                                     "--auth=trust",
                                     absl::StrCat("--username=", role),
                                     "-E",
                                     "UTF8",
                                     absl::StrCat("--locale=", ClusterLocale()),
                                     "--no-instructions"};
  if (!durable) initdb.push_back("--no-sync");
  absl::StatusOr<RunResult> result = Run(std::move(initdb), run_as);
  if (!result.ok()) return result.status();
  if (!Succeeded(*result)) {
    return absl::InternalError(absl::StrCat("initdb ", DescribeWaitStatus(result->status),
                                            " creating the embedded PostgreSQL cluster in ",
                                            staging.string(), ":\n", result->output));
  }
  // `include`, not `include_if_exists`: without turnout.conf postgres would listen on TCP
  // localhost.
  std::ofstream conf(staging / "postgresql.conf", std::ios::app);
  conf << "\n# turnout-server's settings (listen_addresses, sockets, sizes, durability)\n"
          "include 'turnout.conf'\n";
  conf.close();
  if (!conf) {
    return absl::InternalError(
        absl::StrCat("cannot append to ", staging.string(), "/postgresql.conf"));
  }
  if (rename(staging.c_str(), pg_dir.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("rename ", staging.string(), " to ", pg_dir.string(), ": ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

// True if `pid` is a running (not zombie) process named postgres.
bool IsLivePostgres(int pid) {
  // /proc/<pid>/stat reads "<pid> (<comm>) <state> ...".
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat_file, line)) return false;
  const size_t comm_end = line.rfind(") ");
  if (comm_end == std::string::npos || !absl::StrContains(line, "(postgres)")) return false;
  return line.compare(comm_end + 2, 1, "Z") != 0;
}

// The pids of running (not zombie) postgres processes whose working directory is `pg_dir`: the
// postmaster and its children all work there, and only this EmbeddedPostgres runs one on it.
std::vector<pid_t> PostgresProcessesIn(const fs::path& pg_dir) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", ec)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid) || !IsLivePostgres(pid)) {
      continue;
    }
    if (fs::read_symlink(entry.path() / "cwd", ec) == pg_dir) pids.push_back(pid);
  }
  return pids;
}

// After the postmaster died (kill -9, the OOM killer), its backends linger until they notice, and
// hold the cluster's shared memory: a new postmaster refuses to start until they are gone. They
// belong to a dead server (each leads a process group of its own, so a signal to the postmaster's
// group misses them), so they are killed at once; then waits, at most kOrphansTimeout, for them to
// go.
void EndOrphanedBackends(const fs::path& pg_dir) {
  const absl::Time deadline = absl::Now() + kOrphansTimeout;
  for (std::vector<pid_t> pids = PostgresProcessesIn(pg_dir);
       !pids.empty() && absl::Now() < deadline; pids = PostgresProcessesIn(pg_dir)) {
    for (pid_t pid : pids) kill(pid, SIGKILL);
    absl::SleepFor(absl::Milliseconds(2));
  }
}

// Waits a little for the postgres named in the lock files (postmaster.pid, the socket's .lock) to
// go: a previous run may still be finishing its shutdown, for example after the server was killed
// and postgres got its parent-death signal. Refuses to start if it stays. Removes lock files whose
// pid is not a running postgres: postgres would refuse to start over a lock file whose pid is a
// zombie (containers whose init does not reap) or has been reused by an unrelated process.
absl::Status AwaitPreviousPostmaster(const fs::path& pg_dir, const fs::path& socket_dir) {
  const absl::Time deadline = absl::Now() + kPreviousPostmasterTimeout;
  for (const fs::path& lock_file :
       {pg_dir / "postmaster.pid", socket_dir / absl::StrCat(".s.PGSQL.", kPort, ".lock")}) {
    while (true) {
      std::ifstream in(lock_file);
      std::string line;
      int pid = 0;
      if (!std::getline(in, line) || !absl::SimpleAtoi(line, &pid) || pid <= 0) break;
      if (!IsLivePostgres(pid)) {
        std::error_code ec;
        fs::remove(lock_file, ec);
        break;
      }
      if (absl::Now() > deadline) {
        return absl::FailedPreconditionError(absl::StrCat(
            "PostgreSQL (pid ", pid, ") is already running on ", pg_dir.string(),
            "; is another turnout-server using this data directory? Stop it, or choose another "
            "--data_dir"));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  return absl::OkStatus();
}

// Up to `max_bytes` from the end of `path`, starting no earlier than `offset`.
std::string ReadLogTail(const fs::path& path, off_t offset, size_t max_bytes = 3000) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log)";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  std::streamoff start =
      std::max<std::streamoff>(offset, size - static_cast<std::streamoff>(max_bytes));
  if (start > size) start = 0;  // the log was rotated or truncated
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return Tail(text, max_bytes);
}

}  // namespace

// What the supervisor needs to (re)start postgres.
struct EmbeddedPostgres::Launch {
  std::vector<std::string> argv;  // postgres -D <data_dir/pg>
  fs::path pg_dir;                // its working directory once it runs
  std::optional<Account> run_as;  // set when we are root
  fs::path log_path;
  int log_fd = -1;       // postgres's stdout and stderr (O_APPEND)
  off_t log_offset = 0;  // where this Start()'s output begins, for error messages
  // An exclusive flock on data_dir, held until Stop(): one EmbeddedPostgres per data directory.
  int lock_fd = -1;

  void Unlock() {
    if (lock_fd >= 0) close(lock_fd);
    lock_fd = -1;
  }
  ~Launch() {
    if (log_fd >= 0) close(log_fd);
    Unlock();
  }
};

absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::Start(
    const EmbeddedPostgresOptions& options) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("the embedded PostgreSQL needs a data directory (data_dir)");
  }
  if (options.database.empty() || options.database.size() > kMaxIdentifierBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("database name '", options.database, "' must be 1 to 63 bytes"));
  }
  std::error_code ec;
  fs::path data_dir = fs::absolute(options.data_dir, ec).lexically_normal();
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("data_dir ", options.data_dir, ": ", ec.message()));
  }
  if (!data_dir.has_filename() && data_dir.has_parent_path() && data_dir != data_dir.root_path()) {
    data_dir = data_dir.parent_path();  // "/a/b/" -> "/a/b"
  }
  const fs::path pg_dir = data_dir / "pg";
  const fs::path run_dir = data_dir / "run";
  const fs::path log_path = data_dir / "pg.log";
  const std::string socket_path = absl::StrCat(run_dir.string(), "/.s.PGSQL.", kPort);
  if (socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("data directory path ", data_dir.string(), " is too long for a Unix socket (",
                     socket_path.size(), " of at most ", sizeof(sockaddr_un{}.sun_path) - 1,
                     " bytes); choose a shorter --data_dir"));
  }

  absl::StatusOr<fs::path> bin_dir = FindBinDir();
  if (!bin_dir.ok()) return bin_dir.status();

  auto launch = std::make_unique<Launch>();
  std::string role;
  if (geteuid() == 0) {
    if (!IsValidUserName(options.system_user)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", options.system_user, "' is not a valid system user name"));
    }
    absl::StatusOr<Account> account = EnsureSystemUser(options.system_user);
    if (!account.ok()) return account.status();
    launch->run_as = *account;
    role = account->name;
  } else {
    absl::StatusOr<Account> account = CurrentAccount();
    if (!account.ok()) return account.status();
    role = account->name;
  }
  const Account* run_as = launch->run_as ? &*launch->run_as : nullptr;

  const bool existed = fs::exists(data_dir, ec);
  fs::create_directories(data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data directory ", data_dir.string(), ": ", ec.message()));
  }
  if (!existed) {
    chmod(data_dir.c_str(), 0755);  // whatever the umask, the postgres user must enter it
  }
  launch->lock_fd = open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (launch->lock_fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open data directory ", data_dir.string(), ": ", ErrnoText(errno)));
  }
  if (flock(launch->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", data_dir.string(), " is in use by another turnout-server (",
                     ErrnoText(errno), "); stop it, or choose another --data_dir"));
  }
  if (run_as != nullptr) {
    if (absl::Status status = CheckReachable(data_dir, *run_as); !status.ok()) return status;
  }
  if (absl::Status status = MakePrivateDir(run_dir, run_as); !status.ok()) return status;

  if (!fs::exists(pg_dir / "PG_VERSION", ec)) {
    if (fs::exists(pg_dir, ec)) {
      if (!fs::is_empty(pg_dir, ec)) {
        return absl::FailedPreconditionError(
            absl::StrCat(pg_dir.string(),
                         " exists but is not a PostgreSQL cluster (no PG_VERSION); move it away "
                         "or choose another --data_dir"));
      }
      fs::remove(pg_dir, ec);
    }
    std::cerr << "turnout: creating the embedded PostgreSQL cluster in " << pg_dir.string()
              << (run_as != nullptr ? absl::StrCat(" (run by system user ", run_as->name, ")") : "")
              << "\n";
    if (absl::Status status = InitCluster(*bin_dir, pg_dir, role, options.durable, run_as);
        !status.ok()) {
      return status;
    }
  } else if (absl::Status status = MakePrivateDir(pg_dir, run_as); !status.ok()) {
    return status;
  }
  if (absl::Status status = WriteFileAtomically(pg_dir / "turnout.conf",
                                                TurnoutConf(run_dir, options.durable), run_as);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = AwaitPreviousPostmaster(pg_dir, run_dir); !status.ok()) return status;

  struct stat log_stat;
  if (stat(log_path.c_str(), &log_stat) == 0 && log_stat.st_size > kMaxLogBytes) {
    rename(log_path.c_str(), (log_path.string() + ".1").c_str());
  }
  launch->log_path = log_path;
  launch->log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (launch->log_fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", log_path.string(), ": ", ErrnoText(errno)));
  }
  launch->log_offset = lseek(launch->log_fd, 0, SEEK_END);
  launch->argv = {(*bin_dir / "postgres").string(), "-D", pg_dir.string()};
  launch->pg_dir = fs::weakly_canonical(pg_dir, ec);  // as /proc/<pid>/cwd reads

  std::unique_ptr<EmbeddedPostgres> pg(
      new EmbeddedPostgres(std::move(launch), run_dir.string(), role, options.database));
  pg->supervisor_ = std::thread(&EmbeddedPostgres::Supervise, pg.get());
  // On failure, ~EmbeddedPostgres stops whatever was started.
  if (absl::Status status = pg->AwaitReady(); !status.ok()) return status;
  if (absl::Status status = pg->CreateDatabase(options.database); !status.ok()) return status;
  // What creating the cluster or the database wrote (megabytes, copied from the template) is
  // written out now, at start, rather than by the recovery after a crash, while doors wait.
  try {
    pqxx::connection conn(pg->ConnectionString("postgres"));
    pqxx::nontransaction(conn).exec0("CHECKPOINT");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("checkpoint after start: ", e.what()));
  }
  return pg;
}

EmbeddedPostgres::EmbeddedPostgres(std::unique_ptr<Launch> launch, std::string socket_dir,
                                   std::string role, std::string database)
    : launch_(std::move(launch)),
      socket_dir_(std::move(socket_dir)),
      role_(std::move(role)),
      database_(std::move(database)) {}

EmbeddedPostgres::~EmbeddedPostgres() {
  if (absl::Status status = Stop(); !status.ok()) {
    std::cerr << "turnout: stopping the embedded PostgreSQL: " << status << "\n";
  }
}

std::string EmbeddedPostgres::ConnectionString() const { return ConnectionString(database_); }

std::string EmbeddedPostgres::ConnectionString(absl::string_view database) const {
  return absl::StrCat("host=", ConnValue(socket_dir_), " port=", kPort,
                      " dbname=", ConnValue(database), " user=", ConnValue(role_));
}

absl::Status EmbeddedPostgres::CreateDatabase(absl::string_view name) {
  if (name.empty() || name.size() > kMaxIdentifierBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("database name '", name, "' must be 1 to 63 bytes"));
  }
  const std::string database(name);
  try {
    pqxx::connection conn(ConnectionString("postgres"));
    pqxx::nontransaction tx(conn);  // CREATE DATABASE cannot run inside a transaction block
    if (!tx.exec_params(kDatabaseExistsSql, database).empty()) return absl::OkStatus();
    try {
      // Utility statements take no parameters: the name goes in as a quoted identifier.
      tx.exec0("CREATE DATABASE " + conn.quote_name(database));
    } catch (const pqxx::sql_error& e) {
      // Someone else created it between our check and our CREATE: duplicate_database, or
      // unique_violation on pg_database's index.
      if (e.sqlstate() != "42P04" && e.sqlstate() != "23505") throw;
    }
    return absl::OkStatus();
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(
        absl::StrCat("creating database ", database, ": cannot connect: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("creating database ", database, ": ", e.what()));
  }
}

void EmbeddedPostgres::Supervise() {
  absl::Duration backoff = absl::ZeroDuration();
  ChildSpec postgres;
  postgres.argv = launch_->argv;
  postgres.output_fd = launch_->log_fd;
  postgres.run_as = launch_->run_as ? &*launch_->run_as : nullptr;
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
      EndOrphanedBackends(launch_->pg_dir);  // none after a clean shutdown
      absl::MutexLock lock(&mu_);
      how = DescribeWaitStatus(WaitFor(*pid));
      pid_ = 0;
    } else {
      how = absl::StrCat("could not be started (", pid.status().message(), ")");
    }

    absl::MutexLock lock(&mu_);
    ++exits_;
    last_exit_ = how;
    // During Start(), an exit is Start()'s failure to report; wait for its verdict.
    mu_.Await(absl::Condition(
        +[](EmbeddedPostgres* self)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return self->stopping_ || self->started_; },
        this));
    if (stopping_) return;
    if (absl::Now() - spawned > kStableRun) backoff = absl::ZeroDuration();
    std::cerr << "turnout: the embedded PostgreSQL " << how << "; restarting it "
              << (backoff == absl::ZeroDuration()
                      ? "now"
                      : absl::StrCat("in ", absl::FormatDuration(backoff)))
              << " (log: " << launch_->log_path.string() << ")\n";
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    if (stopping_) return;
    backoff = backoff == absl::ZeroDuration() ? kMinBackoff : std::min(backoff * 2, kMaxBackoff);
  }
}

absl::Status EmbeddedPostgres::AwaitReady() {
  const absl::Time deadline = absl::Now() + kReadyTimeout;
  const std::string conninfo = ConnectionString("postgres") + " connect_timeout=5";
  std::string last_error;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (exits_ > 0) {
        return absl::InternalError(
            absl::StrCat("the embedded PostgreSQL ", last_exit_, " while starting; end of ",
                         launch_->log_path.string(), ":\n",
                         ReadLogTail(launch_->log_path, launch_->log_offset)));
      }
    }
    try {
      pqxx::connection conn(conninfo);
      absl::MutexLock lock(&mu_);
      started_ = true;
      return absl::OkStatus();
    } catch (const std::exception& e) {
      last_error = std::string(absl::StripAsciiWhitespace(e.what()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the embedded PostgreSQL did not accept connections within ",
          absl::FormatDuration(kReadyTimeout), " (last error: ", last_error, "); end of ",
          launch_->log_path.string(), ":\n", ReadLogTail(launch_->log_path, launch_->log_offset)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

bool EmbeddedPostgres::AwaitExit(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(
                                  +[](EmbeddedPostgres* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                                       self->mu_) { return self->pid_ == 0; },
                                  this),
                              timeout);
}

absl::Status EmbeddedPostgres::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return absl::OkStatus();
  // Signals go to the process group: after a kill -9 of the postmaster, its children are in it too.
  // pid_ is only signalled under mu_ while unreaped, so it cannot be a recycled pid.
  auto signal_postgres = [this](int sig) {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (pid_ > 0) kill(sig == SIGKILL ? -pid_ : pid_, sig);
  };
  signal_postgres(SIGINT);  // fast shutdown: ends sessions, checkpoints, exits
  if (!AwaitExit(kFastShutdownTimeout)) {
    std::cerr << "turnout: the embedded PostgreSQL did not stop within " << kFastShutdownTimeout
              << "; forcing an immediate shutdown\n";
    signal_postgres(SIGQUIT);
    if (!AwaitExit(kImmediateShutdownTimeout)) {
      signal_postgres(SIGKILL);
      AwaitExit(absl::InfiniteDuration());
    }
  }
  if (supervisor_.joinable()) supervisor_.join();
  launch_->Unlock();
  stopped_ = true;
  return absl::OkStatus();
}

}  // namespace turnout::store
