#include "server/embedded_pg/locks.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/embedded_pg/postgres_processes.h"

namespace turnout::embedded_pg {

namespace fs = std::filesystem;

absl::StatusOr<DataDirLock> DataDirLock::Acquire(const fs::path& data_dir) {
  const int fd = open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open data directory ", data_dir.string(), ": ", std::strerror(errno)));
  }
  DataDirLock lock(fd);  // closes fd on the error path
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", data_dir.string(), " is in use by another turnout-server (",
                     std::strerror(errno), "); stop it, or choose another --data_dir"));
  }
  return lock;
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

DataDirLock::~DataDirLock() { Release(); }

void DataDirLock::Release() {
  if (fd_ >= 0) close(fd_);  // releases the flock
  fd_ = -1;
}

ScopedFlock::ScopedFlock(const char* path, absl::Duration timeout) {
  fd_ = open(path, O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return;
  const absl::Time deadline = absl::Now() + timeout;
  while (flock(fd_, LOCK_EX | LOCK_NB) != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
}

ScopedFlock::~ScopedFlock() {
  if (fd_ >= 0) close(fd_);  // releases the lock
}

absl::Status AwaitPreviousPostmaster(const ClusterLayout& layout) {
  const absl::Time deadline = absl::Now() + kPreviousPostmasterTimeout;
  for (const fs::path& lock_file : {layout.pg_dir / "postmaster.pid", layout.socket_lock_path()}) {
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
            "PostgreSQL (pid ", pid, ") is already running on ", layout.pg_dir.string(),
            "; is another turnout-server using this data directory? Stop it, or choose another "
            "--data_dir"));
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  return absl::OkStatus();
}

}  // namespace turnout::embedded_pg
