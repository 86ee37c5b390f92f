// The embedded cluster's configuration as text: the settings turnout owns (turnout.conf), the
// line that makes postgresql.conf include them, initdb's command line, and libpq connection
// strings. Pure: cluster.h writes these to disk and runs them.
//
// turnout.conf is rewritten on every start, so a change of `durable` (or of turnout's defaults)
// takes effect; postgresql.conf includes it last, and ALTER SYSTEM still overrides it.
#ifndef TURNOUT_SERVER_EMBEDDED_PG_CONFIG_H_
#define TURNOUT_SERVER_EMBEDDED_PG_CONFIG_H_

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace turnout::embedded_pg {

// Appended to the postgresql.conf initdb writes. `include`, not `include_if_exists`: without
// turnout.conf postgres would listen on TCP localhost.
inline constexpr absl::string_view kIncludeTurnoutConf =
    "\n# turnout-server's settings (listen_addresses, sockets, sizes, durability)\n"
    "include 'turnout.conf'\n";

// The contents of turnout.conf: Unix socket in `socket_dir` only, sizes, a log that keeps no row
// values, fast crash recovery (recovery_init_sync_method = syncfs, a checkpoint a minute); with
// `durable` false (tests) also fsync, synchronous_commit and full_page_writes off.
std::string TurnoutConf(const std::filesystem::path& socket_dir, bool durable);

// initdb's command line: a cluster in `dir` whose superuser is `role` (trusted over the socket),
// UTF8 in `locale`; with `durable` false it skips fsyncing its files.
std::vector<std::string> InitdbArgv(const std::filesystem::path& bin_dir,
                                    const std::filesystem::path& dir, absl::string_view role,
                                    absl::string_view locale, bool durable);

// libpq key/value connection string, e.g. "host=/data/run port=5432 dbname=turnout user=turnout".
std::string ConnectionString(const std::filesystem::path& socket_dir, absl::string_view database,
                             absl::string_view role);

// InvalidArgument unless `name` is 1 to 63 bytes (PostgreSQL's NAMEDATALEN - 1).
absl::Status CheckDatabaseName(absl::string_view name);

// A value for postgresql.conf: single-quoted, quotes doubled.
std::string ConfString(absl::string_view value);

// A value for a libpq key/value connection string: quoted with backslash escapes when needed.
std::string ConnValue(absl::string_view value);

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_CONFIG_H_
