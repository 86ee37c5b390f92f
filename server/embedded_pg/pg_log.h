// pg.log, postgres's stdout and stderr. Appended to across runs; moved to pg.log.1 at start once
// it is past 16 MiB. Start-up errors quote its end, from where this start began writing.
#ifndef TURNOUT_SERVER_EMBEDDED_PG_PG_LOG_H_
#define TURNOUT_SERVER_EMBEDDED_PG_PG_LOG_H_

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace turnout::embedded_pg {

inline constexpr off_t kMaxLogBytes = off_t{16} << 20;

// The open log. Not copyable; closes its descriptor on destruction.
class PgLog {
 public:
  // Rotates `path` if it is past `max_bytes`, then opens it for appending (mode 0640).
  // FailedPrecondition if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<PgLog>> Open(const std::filesystem::path& path,
                                                     off_t max_bytes = kMaxLogBytes);
  PgLog(const PgLog&) = delete;
  PgLog& operator=(const PgLog&) = delete;
  ~PgLog();

  const std::filesystem::path& path() const { return path_; }
  int fd() const { return fd_; }  // O_APPEND, for postgres's stdout and stderr
  // Up to `max_bytes` from the end of the log, no earlier than where it stood at Open().
  std::string TailSinceOpen(size_t max_bytes = 3000) const;

 private:
  PgLog(std::filesystem::path path, int fd, off_t start);

  const std::filesystem::path path_;
  const int fd_;
  const off_t start_;
};

// Up to `max_bytes` from the end of `path`, starting no earlier than `offset` (from the start if
// the file is now shorter than `offset`: rotated or truncated). "(no log)" if it cannot be read.
std::string ReadLogTail(const std::filesystem::path& path, off_t offset, size_t max_bytes);

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_PG_LOG_H_
