// One server per data directory, and the lock files a previous postgres left.
#include "server/embedded_pg/locks.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/embedded_pg/layout.h"
#include "tests/support/test_postgres.h"

namespace turnout::embedded_pg {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::turnout::testing::ScopedTempDir;

TEST(DataDirLockTest, ASecondHolderIsRefused) {
  ScopedTempDir dir;
  absl::StatusOr<DataDirLock> first = DataDirLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok()) << first.status();

  absl::StatusOr<DataDirLock> second = DataDirLock::Acquire(dir.path());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("is in use by another turnout-server"));
  EXPECT_THAT(second.status().message(), HasSubstr("--data_dir"));

  first->Release();
  EXPECT_TRUE(DataDirLock::Acquire(dir.path()).ok()) << "Release() lets the next one in";
}

TEST(DataDirLockTest, AnotherProcessIsRefusedToo) {
  ScopedTempDir dir;
  absl::StatusOr<DataDirLock> held = DataDirLock::Acquire(dir.path());
  ASSERT_TRUE(held.ok()) << held.status();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    _exit(DataDirLock::Acquire(dir.path()).status().code() == absl::StatusCode::kFailedPrecondition
              ? 0
              : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the other process got the lock";
}

TEST(DataDirLockTest, TheLockFollowsAMoveAndEndsWithItsOwner) {
  ScopedTempDir dir;
  {
    absl::StatusOr<DataDirLock> acquired = DataDirLock::Acquire(dir.path());
    ASSERT_TRUE(acquired.ok());
    DataDirLock moved = *std::move(acquired);
    acquired->Release();  // the moved-from lock holds nothing
    EXPECT_FALSE(DataDirLock::Acquire(dir.path()).ok());
  }
  EXPECT_TRUE(DataDirLock::Acquire(dir.path()).ok());
}

TEST(DataDirLockTest, AMissingDirectoryIsAPrecondition) {
  ScopedTempDir dir;
  absl::StatusOr<DataDirLock> lock = DataDirLock::Acquire(dir.path() + "/missing");
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(lock.status().message(), HasSubstr("cannot open data directory"));
}

void WriteFile(const fs::path& path, const std::string& contents) {
  std::ofstream out(path);
  out << contents;
}

// A lock file whose pid is not a postgres (here: this test process) is stale: postgres would
// refuse to start over it, so it goes.
TEST(AwaitPreviousPostmasterTest, RemovesLockFilesOfProcessesThatAreNotPostgres) {
  ScopedTempDir dir;
  absl::StatusOr<ClusterLayout> layout = LayoutFor(dir.path());
  ASSERT_TRUE(layout.ok());
  fs::create_directories(layout->pg_dir);
  fs::create_directories(layout->run_dir);
  WriteFile(layout->pg_dir / "postmaster.pid", absl::StrCat(getpid(), "\n", dir.path(), "\n"));
  WriteFile(layout->socket_lock_path(), absl::StrCat(getpid(), "\n"));

  EXPECT_TRUE(AwaitPreviousPostmaster(*layout).ok());
  EXPECT_FALSE(fs::exists(layout->pg_dir / "postmaster.pid"));
  EXPECT_FALSE(fs::exists(layout->socket_lock_path()));
}

TEST(AwaitPreviousPostmasterTest, LeavesWhatNamesNoProcess) {
  ScopedTempDir dir;
  absl::StatusOr<ClusterLayout> layout = LayoutFor(dir.path());
  ASSERT_TRUE(layout.ok());
  EXPECT_TRUE(AwaitPreviousPostmaster(*layout).ok()) << "no cluster yet, no lock files";

  fs::create_directories(layout->pg_dir);
  WriteFile(layout->pg_dir / "postmaster.pid", "not a pid\n");
  EXPECT_TRUE(AwaitPreviousPostmaster(*layout).ok());
  EXPECT_TRUE(fs::exists(layout->pg_dir / "postmaster.pid")) << "postgres judges this one";
}

}  // namespace
}  // namespace turnout::embedded_pg
