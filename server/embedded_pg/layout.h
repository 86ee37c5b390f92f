// The data-directory layout of the embedded cluster, and the checks a data directory path must
// pass before anything is created:
//
//   data_dir/pg        the PostgreSQL cluster (initdb's directory; postmaster.pid, turnout.conf)
//   data_dir/pg.initdb where initdb works until the cluster is complete, then renamed to pg
//   data_dir/run       its Unix socket .s.PGSQL.5432 (and the socket's .lock); no TCP
//   data_dir/pg.log    postgres's output, appended across runs; pg.log.1 the one before
//
// Pure: only paths, no file system access beyond making the path absolute.
#ifndef TURNOUT_SERVER_EMBEDDED_PG_LAYOUT_H_
#define TURNOUT_SERVER_EMBEDDED_PG_LAYOUT_H_

#include <filesystem>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::embedded_pg {

// The port in the socket's name (postgres listens on no TCP port).
inline constexpr int kPort = 5432;

struct ClusterLayout {
  std::filesystem::path data_dir;  // absolute, normalized, no trailing slash
  std::filesystem::path pg_dir;
  std::filesystem::path run_dir;
  std::filesystem::path log_path;

  std::filesystem::path socket_path() const;       // run/.s.PGSQL.5432
  std::filesystem::path socket_lock_path() const;  // run/.s.PGSQL.5432.lock
};

// The layout under `data_dir` (relative paths are taken from the working directory).
// InvalidArgument if data_dir is empty, or so long that the socket's path would not fit in a
// sockaddr_un (107 bytes).
absl::StatusOr<ClusterLayout> LayoutFor(absl::string_view data_dir);

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_LAYOUT_H_
