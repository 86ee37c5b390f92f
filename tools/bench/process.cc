#include "tools/bench/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace turnout::bench {

namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<ServingProcess>> ServingProcess::Start(
    const std::vector<std::string>& argv, const std::string& log_path, absl::Duration timeout) {
  int out[2], in[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return absl::InternalError(absl::StrCat(log_path, ": ", std::strerror(errno)));
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(log, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(log);
  std::unique_ptr<ServingProcess> p(new ServingProcess());
  p->pid_ = pid;
  p->stdin_fd_ = in[1];
  // Read stdout up to the "listening on port N" line.
  std::string seen;
  const absl::Time deadline = absl::Now() + timeout;
  while (p->port_ == 0) {
    const int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd fd{out[0], POLLIN, 0};
    if (wait_ms <= 0 || poll(&fd, 1, wait_ms) <= 0) break;
    char buf[512];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, n);
    for (absl::string_view line : absl::StrSplit(seen, '\n')) {
      int port = 0;
      if (absl::ConsumePrefix(&line, "listening on port ") && absl::SimpleAtoi(line, &port)) {
        p->port_ = port;
      }
    }
  }
  close(out[0]);  // nothing else is read from it; the child gets EPIPE only if it writes more
  if (p->port_ == 0) {
    p->Stop(absl::Seconds(5));
    return absl::UnavailableError(absl::StrCat(argv[0], " did not start in ",
                                               absl::FormatDuration(timeout), "; see ", log_path));
  }
  return p;
}

ServingProcess::~ServingProcess() { Stop(); }

void ServingProcess::Stop(absl::Duration grace) {
  if (stdin_fd_ >= 0) {
    close(stdin_fd_);
    stdin_fd_ = -1;
  }
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  pid_ = -1;
}

int64_t ProcessRssBytes(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view v(line);
    if (absl::ConsumePrefix(&v, "VmRSS:")) {
      int64_t kib = 0;
      std::vector<absl::string_view> parts = absl::StrSplit(v, ' ', absl::SkipWhitespace());
      if (!parts.empty() && absl::SimpleAtoi(parts[0], &kib)) return kib * 1024;
    }
  }
  return 0;
}

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = all.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(all.substr(paren + 2), ' ');
  // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the name.
  double utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtod(f[11], &utime) || !absl::SimpleAtod(f[12], &stime)) {
    return 0;
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int ProcessSocketCount(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(absl::StrCat("/proc/", pid, "/fd"), ec)) {
    std::error_code lec;
    if (absl::StartsWith(fs::read_symlink(entry.path(), lec).string(), "socket:")) ++n;
  }
  return n;
}

int64_t RaiseOpenFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  return static_cast<int64_t>(r.rlim_cur);
}

std::string SelfDirectory() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path().string();
}

}  // namespace turnout::bench
