#include "server/embedded_pg/layout.h"

#include <sys/un.h>

#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace turnout::embedded_pg {

namespace fs = std::filesystem;

fs::path ClusterLayout::socket_path() const { return run_dir / absl::StrCat(".s.PGSQL.", kPort); }

fs::path ClusterLayout::socket_lock_path() const {
  return run_dir / absl::StrCat(".s.PGSQL.", kPort, ".lock");
}

absl::StatusOr<ClusterLayout> LayoutFor(absl::string_view data_dir_arg) {
  if (data_dir_arg.empty()) {
    return absl::InvalidArgumentError("the embedded PostgreSQL needs a data directory (data_dir)");
  }
  std::error_code ec;
  fs::path data_dir = fs::absolute(fs::path(std::string(data_dir_arg)), ec).lexically_normal();
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat("data_dir ", data_dir_arg, ": ", ec.message()));
  }
  if (!data_dir.has_filename() && data_dir.has_parent_path() && data_dir != data_dir.root_path()) {
    data_dir = data_dir.parent_path();  // "/a/b/" -> "/a/b"
  }
  ClusterLayout layout;
  layout.data_dir = data_dir;
  layout.pg_dir = data_dir / "pg";
  layout.run_dir = data_dir / "run";
  layout.log_path = data_dir / "pg.log";
  const std::string socket_path = layout.socket_path().string();
  if (socket_path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("data directory path ", data_dir.string(), " is too long for a Unix socket (",
                     socket_path.size(), " of at most ", sizeof(sockaddr_un{}.sun_path) - 1,
                     " bytes); choose a shorter --data_dir"));
  }
  return layout;
}

}  // namespace turnout::embedded_pg
