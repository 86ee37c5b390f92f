#include "server/embedded_pg/pg_log.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/embedded_pg/process.h"

namespace turnout::embedded_pg {

namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<PgLog>> PgLog::Open(const fs::path& path, off_t max_bytes) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && st.st_size > max_bytes) {
    rename(path.c_str(), (path.string() + ".1").c_str());
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path.string(), ": ", std::strerror(errno)));
  }
  const off_t start = lseek(fd, 0, SEEK_END);
  return std::unique_ptr<PgLog>(new PgLog(path, fd, start));
}

PgLog::PgLog(fs::path path, int fd, off_t start) : path_(std::move(path)), fd_(fd), start_(start) {}

PgLog::~PgLog() { close(fd_); }

std::string PgLog::TailSinceOpen(size_t max_bytes) const {
  return ReadLogTail(path_, start_, max_bytes);
}

std::string ReadLogTail(const fs::path& path, off_t offset, size_t max_bytes) {
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

}  // namespace turnout::embedded_pg
