#include "tests/support/test_postgres.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace turnout::testing {
namespace {

namespace fs = std::filesystem;

// TestPostgres directories are /tmp/<kClusterPrefix>-XXXXXX, the cluster in its "data"
// subdirectory.
constexpr absl::string_view kClusterPrefix = "turnout-test-pg";
// An unlocked cluster directory older than this belongs to a test process that died.
constexpr time_t kAbandonedAfterSeconds = 60;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "test_postgres: " << message << std::endl;
  std::abort();
}

}  // namespace

ScopedTempDir::ScopedTempDir(absl::string_view prefix) {
  const std::string templ = absl::StrCat("/tmp/", prefix, "-XXXXXX");
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) Die(absl::StrCat("mkdtemp: ", std::strerror(errno)));
  path_ = buffer.data();
  // mkdtemp makes it 0700: as root, the postgres system user could not enter it.
  if (chmod(path_.c_str(), 0755) != 0) {
    Die(absl::StrCat("chmod ", path_, ": ", std::strerror(errno)));
  }
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  if (ec) std::cerr << "test_postgres: removing " << path_ << ": " << ec.message() << "\n";
}

TestPostgres& TestPostgres::Get() {
  // Destroyed at exit, which stops postgres and removes the directory.
  static TestPostgres instance;
  return instance;
}

TestPostgres::TestPostgres() : dir_(kClusterPrefix) {
  lock_fd_ = open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    Die(absl::StrCat("cannot lock ", dir_.path(), ": ", std::strerror(errno)));
  }
  RemoveAbandonedClusters();

  store::EmbeddedPostgresOptions options;
  options.data_dir = dir_.path() + "/data";
  options.durable = false;
  absl::StatusOr<std::unique_ptr<store::EmbeddedPostgres>> server =
      store::EmbeddedPostgres::Start(options);
  if (!server.ok()) {
    Die(absl::StrCat("cannot start the test PostgreSQL: ", server.status().ToString()));
  }
  server_ = *std::move(server);
}

TestPostgres::~TestPostgres() {
  if (absl::Status status = server_->Stop(); !status.ok()) {
    std::cerr << "test_postgres: stopping PostgreSQL: " << status << "\n";
  }
  close(lock_fd_);  // dir_ is removed next
}

// Removes cluster directories left by test processes that crashed or were killed (a ctest timeout
// sends SIGKILL): their postgres shut down on its own (parent-death signal), but nobody removed the
// ~50 MB directory. A live process holds a flock on its directory; the age check covers the moment
// between mkdtemp and flock.
void TestPostgres::RemoveAbandonedClusters() {
  std::error_code ec;
  for (auto it = fs::directory_iterator("/tmp", ec); !ec && it != fs::end(it); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    if (!absl::StartsWith(name, absl::StrCat(kClusterPrefix, "-"))) continue;
    struct stat st;
    if (lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        time(nullptr) - st.st_mtime < kAbandonedAfterSeconds) {
      continue;
    }
    const int fd = open(entry.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::error_code ignored;
      fs::remove_all(entry.path(), ignored);
    }
    close(fd);
  }
}

std::string TestPostgres::NewDatabase() {
  const std::string name = absl::StrCat("test_", getpid(), "_", next_database_++);
  if (absl::Status status = server_->CreateDatabase(name); !status.ok()) {
    Die(absl::StrCat("cannot create database ", name, ": ", status.ToString()));
  }
  return server_->ConnectionString(name);
}

}  // namespace turnout::testing
