#include "server/embedded_pg/cluster.h"

#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <pqxx/pqxx>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/embedded_pg/config.h"
#include "server/embedded_pg/process.h"

namespace turnout::embedded_pg {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kFallbackBinDir = "/usr/lib/postgresql/15/bin";

constexpr char kDatabaseExistsSql[] = "SELECT 1 FROM pg_database WHERE datname = $1";

// Writes `contents` to `path` atomically (temporary file + rename), owned by `run_as` if set.
absl::Status WriteFileAtomically(const fs::path& path, const std::string& contents,
                                 const Account* run_as) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << contents;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", temporary.string()));
  }
  if (run_as != nullptr && chown(temporary.c_str(), run_as->uid, run_as->gid) != 0) {
    return absl::InternalError(
        absl::StrCat("chown ", temporary.string(), ": ", std::strerror(errno)));
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("rename to ", path.string(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Runs initdb into data_dir/pg.initdb and renames it to `pg_dir` when complete, so an interrupted
// first start never leaves a half-made cluster behind.
absl::Status InitCluster(const fs::path& bin_dir, const fs::path& pg_dir, const std::string& role,
                         bool durable, const Account* run_as) {
  const fs::path staging = pg_dir.string() + ".initdb";
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("removing ", staging.string(), ": ", ec.message()));
  }
  if (absl::Status status = MakePrivateDir(staging, run_as); !status.ok()) return status;

  absl::StatusOr<RunResult> result =
      Run(InitdbArgv(bin_dir, staging, role, ClusterLocale(), durable), run_as);
  if (!result.ok()) return result.status();
  if (!Succeeded(*result)) {
    return absl::InternalError(absl::StrCat("initdb ", DescribeWaitStatus(result->status),
                                            " creating the embedded PostgreSQL cluster in ",
                                            staging.string(), ":\n", result->output));
  }
  std::ofstream conf(staging / "postgresql.conf", std::ios::app);
  conf << kIncludeTurnoutConf;
  conf.close();
  if (!conf) {
    return absl::InternalError(
        absl::StrCat("cannot append to ", staging.string(), "/postgresql.conf"));
  }
  if (rename(staging.c_str(), pg_dir.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", staging.string(), " to ", pg_dir.string(),
                                            ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<fs::path> FindBinDir() {
  std::vector<fs::path> candidates;
  if (std::optional<fs::path> pg_config = FindInPath("pg_config")) {
    absl::StatusOr<RunResult> result = Run({pg_config->string(), "--bindir"});
    if (result.ok() && Succeeded(*result)) {
      candidates.push_back(std::string(absl::StripAsciiWhitespace(result->output)));
    }
  }
  candidates.push_back(std::string(kFallbackBinDir));
  for (const fs::path& dir : candidates) {
    if (IsExecutable(dir / "postgres") && IsExecutable(dir / "initdb")) return dir;
  }
  std::vector<std::string> tried;
  for (const fs::path& dir : candidates) tried.push_back(dir.string());
  return absl::NotFoundError(absl::StrCat(
      "the PostgreSQL server programs (initdb, postgres) are not in ", absl::StrJoin(tried, " or "),
      "; install them (Debian: apt-get install postgresql-15) or configure --database to use an "
      "existing server"));
}

std::string ClusterLocale() {
  locale_t probe = newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(0));
  if (probe == static_cast<locale_t>(0)) return "C";
  freelocale(probe);
  return "C.UTF-8";
}

absl::Status EnsureCluster(const fs::path& bin_dir, const ClusterLayout& layout,
                           const std::string& role, bool durable, const Account* run_as) {
  const fs::path& pg_dir = layout.pg_dir;
  std::error_code ec;
  if (!fs::exists(pg_dir / "PG_VERSION", ec)) {
    if (fs::exists(pg_dir, ec)) {
      if (!fs::is_empty(pg_dir, ec)) {
        return absl::FailedPreconditionError(
            absl::StrCat(pg_dir.string(),
                         " exists but is not a PostgreSQL cluster (no PG_VERSION); move it away "
                         "or choose another --data_dir"));
      }
      fs::remove(pg_dir, ec);
    }
    std::cerr << "turnout: creating the embedded PostgreSQL cluster in " << pg_dir.string()
              << (run_as != nullptr ? absl::StrCat(" (run by system user ", run_as->name, ")") : "")
              << "\n";
    if (absl::Status status = InitCluster(bin_dir, pg_dir, role, durable, run_as); !status.ok()) {
      return status;
    }
  } else if (absl::Status status = MakePrivateDir(pg_dir, run_as); !status.ok()) {
    return status;
  }
  return WriteFileAtomically(pg_dir / "turnout.conf", TurnoutConf(layout.run_dir, durable), run_as);
}

absl::Status CreateDatabase(const std::string& admin_conninfo, absl::string_view name) {
  if (absl::Status status = CheckDatabaseName(name); !status.ok()) return status;
  const std::string database(name);
  try {
    pqxx::connection conn(admin_conninfo);
    pqxx::nontransaction tx(conn);  // CREATE DATABASE cannot run inside a transaction block
    if (!tx.exec_params(kDatabaseExistsSql, database).empty()) return absl::OkStatus();
    try {
      // Utility statements take no parameters: the name goes in as a quoted identifier.
      tx.exec0("CREATE DATABASE " + conn.quote_name(database));
    } catch (const pqxx::sql_error& e) {
      // Someone else created it between our check and our CREATE: duplicate_database, or
      // unique_violation on pg_database's index.
      if (e.sqlstate() != "42P04" && e.sqlstate() != "23505") throw;
    }
    return absl::OkStatus();
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(
        absl::StrCat("creating database ", database, ": cannot connect: ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("creating database ", database, ": ", e.what()));
  }
}

absl::Status Checkpoint(const std::string& admin_conninfo) {
  try {
    pqxx::connection conn(admin_conninfo);
    pqxx::nontransaction(conn).exec0("CHECKPOINT");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("checkpoint after start: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace turnout::embedded_pg
