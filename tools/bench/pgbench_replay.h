// The pgbench half of `turnout-bench checkin`: a pgbench script that replays, statement for
// statement, the transaction PgScanStore::RecordScan runs for an accepted online entry at the
// entrance, built from the very SQL constants the server runs (server/store/scan_queries.h), and
// a runner that executes pgbench against the same PostgreSQL and parses what it prints.
//
//   ReplayParams params = ...;  // ids taken from the gRPC set-up
//   absl::StatusOr<ReplayScript> script = BuildScanReplay(params);
//   absl::StatusOr<PgbenchResult> run = RunPgbench(options, *script);
#ifndef TURNOUT_TOOLS_BENCH_PGBENCH_REPLAY_H_
#define TURNOUT_TOOLS_BENCH_PGBENCH_REPLAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/bench/stats.h"

namespace turnout::bench {

struct ReplayParams {
  int64_t event_id = 0;
  int64_t device_id = 0;  // the DOOR token's id, as the server records it
  int64_t entrance_checkpoint_id = 0;
  // The registrations are the contiguous ids [first_registration_id, + registrations).
  int64_t first_registration_id = 0;
  int64_t registrations = 0;
  int clients = 64;
  // Code scans look the ticket up by its id (scan_ticket); empty replays "admit by registration"
  // (scan_registration) instead.
  std::string ticket_id_hex;
  int64_t scanned_at_us = 0;
};

struct ReplayScript {
  std::string text;                  // the pgbench script
  std::vector<std::string> defines;  // "name=value" for pgbench -D
  // One label per script command (meta-commands included), in the order pgbench -r reports them.
  std::vector<std::string> labels;
};

// Replaces $1..$n in `sql` with ":" + args[i-1] (pgbench variables), or with "ARRAY[:x]" for an
// arg "[x]" ("ARRAY[NULL]" for "[NULL]"): a one-element array parameter. Fails if `sql` refers to
// a parameter beyond args or leaves one of args unused, so a changed statement cannot drift
// silently.
absl::StatusOr<std::string> SubstituteParams(absl::string_view sql,
                                             const std::vector<std::string>& args);

// The replay of a lone scan's statements (PgScanStore::RecordScans) for an online entry at the entrance that is accepted: each client cycles
// over its own slice of the registrations (so no two clients lock the same presence row, as in the
// gRPC phase), with a fresh client_scan_id per transaction.
absl::StatusOr<ReplayScript> BuildScanReplay(const ReplayParams& params);

// The floor: the least a durable check-in must do, as pgbench runs it. Each transaction inserts
// one scan row and upserts the ticket's presence row (entry and exit in turn), nothing else: no
// replay check, no ticket look-up, no rules. Each client walks its own slice of the registrations,
// as in BuildScanReplay. Turnout's scans/s is reported as a fraction of this.
absl::StatusOr<ReplayScript> BuildMinimalCheckin(const ReplayParams& params);

struct PgbenchOptions {
  std::string pgbench = "/usr/lib/postgresql/15/bin/pgbench";
  std::string host;  // the Unix socket directory
  std::string port;
  std::string user;
  std::string dbname;
  int clients = 64;
  int threads = 2;
  int seconds = 10;
  std::string work_dir;  // the script and the per-transaction logs go here
};

struct StatementLatency {
  std::string label;
  double latency_ms = 0;
};

struct PgbenchResult {
  std::string command_line;
  double tps = 0;
  double latency_avg_ms = 0;
  int64_t transactions = 0;
  int64_t failed = 0;
  std::vector<StatementLatency> statements;  // from -r
  std::vector<Sample> samples;               // per transaction, from -l (end_us: Unix time)
  double cpu_seconds = 0;                    // pgbench's own user+system time
};

// Runs pgbench -n -M prepared -r -l with `script`. Errors when pgbench cannot run or exits
// non-zero (the message carries its output).
absl::StatusOr<PgbenchResult> RunPgbench(const PgbenchOptions& options, const ReplayScript& script);

}  // namespace turnout::bench

#endif  // TURNOUT_TOOLS_BENCH_PGBENCH_REPLAY_H_
