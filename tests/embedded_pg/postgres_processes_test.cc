// Finding a cluster's postgres processes, on a directory laid out like /proc and on real
// processes.
#include "server/embedded_pg/postgres_processes.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_postgres.h"

namespace turnout::embedded_pg {
namespace {

namespace fs = std::filesystem;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::turnout::testing::ScopedTempDir;

TEST(PostgresProcessesTest, IsLivePostgresStat) {
  const struct {
    const char* stat_line;
    bool live_postgres;
  } cases[] = {
      {"4242 (postgres) S 1 4242 4242 0 -1 4194560", true},
      {"4242 (postgres) R 1 4242", true},
      {"4242 (postgres) D 1 4242", true},
      {"4242 (postgres) Z 1 4242", false},  // a zombie holds no shared memory
      {"4242 (bash) S 1 4242", false},
      {"4242 (postgresql) S 1", false},
      {"4242 (pg_ctl) S 1", false},
      {"", false},
      {"4242 (postgres)", false},  // truncated: no state
  };
  for (const auto& c : cases) {
    EXPECT_EQ(IsLivePostgresStat(c.stat_line), c.live_postgres) << c.stat_line;
  }
}

// A fake /proc: /proc/<pid>/stat and the /proc/<pid>/cwd symlink are all the code reads.
class FakeProc {
 public:
  explicit FakeProc(const std::string& root) : root_(root) {}
  void Add(int pid, absl::string_view comm, char state, const fs::path& cwd) {
    const fs::path dir = root_ / std::to_string(pid);
    fs::create_directories(dir);
    std::ofstream(dir / "stat") << pid << " (" << comm << ") " << state << " 1 " << pid << "\n";
    fs::create_directory_symlink(cwd, dir / "cwd");
  }
  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

TEST(PostgresProcessesTest, FindsLivePostgresWorkingInTheCluster) {
  ScopedTempDir dir;
  const fs::path cluster = dir.path() + "/data/pg";
  const fs::path other_cluster = dir.path() + "/other/pg";
  FakeProc proc(dir.path() + "/proc");
  proc.Add(101, "postgres", 'S', cluster);  // the postmaster's backend
  proc.Add(102, "postgres", 'R', cluster);
  proc.Add(201, "postgres", 'S', other_cluster);  // another cluster's
  proc.Add(301, "postgres", 'Z', cluster);        // already dead, not reaped
  proc.Add(401, "bash", 'S', cluster);            // someone's shell in the directory
  fs::create_directories(proc.root() / "self");   // not a pid
  fs::create_directories(proc.root() / "501");    // vanished while listed: no stat

  EXPECT_THAT(PostgresProcessesIn(cluster, proc.root()), UnorderedElementsAre(101, 102));
  EXPECT_THAT(PostgresProcessesIn(other_cluster, proc.root()), UnorderedElementsAre(201));
  EXPECT_THAT(PostgresProcessesIn(dir.path() + "/nothing", proc.root()), IsEmpty());
  EXPECT_THAT(PostgresProcessesIn(cluster, dir.path() + "/no-proc"), IsEmpty());
  EXPECT_TRUE(IsLivePostgres(101, proc.root()));
  EXPECT_FALSE(IsLivePostgres(301, proc.root()));
  EXPECT_FALSE(IsLivePostgres(501, proc.root()));
}

// A real process named postgres in the cluster's directory, as a backend left by a postmaster
// killed with SIGKILL would be: EndOrphanedBackends kills it.
TEST(PostgresProcessesTest, EndOrphanedBackendsKillsThemAndOnlyThem) {
  ScopedTempDir dir;
  const fs::path cluster = fs::canonical(dir.path());
  const fs::path postgres = cluster / "postgres";  // a copy of sleep named postgres
  fs::copy_file("/bin/sleep", postgres);
  auto start_in = [&postgres](const fs::path& cwd) {
    const pid_t pid = fork();
    if (pid == 0) {
      if (chdir(cwd.c_str()) != 0) _exit(126);
      execl(postgres.c_str(), "postgres", "60", static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  };
  const pid_t orphan = start_in(cluster);
  const pid_t elsewhere = start_in("/");
  ASSERT_GT(orphan, 0);
  ASSERT_GT(elsewhere, 0);
  // Until exec, the child is still called after this test binary.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((!IsLivePostgres(orphan) || !IsLivePostgres(elsewhere)) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_THAT(PostgresProcessesIn(cluster), UnorderedElementsAre(orphan));

  EndOrphanedBackends(cluster);

  int status = 0;
  ASSERT_EQ(waitpid(orphan, &status, 0), orphan);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(IsLivePostgres(elsewhere)) << "a postgres working elsewhere was killed";
  kill(elsewhere, SIGKILL);
  waitpid(elsewhere, nullptr, 0);
}

}  // namespace
}  // namespace turnout::embedded_pg
