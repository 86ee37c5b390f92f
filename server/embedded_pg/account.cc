#include "server/embedded_pg/account.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/embedded_pg/locks.h"
#include "server/embedded_pg/process.h"

namespace turnout::embedded_pg {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<Account> LookupUser(const std::string& name) {
  struct passwd entry;
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int err = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (err != 0) {
    return absl::InternalError(absl::StrCat("looking up user '", name, "': ", std::strerror(err)));
  }
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("no user '", name, "'"));
  return Account{entry.pw_name, entry.pw_uid, entry.pw_gid};
}

// Gives `path` and everything below it to `account` if it belongs to someone else (for example a
// cluster first created by a non-root run).
absl::Status ChownTree(const fs::path& path, const Account& account) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    return absl::InternalError(absl::StrCat("stat ", path.string(), ": ", std::strerror(errno)));
  }
  if (st.st_uid == account.uid && st.st_gid == account.gid) return absl::OkStatus();
  if (lchown(path.c_str(), account.uid, account.gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", path.string(), ": ", std::strerror(errno)));
  }
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (lchown(it->path().c_str(), account.uid, account.gid) != 0) {
      return absl::InternalError(
          absl::StrCat("chown ", it->path().string(), ": ", std::strerror(errno)));
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("listing ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AccountChoice> ChooseAccount(uid_t euid, absl::string_view system_user) {
  if (euid != 0) return AccountChoice{};
  if (!IsValidUserName(system_user)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", system_user, "' is not a valid system user name"));
  }
  return AccountChoice{true, std::string(system_user)};
}

bool IsValidUserName(absl::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  if (!(absl::ascii_islower(name[0]) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' || c == '-';
  });
}

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

std::vector<std::string> PathChain(const fs::path& dir) {
  std::vector<std::string> chain;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    chain.push_back(p.string());
    if (p == p.parent_path()) break;
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

absl::Status CheckReachable(const fs::path& dir, const Account& account) {
  const std::vector<std::string> chain = PathChain(dir);
  std::vector<const char*> paths;
  for (const std::string& p : chain) paths.push_back(p.c_str());

  const pid_t pid = fork();
  if (pid < 0) return absl::ResourceExhaustedError(absl::StrCat("fork: ", std::strerror(errno)));
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

absl::Status MakePrivateDir(const fs::path& path, const Account* run_as) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create directory ", path.string(), ": ", std::strerror(errno)));
  }
  if (run_as != nullptr) {
    if (absl::Status status = ChownTree(path, *run_as); !status.ok()) return status;
  }
  // postgres insists on 0700 (or 0750) for its data directory; the socket directory stays private
  // too.
  if (chmod(path.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot chmod ", path.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace turnout::embedded_pg
