#include "server/embedded_pg/config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/embedded_pg/layout.h"

namespace turnout::embedded_pg {

namespace fs = std::filesystem;

// PostgreSQL's NAMEDATALEN - 1.
constexpr size_t kMaxIdentifierBytes = 63;

std::string TurnoutConf(const fs::path& socket_dir, bool durable) {
  std::string conf = absl::StrCat(
      "# Written by turnout-server on every start: edits are lost. Override with ALTER SYSTEM.\n",
      "listen_addresses = ''\n",  // Unix socket only: no TCP
      "unix_socket_directories = ", ConfString(socket_dir.string()), "\n",
      "max_connections = 200\n", "shared_buffers = 128MB\n",
      // The log keeps no row values: error details can quote them, and they may be personal data.
      "log_error_verbosity = terse\n", "log_min_error_statement = panic\n",
      "log_parameter_max_length_on_error = 0\n",
      // After a crash, postgres makes the data directory durable before it replays the WAL: one
      // syncfs() of the file system, not an fsync() of each of its thousands of files (seconds),
      // and a checkpoint a minute keeps what the end-of-recovery checkpoint writes small. Doors
      // wait for both (docs/design.md, "Recovery").
      "recovery_init_sync_method = syncfs\n", "checkpoint_timeout = 1min\n");
  if (!durable) {
    absl::StrAppend(&conf,
                    "# Not durable (tests): a machine crash can lose or corrupt data.\n"
                    "fsync = off\n"
                    "synchronous_commit = off\n"
                    "full_page_writes = off\n");
  }
  return conf;
}

std::vector<std::string> InitdbArgv(const fs::path& bin_dir, const fs::path& dir,
                                    absl::string_view role, absl::string_view locale,
                                    bool durable) {
  std::vector<std::string> argv = {(bin_dir / "initdb").string(),
                                   "-D",
                                   dir.string(),
                                   "--auth=trust",
                                   absl::StrCat("--username=", role),
                                   "-E",
                                   "UTF8",
                                   absl::StrCat("--locale=", locale),
                                   "--no-instructions"};
  if (!durable) argv.push_back("--no-sync");
  return argv;
}

std::string ConnectionString(const fs::path& socket_dir, absl::string_view database,
                             absl::string_view role) {
  return absl::StrCat("host=", ConnValue(socket_dir.string()), " port=", kPort,
                      " dbname=", ConnValue(database), " user=", ConnValue(role));
}

absl::Status CheckDatabaseName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxIdentifierBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("database name '", name, "' must be 1 to 63 bytes"));
  }
  return absl::OkStatus();
}

std::string ConfString(absl::string_view value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  return quoted + "'";
}

std::string ConnValue(absl::string_view value) {
  const bool plain = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
    return c == ' ' || c == '\'' || c == '\\' || c == '\t' || c == '\n';
  });
  if (plain) return std::string(value);
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "'";
}

}  // namespace turnout::embedded_pg
