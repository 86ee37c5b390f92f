#include "server/embedded_pg/postgres_processes.h"

#include <signal.h>

#include <fstream>
#include <string>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace turnout::embedded_pg {

namespace fs = std::filesystem;

bool IsLivePostgresStat(absl::string_view stat_line) {
  const size_t comm_end = stat_line.rfind(") ");
  if (comm_end == absl::string_view::npos || !absl::StrContains(stat_line, "(postgres)")) {
    return false;
  }
  return stat_line.substr(comm_end + 2, 1) != "Z";
}

bool IsLivePostgres(pid_t pid, const fs::path& proc_root) {
  std::ifstream stat_file(proc_root / std::to_string(pid) / "stat");
  std::string line;
  return std::getline(stat_file, line) && IsLivePostgresStat(line);
}

std::vector<pid_t> PostgresProcessesIn(const fs::path& pg_dir, const fs::path& proc_root) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(proc_root, ec)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid) ||
        !IsLivePostgres(pid, proc_root)) {
      continue;
    }
    if (fs::read_symlink(entry.path() / "cwd", ec) == pg_dir) pids.push_back(pid);
  }
  return pids;
}

void EndOrphanedBackends(const fs::path& pg_dir) {
  const absl::Time deadline = absl::Now() + kOrphansTimeout;
  for (std::vector<pid_t> pids = PostgresProcessesIn(pg_dir);
       !pids.empty() && absl::Now() < deadline; pids = PostgresProcessesIn(pg_dir)) {
    for (pid_t pid : pids) kill(pid, SIGKILL);
    absl::SleepFor(absl::Milliseconds(2));
  }
}

}  // namespace turnout::embedded_pg
