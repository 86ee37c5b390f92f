#include "server/embedded_pg/embedded_postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/embedded_pg/account.h"
#include "server/embedded_pg/cluster.h"
#include "server/embedded_pg/config.h"
#include "server/embedded_pg/layout.h"
#include "server/embedded_pg/pg_log.h"
#include "server/util/status_macros.h"

namespace turnout::store {
namespace {

namespace fs = std::filesystem;
namespace epg = ::turnout::embedded_pg;

// The account that runs postgres: the system user when we are root, else ourselves.
absl::StatusOr<epg::Account> ResolveAccount(const EmbeddedPostgresOptions& options) {
  ASSIGN_OR_RETURN(const epg::AccountChoice choice,
                   epg::ChooseAccount(geteuid(), options.system_user));
  return choice.run_as_system_user ? epg::EnsureSystemUser(choice.system_user)
                                   : epg::CurrentAccount();
}

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::Start(
    const EmbeddedPostgresOptions& options) {
  ASSIGN_OR_RETURN(const epg::ClusterLayout layout, epg::LayoutFor(options.data_dir));
  RETURN_IF_ERROR(epg::CheckDatabaseName(options.database));
  ASSIGN_OR_RETURN(const fs::path bin_dir, epg::FindBinDir());

  ASSIGN_OR_RETURN(const epg::Account account, ResolveAccount(options));
  std::optional<epg::Account> run_as;  // set when we are root
  if (geteuid() == 0) run_as = account;
  const epg::Account* run_as_ptr = run_as ? &*run_as : nullptr;

  std::error_code ec;
  const bool existed = fs::exists(layout.data_dir, ec);
  fs::create_directories(layout.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create data directory ", layout.data_dir.string(), ": ", ec.message()));
  }
  if (!existed) {
    chmod(layout.data_dir.c_str(), 0755);  // whatever the umask, the postgres user must enter it
  }
  ASSIGN_OR_RETURN(epg::DataDirLock lock, epg::DataDirLock::Acquire(layout.data_dir));
  if (run_as_ptr != nullptr) RETURN_IF_ERROR(epg::CheckReachable(layout.data_dir, *run_as_ptr));
  RETURN_IF_ERROR(epg::MakePrivateDir(layout.run_dir, run_as_ptr));
  RETURN_IF_ERROR(epg::EnsureCluster(bin_dir, layout, account.name, options.durable, run_as_ptr));
  RETURN_IF_ERROR(epg::AwaitPreviousPostmaster(layout));

  epg::Launch launch;
  ASSIGN_OR_RETURN(launch.log, epg::PgLog::Open(layout.log_path));
  launch.argv = {(bin_dir / "postgres").string(), "-D", layout.pg_dir.string()};
  launch.pg_dir = fs::weakly_canonical(layout.pg_dir, ec);  // as /proc/<pid>/cwd reads
  launch.run_as = run_as;

  std::unique_ptr<EmbeddedPostgres> pg(new EmbeddedPostgres(
      std::move(lock), layout.run_dir.string(), account.name, options.database));
  pg->supervisor_ = std::make_unique<epg::Supervisor>(std::move(launch));
  // On failure, ~EmbeddedPostgres stops whatever was started.
  RETURN_IF_ERROR(pg->supervisor_->AwaitReady(pg->ConnectionString("postgres")));
  RETURN_IF_ERROR(pg->CreateDatabase(options.database));
  RETURN_IF_ERROR(epg::Checkpoint(pg->ConnectionString("postgres")));
  return pg;
}

EmbeddedPostgres::EmbeddedPostgres(epg::DataDirLock lock, std::string socket_dir, std::string role,
                                   std::string database)
    : socket_dir_(std::move(socket_dir)),
      role_(std::move(role)),
      database_(std::move(database)),
      lock_(std::move(lock)) {}

EmbeddedPostgres::~EmbeddedPostgres() {
  if (absl::Status status = Stop(); !status.ok()) {
    std::cerr << "turnout: stopping the embedded PostgreSQL: " << status << "\n";
  }
}

std::string EmbeddedPostgres::ConnectionString() const { return ConnectionString(database_); }

std::string EmbeddedPostgres::ConnectionString(absl::string_view database) const {
  return epg::ConnectionString(socket_dir_, database, role_);
}

absl::Status EmbeddedPostgres::CreateDatabase(absl::string_view name) {
  return epg::CreateDatabase(ConnectionString("postgres"), name);
}

absl::Status EmbeddedPostgres::Stop() {
  absl::MutexLock lock(&mu_);
  if (supervisor_ != nullptr) supervisor_->Stop();
  lock_.Release();  // only after postgres has exited: the next server may start at once
  return absl::OkStatus();
}

}  // namespace turnout::store
