// Creating and configuring the embedded cluster on disk and in SQL: finding the PostgreSQL 15
// programs, initdb on first use (staged, so an interrupted first start leaves no half-made
// cluster), turnout.conf on every start, the application's database, and the checkpoint after
// start that keeps crash recovery short.
#ifndef TURNOUT_SERVER_EMBEDDED_PG_CLUSTER_H_
#define TURNOUT_SERVER_EMBEDDED_PG_CLUSTER_H_

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/embedded_pg/account.h"
#include "server/embedded_pg/layout.h"

namespace turnout::embedded_pg {

// The directory holding initdb and postgres: `pg_config --bindir`, else the Debian PostgreSQL 15
// path. NotFound, saying what to install, if neither has them.
absl::StatusOr<std::filesystem::path> FindBinDir();

// C.UTF-8 where the C library has it (Debian 12 does): codepoint collation that never changes
// between glibc versions, and upper()/lower() that understand non-ASCII names. Else "C".
std::string ClusterLocale();

// Makes layout.pg_dir a cluster ready to start: runs initdb (as `run_as` when set) if it holds
// none yet, gives it to `run_as`, and writes turnout.conf (config.h). FailedPrecondition if pg_dir
// holds something that is not a cluster; Internal if initdb fails (with its output).
absl::Status EnsureCluster(const std::filesystem::path& bin_dir, const ClusterLayout& layout,
                           const std::string& role, bool durable, const Account* run_as);

// Creates the database `name` through `admin_conninfo` (a connection to the "postgres"
// database) if it does not exist. Idempotent, safe to call concurrently. InvalidArgument for a
// bad name, Unavailable if postgres cannot be reached.
absl::Status CreateDatabase(const std::string& admin_conninfo, absl::string_view name);

// Writes out now what creating the cluster or a database wrote (megabytes, copied from the
// template), rather than in the recovery after a crash, while doors wait.
absl::Status Checkpoint(const std::string& admin_conninfo);

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_CLUSTER_H_
