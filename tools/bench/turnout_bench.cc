// turnout-bench: measures Turnout against the targets of docs/design.md and prints plain numbers.
//
//   turnout-bench checkin [--tickets=2000] [--concurrency=64] [--seconds=10] [--durable=true]
//
// checkin: durable check-ins per second through gRPC, side by side with pgbench running the same
// per-scan SQL transaction on the same PostgreSQL, in one run:
//   1. starts an embedded PostgreSQL in a fresh data directory and an in-process TurnoutServer on
//   it;
//   2. sets up through gRPC one event with doors open, --tickets registrations and a DOOR token;
//   3. keeps --concurrency Scan calls in flight, every scan an accepted write (first entries, then
//      EXIT/ENTRY per ticket), recording each call's latency;
//   4. runs pgbench with --concurrency clients on a script replaying the transaction a lone scan
//      runs (PgScanStore::RecordScans, one-element arrays), built from the server's own query constants
//      (server/store/scan_queries.h), and with --pgbench_reference again with only the server's
//      --db_workers connections;
//   5. runs the floor: pgbench with the minimal durable check-in (insert the scan row, upsert the
//      presence row) at each of --floor_clients;
//   6. prints them all, the ratios (against the replay's and the floor's best client count), the
//      targets, and what each phase spent its time on.
// Every phase runs --warmup_seconds uncounted, then --seconds counted, and all are counted alike
// (see stats.h). Before each phase the database is vacuumed, analyzed and checkpointed.
// Exits 0 when it measured (targets missed or not), non-zero on any error.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client-lib/client.h"
#include "server/api/server.h"
#include "server/embedded_pg/embedded_postgres.h"
#include "tools/bench/fixture.h"
#include "tools/bench/floor_server.h"
#include "tools/bench/observe.h"
#include "tools/bench/offline_bench.h"
#include "tools/bench/pgbench_replay.h"
#include "tools/bench/register_load.h"
#include "tools/bench/scan_load.h"
#include "tools/bench/stats.h"
#include "tools/bench/watch_bench.h"

ABSL_FLAG(int, tickets, 2000, "registrations to create (and tickets to scan)");
ABSL_FLAG(int, concurrency, 64, "Scan calls in flight, and pgbench clients");
ABSL_FLAG(int, seconds, 10, "measured length of each phase, after the warm-up");
ABSL_FLAG(int, warmup_seconds, 2,
          "each phase first runs this long uncounted (pgbench connects and prepares then)");
ABSL_FLAG(bool, durable, true,
          "PostgreSQL fsyncs every commit (both phases use the same cluster and setting)");
ABSL_FLAG(
    std::string, data_dir, "",
    "directory for the embedded PostgreSQL; empty: a fresh temporary one, removed afterwards");
ABSL_FLAG(bool, keep_data_dir, false, "keep the temporary data directory (script, pgbench output)");
ABSL_FLAG(int, db_workers, 16, "the server's database connections (turnout-server's default)");
ABSL_FLAG(int, scan_batch, 32,
          "scans the server commits together at most (turnout-server's default; 1: one per scan)");
ABSL_FLAG(int, register_batch, 32,
          "register: registrations the server commits together at most (1: one per registration)");
ABSL_FLAG(int, capacity, 10000,
          "register: the event's places; past them registrations are waitlisted");
ABSL_FLAG(int, channels, 1, "gRPC channels (TCP connections) the door clients share");
ABSL_FLAG(std::string, scan_by, "code",
          "code: scan the signed ticket code, as a door does; registration: admit by registration");
ABSL_FLAG(std::string, pgbench, "/usr/lib/postgresql/15/bin/pgbench", "the pgbench binary");
ABSL_FLAG(int, pgbench_threads, 2, "pgbench -j");
ABSL_FLAG(bool, print_script, false, "print the generated pgbench script");
ABSL_FLAG(bool, pgbench_reference, true,
          "also run pgbench with as many clients as the server has database connections");
ABSL_FLAG(std::vector<std::string>, floor_clients,
          std::vector<std::string>({"8", "16", "32", "64"}),
          "client counts at which pgbench runs the floor (the minimal durable check-in); the best "
          "counts; empty: no floor");

namespace turnout::bench {
namespace {

namespace fs = std::filesystem;

// A backend publishes its statistics as it exits, and at most once a second while busy; an idle
// one that published less than a second ago waits for PostgreSQL's 10 s idle timeout
// (PGSTAT_IDLE_INTERVAL). So counters are read after that long without activity.
constexpr absl::Duration kIdleStatsFlushWait = absl::Seconds(11);
constexpr absl::Duration kExitStatsFlushWait = absl::Milliseconds(500);
constexpr absl::Duration kSampleInterval = absl::Milliseconds(100);
// docs/design.md, "Targets".
constexpr double kTargetRatio = 1.0;
constexpr double kTargetFloorRatio = 0.5;
constexpr double kTargetP99Ms = 20.0;

// Both phases start alike: no dead rows to skip, fresh statistics, no checkpoint pending.
// Empty tables are left alone, as autovacuum leaves them: analyzing one would tell the planner it
// is empty for good, and the first phase would then run seq scans as it fills the table.
absl::Status Settle(const std::string& connection_string) {
  try {
    pqxx::connection conn(connection_string);
    pqxx::nontransaction txn(conn);
    pqxx::result tables = txn.exec(
        "SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind = 'r'");
    for (const pqxx::row& t : tables) {
      const std::string table = t[0].as<std::string>();
      if (txn.exec1(absl::StrCat("SELECT EXISTS (SELECT 1 FROM ", table, ")"))[0].as<bool>()) {
        txn.exec(absl::StrCat("VACUUM ANALYZE ", table));
      }
    }
    txn.exec("CHECKPOINT");
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("VACUUM ANALYZE / CHECKPOINT: ", e.what()));
  }
}

absl::StatusOr<std::string> TicketIdOf(const std::string& connection_string, int64_t event_id,
                                       int64_t registration_id) {
  try {
    pqxx::connection conn(connection_string);
    pqxx::nontransaction txn(conn);
    pqxx::result r = txn.exec_params(
        "SELECT ticket_id FROM tickets WHERE event_id = $1 AND registration_id = $2 "
        "AND superseded_time IS NULL",
        event_id, registration_id);
    if (r.empty()) return absl::InternalError("the registration has no current ticket");
    return r[0][0].as<std::string>();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("looking up a ticket id: ", e.what()));
  }
}

// What a phase cost, beyond its own numbers.
struct PhaseCost {
  double seconds = 0;
  CpuSnapshot cpu;  // differences
  PgCounters pg;    // differences
  std::map<std::string, double> connections;
};

// Settles the database, runs `phase`, and says what it cost: CPU, WAL, rows, connection states.
absl::StatusOr<PhaseCost> Observe(const std::string& connection_string, pid_t postmaster,
                                  const std::function<absl::Status()>& phase) {
  if (absl::Status s = Settle(connection_string); !s.ok()) return s;
  absl::SleepFor(kExitStatsFlushWait);  // the settling backend publishes its counters as it exits
  absl::StatusOr<PgCounters> pg_before = ReadPgCounters(connection_string);
  if (!pg_before.ok()) return pg_before.status();
  ActivitySampler sampler(connection_string, kSampleInterval);
  const CpuSnapshot cpu_before = TakeCpuSnapshot(postmaster);
  const absl::Time start = absl::Now();
  sampler.Start();
  absl::Status status = phase();
  sampler.Stop();
  PhaseCost cost;
  cost.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  absl::SleepFor(absl::Milliseconds(200));  // let the postmaster reap pgbench's backends
  const CpuSnapshot cpu_after = TakeCpuSnapshot(postmaster);
  if (!status.ok()) return status;
  cost.cpu.machine_busy = cpu_after.machine_busy - cpu_before.machine_busy;
  cost.cpu.machine_total = cpu_after.machine_total - cpu_before.machine_total;
  cost.cpu.self = cpu_after.self - cpu_before.self;
  cost.cpu.postgres = cpu_after.postgres - cpu_before.postgres;
  for (const auto& [name, cpu] : cpu_after.self_threads) {
    auto before = cpu_before.self_threads.find(name);
    cost.cpu.self_threads[name] =
        cpu - (before == cpu_before.self_threads.end() ? 0.0 : before->second);
  }
  cost.connections = sampler.AverageConnections();
  absl::SleepFor(kIdleStatsFlushWait);  // the server's idle connections publish theirs
  absl::StatusOr<PgCounters> pg_after = ReadPgCounters(connection_string);
  if (!pg_after.ok()) return pg_after.status();
  cost.pg = *pg_after - *pg_before;
  return cost;
}

std::string Row(absl::string_view name, const Summary& m, int64_t errors) {
  return absl::StrFormat("  %-36s %9.1f %8.2f %8.2f %8.2f %8d %7d\n", name, m.per_second, m.p50_ms,
                         m.p99_ms, m.avg_ms, m.count, errors);
}

// One measured phase, for the cost table.
struct PhaseColumn {
  std::string name;
  PhaseCost cost;
  int64_t transactions = 0;
  double load_cpu = 0;  // CPU of a separate load generator (pgbench); 0 when in-process
  bool separate_load = false;
};

// Interference from other processes makes every number here suspect; say so.
constexpr double kMaxOtherCores = 0.15;

double OtherCores(const PhaseColumn& c) {
  return (c.cost.cpu.machine_busy - c.cost.cpu.self - c.cost.cpu.postgres - c.load_cpu) /
         c.cost.seconds;
}

void PrintCosts(int cores, const std::vector<PhaseColumn>& phases) {
  std::cout << absl::StrFormat("\n  %-44s",
                               absl::StrCat("where the time goes (CPU in cores, of ", cores, ")"));
  for (const PhaseColumn& p : phases) std::cout << absl::StrFormat(" %16s", p.name);
  std::cout << "\n";
  auto line = [&](absl::string_view label,
                  const std::function<std::string(const PhaseColumn&)>& f) {
    std::cout << absl::StrFormat("    %-42s", label);
    for (const PhaseColumn& p : phases) std::cout << absl::StrFormat(" %16s", f(p));
    std::cout << "\n";
  };
  auto num = [](double v, int decimals) { return absl::StrFormat("%.*f", decimals, v); };
  auto cores_of = [&](double cpu_seconds, const PhaseColumn& p) {
    return num(cpu_seconds / p.cost.seconds, 2);
  };
  auto per_txn_us = [&](double cpu_seconds, const PhaseColumn& p) {
    return p.transactions > 0 ? num(cpu_seconds / p.transactions * 1e6, 0) : std::string("-");
  };
  line("CPU busy, whole machine",
       [&](const PhaseColumn& p) { return cores_of(p.cost.cpu.machine_busy, p); });
  line("  turnout-bench (in-process server + load)",
       [&](const PhaseColumn& p) { return cores_of(p.cost.cpu.self, p); });
  auto threads_named = [](const PhaseColumn& p, bool workers) {
    double sum = 0;
    for (const auto& [name, cpu] : p.cost.cpu.self_threads) {
      if (name == "bench-sampler") continue;
      if ((name == "turnout-bench") == workers) sum += cpu;
    }
    return sum;
  };
  line("    database worker threads (handlers, libpq)",
       [&](const PhaseColumn& p) { return cores_of(threads_named(p, true), p); });
  line("    gRPC threads (server and load share them)",
       [&](const PhaseColumn& p) { return cores_of(threads_named(p, false), p); });
  line("  PostgreSQL", [&](const PhaseColumn& p) { return cores_of(p.cost.cpu.postgres, p); });
  line("  pgbench", [&](const PhaseColumn& p) {
    return p.separate_load ? cores_of(p.load_cpu, p) : std::string("-");
  });
  line("  other processes (interference)",
       [&](const PhaseColumn& p) { return num(OtherCores(p), 2); });
  line("CPU us per transaction: PostgreSQL",
       [&](const PhaseColumn& p) { return per_txn_us(p.cost.cpu.postgres, p); });
  line("  turnout-bench / pgbench", [&](const PhaseColumn& p) {
    return per_txn_us(p.separate_load ? p.load_cpu : p.cost.cpu.self, p);
  });
  line("WAL flushes (fsync) per second",
       [&](const PhaseColumn& p) { return num(p.cost.pg.wal_sync / p.cost.seconds, 0); });
  line("transactions per WAL flush", [&](const PhaseColumn& p) {
    return p.cost.pg.wal_sync > 0 ? num(double(p.transactions) / p.cost.pg.wal_sync, 1)
                                  : std::string("-");
  });
  line("WAL bytes per transaction", [&](const PhaseColumn& p) {
    return p.transactions > 0 ? num(double(p.cost.pg.wal_bytes) / p.transactions, 0)
                              : std::string("-");
  });
  auto per_txn = [&](int64_t n, const PhaseColumn& p) {
    return p.transactions > 0 ? num(double(n) / p.transactions, 1) : std::string("-");
  };
  line("table rows read / inserted / updated per txn", [&](const PhaseColumn& p) {
    return absl::StrCat(per_txn(p.cost.pg.rows_fetched, p), " / ",
                        per_txn(p.cost.pg.rows_inserted, p), " / ",
                        per_txn(p.cost.pg.rows_updated, p));
  });
  line("shared buffer hits / reads per txn", [&](const PhaseColumn& p) {
    return absl::StrCat(per_txn(p.cost.pg.blocks_hit, p), " / ", per_txn(p.cost.pg.blocks_read, p));
  });
  std::cout << "    database connections, average number in each state (pg_stat_activity):\n";
  std::set<std::string> states;
  for (const PhaseColumn& p : phases) {
    for (const auto& [state, n] : p.cost.connections) states.insert(state);
  }
  for (const std::string& state : states) {
    line(absl::StrCat("  ", state), [&](const PhaseColumn& p) {
      auto it = p.cost.connections.find(state);
      return num(it == p.cost.connections.end() ? 0.0 : it->second, 1);
    });
  }
  for (const PhaseColumn& p : phases) {
    if (OtherCores(p) > kMaxOtherCores) {
      std::cout << absl::StrFormat(
          "  WARNING: other processes used %.2f cores during the %s; its numbers are disturbed.\n",
          OtherCores(p), p.name);
    }
  }
}

int RunCheckin() {
  const int tickets = absl::GetFlag(FLAGS_tickets);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const bool durable = absl::GetFlag(FLAGS_durable);
  const std::string scan_by = absl::GetFlag(FLAGS_scan_by);
  const int channels = absl::GetFlag(FLAGS_channels);
  const absl::Duration warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));
  if (concurrency < 1 || seconds < 1 || warmup < absl::ZeroDuration() || channels < 1 ||
      tickets < 2 * concurrency) {
    std::cerr << "turnout-bench: need --concurrency >= 1, --seconds >= 1, --warmup_seconds >= 0, "
                 "--channels >= 1 and --tickets >= 2 x --concurrency\n";
    return 2;
  }
  if (scan_by != "code" && scan_by != "registration") {
    std::cerr << "turnout-bench: --scan_by must be code or registration\n";
    return 2;
  }
  const bool by_code = scan_by == "code";

  // The data directory: as root, the PostgreSQL system user must be able to enter it.
  std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  std::unique_ptr<BenchDir> temporary;
  if (data_dir.empty()) {
    absl::StatusOr<std::unique_ptr<BenchDir>> made =
        BenchDir::Make("checkin", absl::GetFlag(FLAGS_keep_data_dir));
    if (!made.ok()) {
      std::cerr << "turnout-bench: " << made.status().message() << "\n";
      return 1;
    }
    temporary = *std::move(made);
    data_dir = temporary->path();
  }
  auto fail = [](absl::string_view what, const absl::Status& s) {
    std::cerr << "turnout-bench: " << what << ": " << s.message() << "\n";
    return 1;
  };

  // 1. PostgreSQL and the server. The bench owns the cluster so it can hand pgbench the socket.
  store::EmbeddedPostgresOptions pg_options;
  pg_options.data_dir = data_dir;
  pg_options.durable = durable;
  absl::StatusOr<std::unique_ptr<store::EmbeddedPostgres>> pg =
      store::EmbeddedPostgres::Start(pg_options);
  if (!pg.ok()) return fail("starting PostgreSQL", pg.status());
  const std::string conninfo = (*pg)->ConnectionString();
  api::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.data_dir = data_dir;
  server_options.database = conninfo;
  server_options.db_workers = absl::GetFlag(FLAGS_db_workers);
  server_options.scan_batch = absl::GetFlag(FLAGS_scan_batch);
  absl::StatusOr<std::unique_ptr<api::TurnoutServer>> server =
      api::TurnoutServer::Start(server_options);
  if (!server.ok()) return fail("starting the server", server.status());
  const std::string target = absl::StrCat("127.0.0.1:", (*server)->port());
  absl::StatusOr<pid_t> postmaster = PostmasterPid((fs::path(data_dir) / "pg").string());
  if (!postmaster.ok()) return fail("finding the postmaster", postmaster.status());
  PgbenchOptions pgbench;
  try {
    pqxx::connection conn(conninfo);
    pgbench.host = conn.hostname() ? conn.hostname() : "";
    pgbench.port = conn.port() ? conn.port() : "";
    pgbench.user = conn.username();
    pgbench.dbname = conn.dbname();
  } catch (const std::exception& e) {
    return fail("connecting to PostgreSQL", absl::UnavailableError(e.what()));
  }

  // 2. Set-up through gRPC.
  absl::StatusOr<std::string> admin_token = ReadToken((*server)->admin_token_path());
  if (!admin_token.ok()) return fail("reading the ADMIN token", admin_token.status());
  absl::StatusOr<Fixture> fixture = SetUp(target, *admin_token, tickets);
  if (!fixture.ok()) return fail("setting up", fixture.status());

  // The replay script now, so a drift from the server's statements fails before any load.
  ReplayParams replay;
  replay.event_id = fixture->event_id;
  replay.device_id = fixture->door_token_id;
  replay.entrance_checkpoint_id = fixture->entrance_checkpoint_id;
  replay.first_registration_id = fixture->first_registration_id;
  replay.registrations = tickets;
  replay.clients = concurrency;
  replay.scanned_at_us = absl::ToUnixMicros(absl::Now());
  if (by_code) {
    absl::StatusOr<std::string> tid =
        TicketIdOf(conninfo, fixture->event_id, fixture->first_registration_id + tickets / 2);
    if (!tid.ok()) return fail("setting up", tid.status());
    replay.ticket_id_hex = *tid;
  }
  absl::StatusOr<ReplayScript> script = BuildScanReplay(replay);
  if (!script.ok()) return fail("building the pgbench script", script.status());

  // 3. gRPC phase, once the set-up's counters are published (so they are not counted in it).
  absl::SleepFor(kIdleStatsFlushWait);
  ScanLoadOptions load;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one TCP connection per channel
    auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(10)))) {
      return fail("connecting to the server", absl::UnavailableError(target));
    }
    load.channels.push_back(std::move(channel));
  }
  load.door_token = fixture->door_token;
  load.event = fixture->event;
  load.tickets = fixture->tickets;
  load.by_code = by_code;
  load.concurrency = concurrency;
  load.duration = warmup + absl::Seconds(seconds);
  ScanLoadResult grpc_result;
  absl::StatusOr<PhaseCost> grpc_cost = Observe(conninfo, *postmaster, [&] {
    grpc_result = RunScanLoad(load);
    return absl::OkStatus();
  });
  if (!grpc_cost.ok()) return fail("gRPC phase", grpc_cost.status());

  // 4. pgbench phase, on the same cluster and tickets.
  pgbench.pgbench = absl::GetFlag(FLAGS_pgbench);
  pgbench.work_dir = data_dir;
  pgbench.seconds = static_cast<int>(absl::ToInt64Seconds(warmup)) + seconds;
  auto run_pgbench = [&](const ReplayScript& replay_script, int clients,
                         PgbenchResult* result) -> absl::StatusOr<PhaseCost> {
    PgbenchOptions o = pgbench;
    o.clients = clients;
    o.threads = std::min(absl::GetFlag(FLAGS_pgbench_threads), clients);
    return Observe(conninfo, *postmaster, [&]() -> absl::Status {
      absl::StatusOr<PgbenchResult> run = RunPgbench(o, replay_script);
      if (!run.ok()) return run.status();
      *result = *std::move(run);
      return absl::OkStatus();
    });
  };
  PgbenchResult pg_result;
  absl::StatusOr<PhaseCost> pg_cost = run_pgbench(*script, concurrency, &pg_result);
  if (!pg_cost.ok()) return fail("pgbench phase", pg_cost.status());
  // For reference: PostgreSQL with only as many connections as the server's pool.
  const int pool = server_options.db_workers;
  const bool reference = absl::GetFlag(FLAGS_pgbench_reference) && pool != concurrency;
  PgbenchResult ref_result;
  absl::StatusOr<PhaseCost> ref_cost = PhaseCost{};
  if (reference) {
    ReplayParams ref_params = replay;
    ref_params.clients = pool;
    absl::StatusOr<ReplayScript> ref_script = BuildScanReplay(ref_params);
    if (!ref_script.ok()) return fail("building the pgbench script", ref_script.status());
    ref_cost = run_pgbench(*ref_script, pool, &ref_result);
    if (!ref_cost.ok()) return fail("reference pgbench phase", ref_cost.status());
  }

  // The floor: the minimal check-in transaction at each client count; the best one counts.
  struct FloorRun {
    int clients = 0;
    PgbenchResult result;
    PhaseCost cost;
    Summary summary;
  };
  std::vector<FloorRun> floors;
  for (const std::string& text : absl::GetFlag(FLAGS_floor_clients)) {
    FloorRun run;
    if (!absl::SimpleAtoi(text, &run.clients) || run.clients < 1 || run.clients > tickets) {
      std::cerr << "turnout-bench: --floor_clients: " << text
                << " is not a client count between 1 and --tickets\n";
      return 2;
    }
    ReplayParams floor_params = replay;
    floor_params.clients = run.clients;
    absl::StatusOr<ReplayScript> floor_script = BuildMinimalCheckin(floor_params);
    if (!floor_script.ok()) return fail("building the floor script", floor_script.status());
    absl::StatusOr<PhaseCost> cost = run_pgbench(*floor_script, run.clients, &run.result);
    if (!cost.ok()) return fail("floor phase", cost.status());
    run.cost = *cost;
    run.summary = Summarize(run.result.samples, warmup);
    floors.push_back(std::move(run));
  }
  const FloorRun* best_floor = nullptr;
  for (const FloorRun& f : floors) {
    if (best_floor == nullptr || f.summary.per_second > best_floor->summary.per_second) {
      best_floor = &f;
    }
  }

  (*server)->Shutdown();
  (void)(*pg)->Stop();

  // 5. Report.
  const Summary g = Summarize(grpc_result.samples, warmup);
  const Summary p = Summarize(pg_result.samples, warmup);
  const Summary r = reference ? Summarize(ref_result.samples, warmup) : Summary{};
  int64_t errors = grpc_result.errors + pg_result.failed + ref_result.failed;
  for (const FloorRun& f : floors) errors += f.result.failed;
  // Against the replay at its best client count: the one the server's own pool allows, or one
  // connection per scan in flight.
  const bool reference_best = reference && r.per_second > p.per_second;
  const double replay_best = reference_best ? r.per_second : p.per_second;
  const double ratio = g.per_second / replay_best;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());

  std::cout << "turnout-bench checkin: durable check-ins through gRPC vs pgbench, same PostgreSQL, "
               "same run\n";
  std::cout << absl::StrFormat(
      "  machine: %d CPUs; PostgreSQL 15 embedded in %s (%s)\n", cores, data_dir,
      durable ? "durable: fsync and synchronous_commit on" : "NOT durable: fsync off");
  std::cout << absl::StrFormat(
      "  server: in-process TurnoutServer, %d database workers, up to %d scans per commit, "
      "plaintext gRPC on %s, %d channel%s\n",
      server_options.db_workers, server_options.scan_batch, target, channels,
      channels == 1 ? "" : "s");
  std::cout << absl::StrFormat(
      "  load: %d in flight; each phase %s warm-up (not counted) + %d s measured; %d tickets "
      "scanned by %s\n",
      concurrency, absl::FormatDuration(warmup), seconds, tickets, scan_by);
  std::cout << absl::StrFormat(
      "  set-up: %d registrations in %.1f s (%.0f/s); gRPC scans: %d first entries, %d exits, %d "
      "re-entries\n",
      tickets, absl::ToDoubleSeconds(fixture->register_time),
      tickets / absl::ToDoubleSeconds(fixture->register_time), grpc_result.first_entries,
      grpc_result.exits, grpc_result.reentries);
  std::cout << "  pgbench: " << pg_result.command_line << "\n";
  std::cout << absl::StrFormat(
      "  pgbench's own summary of the whole run (warm-up included): tps %.1f, latency average "
      "%.2f ms\n\n",
      pg_result.tps, pg_result.latency_avg_ms);
  std::cout << absl::StrFormat("  %-36s %9s %8s %8s %8s %8s %7s\n", "", "per s", "p50 ms", "p99 ms",
                               "avg ms", "ok", "errors");
  std::cout << Row(absl::StrCat("gRPC Scan, ", concurrency, " in flight"), g, grpc_result.errors);
  std::cout << Row(absl::StrCat("pgbench same txn, -c ", concurrency, " -j ",
                                std::min(absl::GetFlag(FLAGS_pgbench_threads), concurrency)),
                   p, pg_result.failed);
  if (reference) {
    std::cout << Row(absl::StrCat("pgbench same txn, -c ", pool, " -j ",
                                  std::min(absl::GetFlag(FLAGS_pgbench_threads), pool)),
                     r, ref_result.failed);
  }
  for (const FloorRun& f : floors) {
    std::cout << Row(
        absl::StrCat("floor (minimal txn), -c ", f.clients, &f == best_floor ? " *" : ""),
        f.summary, f.result.failed);
  }
  std::cout << absl::StrFormat(
      "  %-36s %8.2fx\n",
      absl::StrCat("gRPC / pgbench same txn (best, -c ", reference_best ? pool : concurrency, ")"),
      ratio);
  const double floor_ratio =
      best_floor != nullptr ? g.per_second / best_floor->summary.per_second : 0;
  if (best_floor != nullptr) {
    std::cout << absl::StrFormat("  %-36s %8.2fx\n",
                                 absl::StrCat("gRPC / floor (best, -c ", best_floor->clients, ")"),
                                 floor_ratio);
  }

  const bool ratio_met = ratio >= kTargetRatio;
  const bool p99_met = g.p99_ms <= kTargetP99Ms;
  std::cout << absl::StrFormat("\n  %-44s %10s  %s\n", "target (docs/design.md)", "measured",
                               "met");
  std::cout << absl::StrFormat("  %-44s %9.2fx  %s\n", "gRPC check-ins/s >= 1.0 x pgbench replay",
                               ratio, ratio_met ? "yes" : "NO");
  if (best_floor != nullptr) {
    std::cout << absl::StrFormat("  %-44s %9.2fx  %s\n", "gRPC check-ins/s >= 0.5 x floor",
                                 floor_ratio, floor_ratio >= kTargetFloorRatio ? "yes" : "NO");
  }
  std::cout << absl::StrFormat("  %-44s %7.2f ms  %s\n",
                               absl::StrCat("gRPC p99 <= 20 ms at ", concurrency, " in flight"),
                               g.p99_ms, p99_met ? "yes" : "NO");

  std::vector<PhaseColumn> columns = {
      {"gRPC", *grpc_cost, grpc_result.scans, 0, false},
      {absl::StrCat("pgbench -c ", concurrency), *pg_cost, pg_result.transactions,
       pg_result.cpu_seconds, true},
  };
  if (reference) {
    columns.push_back({absl::StrCat("pgbench -c ", pool), *ref_cost, ref_result.transactions,
                       ref_result.cpu_seconds, true});
  }
  if (best_floor != nullptr) {
    columns.push_back({absl::StrCat("floor -c ", best_floor->clients), best_floor->cost,
                       best_floor->result.transactions, best_floor->result.cpu_seconds, true});
  }
  PrintCosts(cores, columns);

  std::cout << "\n  pgbench per-statement latency in ms (-r), the transaction of a lone scan (RecordScans):\n";
  std::cout << absl::StrFormat("    %10s %10s\n", absl::StrCat("-c ", concurrency),
                               reference ? absl::StrCat("-c ", pool) : "");
  for (size_t i = 0; i < pg_result.statements.size(); ++i) {
    const StatementLatency& s = pg_result.statements[i];
    const std::string ref = reference && i < ref_result.statements.size()
                                ? absl::StrFormat("%10.3f", ref_result.statements[i].latency_ms)
                                : std::string(10, ' ');
    std::cout << absl::StrFormat("    %10.3f %s  %s\n", s.latency_ms, ref, s.label);
  }
  if (absl::GetFlag(FLAGS_print_script)) {
    std::cout << "\n  pgbench script:\n" << script->text;
  }
  for (const std::string& e : grpc_result.error_samples) {
    std::cout << "  gRPC error: " << e << "\n";
  }
  if (temporary && absl::GetFlag(FLAGS_keep_data_dir)) std::cout << "  kept " << data_dir << "\n";
  std::cout.flush();
  return (errors > 0 || g.count == 0 || p.count == 0) ? 1 : 0;
}


// The target of `turnout-bench register` (docs/benchmarks.md, "register").
constexpr double kTargetRegistrationsPerSecond = 2000;

// turnout-bench register: durable public registrations per second, with breakout choices, on an
// event that fills up.
int RunRegister() {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const int capacity = absl::GetFlag(FLAGS_capacity);
  const bool durable = absl::GetFlag(FLAGS_durable);
  const absl::Duration warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));
  if (concurrency < 1 || seconds < 1 || warmup < absl::ZeroDuration() || capacity < 1) {
    std::cerr << "turnout-bench: need --concurrency >= 1, --seconds >= 1, --warmup_seconds >= 0 "
                 "and --capacity >= 1\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<BenchDir>> dir =
      BenchDir::Make("register", absl::GetFlag(FLAGS_keep_data_dir));
  auto fail = [](absl::string_view what, const absl::Status& s) {
    std::cerr << "turnout-bench: " << what << ": " << s.message() << "\n";
    return 1;
  };
  if (!dir.ok()) return fail("making the data directory", dir.status());
  const std::string data_dir = (*dir)->path();

  store::EmbeddedPostgresOptions pg_options;
  pg_options.data_dir = data_dir;
  pg_options.durable = durable;
  absl::StatusOr<std::unique_ptr<store::EmbeddedPostgres>> pg =
      store::EmbeddedPostgres::Start(pg_options);
  if (!pg.ok()) return fail("starting PostgreSQL", pg.status());
  const std::string conninfo = (*pg)->ConnectionString();
  api::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.data_dir = data_dir;
  server_options.database = conninfo;
  server_options.db_workers = absl::GetFlag(FLAGS_db_workers);
  server_options.register_batch = absl::GetFlag(FLAGS_register_batch);
  // Every call comes from this one address: the per-address limits for anonymous calls
  // (--register_rate/--register_burst, --anonymous_rate/--anonymous_burst of turnout-server)
  // would refuse all but a few. They are lifted, and the report says so.
  constexpr double kUnlimited = 1e9;
  server_options.register_rate = kUnlimited;
  server_options.register_burst = kUnlimited;
  server_options.anonymous_rate = kUnlimited;
  server_options.anonymous_burst = kUnlimited;
  absl::StatusOr<std::unique_ptr<api::TurnoutServer>> server =
      api::TurnoutServer::Start(server_options);
  if (!server.ok()) return fail("starting the server", server.status());
  const std::string target = absl::StrCat("127.0.0.1:", (*server)->port());
  absl::StatusOr<pid_t> postmaster = PostmasterPid((fs::path(data_dir) / "pg").string());
  if (!postmaster.ok()) return fail("finding the postmaster", postmaster.status());

  // The event, published, with two rounds of three breakouts that fill up too.
  absl::StatusOr<std::string> admin_token = ReadToken((*server)->admin_token_path());
  if (!admin_token.ok()) return fail("reading the ADMIN token", admin_token.status());
  client::ClientOptions admin_options;
  admin_options.target = target;
  admin_options.token = *admin_token;
  absl::StatusOr<std::unique_ptr<client::Client>> admin = client::Client::Connect(admin_options);
  if (!admin.ok()) return fail("connecting", admin.status());
  const absl::Time now = absl::Now();
  v1::CreateEventRequest create;
  v1::Event* e = create.mutable_event();
  e->set_title("turnout-bench registration");
  e->set_time_zone("UTC");
  e->mutable_doors_open_time()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(23)));
  e->mutable_start_time()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(24)));
  e->mutable_end_time()->set_seconds(absl::ToUnixSeconds(now + absl::Hours(30)));
  e->set_state(v1::Event::PUBLISHED);
  e->set_capacity(capacity);
  create.set_request_id(client::NewRequestId());
  absl::StatusOr<v1::Event> event = (*admin)->CreateEvent(create);
  if (!event.ok()) return fail("creating the event", event.status());
  RegisterLoadOptions load;
  load.event = event->name();
  constexpr int kRounds = 2;
  constexpr int kBreakoutsPerRound = 3;
  for (int round = 1; round <= kRounds; ++round) {
    load.rounds.emplace_back();
    for (int b = 0; b < kBreakoutsPerRound; ++b) {
      v1::CreateSessionRequest s;
      s.set_parent(event->name());
      s.set_request_id(client::NewRequestId());
      v1::Session* session = s.mutable_session();
      session->set_title(absl::StrCat("Breakout ", round, "-", b));
      session->set_kind(v1::Session::BREAKOUT);
      session->set_round(round);
      session->set_room(absl::StrCat("Room ", b));
      session->mutable_start_time()->set_seconds(
          absl::ToUnixSeconds(now + absl::Hours(24 + round)));
      session->mutable_end_time()->set_seconds(
          absl::ToUnixSeconds(now + absl::Hours(25 + round)));
      session->set_capacity(capacity / kBreakoutsPerRound / 2);
      absl::StatusOr<v1::Session> made = (*admin)->CreateSession(s);
      if (!made.ok()) return fail("creating a breakout", made.status());
      load.rounds.back().push_back(made->name());
    }
  }

  load.channels.push_back(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  load.concurrency = concurrency;
  load.duration = warmup + absl::Seconds(seconds);
  absl::SleepFor(kIdleStatsFlushWait);
  RegisterLoadResult result;
  absl::StatusOr<PhaseCost> cost = Observe(conninfo, *postmaster, [&] {
    result = RunRegisterLoad(load);
    return absl::OkStatus();
  });
  if (!cost.ok()) return fail("register phase", cost.status());
  // The counters agree with the rows they count.
  int64_t rows_confirmed = 0, counted_confirmed = 0;
  try {
    pqxx::connection conn(conninfo);
    pqxx::nontransaction txn(conn);
    absl::StatusOr<int64_t> event_id = LastId(event->name());
    if (!event_id.ok()) return fail("reading the event id", event_id.status());
    rows_confirmed = txn.exec_params("SELECT count(*) FROM registrations WHERE event_id = $1 "
                                     "AND status = 1", *event_id)[0][0].as<int64_t>();
    counted_confirmed = txn.exec_params("SELECT confirmed_count FROM events WHERE id = $1",
                                        *event_id)[0][0].as<int64_t>();
  } catch (const std::exception& ex) {
    return fail("checking the counters", absl::InternalError(ex.what()));
  }
  (*server)->Shutdown();
  (void)(*pg)->Stop();

  const Summary s = Summarize(result.samples, warmup);
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  std::cout << "turnout-bench register: durable public registrations through gRPC\n";
  std::cout << absl::StrFormat(
      "  machine: %d CPUs; PostgreSQL 15 embedded in %s (%s)\n", cores, data_dir,
      durable ? "durable: fsync and synchronous_commit on" : "NOT durable: fsync off");
  std::cout << absl::StrFormat(
      "  server: in-process TurnoutServer, %d database workers, up to %d registrations per "
      "commit; per-address limits for anonymous calls lifted (all load comes from 127.0.0.1)\n",
      server_options.db_workers, server_options.register_batch);
  std::cout << absl::StrFormat(
      "  load: %d anonymous Register calls in flight, each choosing one of %d breakouts in each "
      "of %d rounds; event capacity %d, breakouts %d seats; %s warm-up + %d s measured\n",
      concurrency, kBreakoutsPerRound, kRounds, capacity, capacity / kBreakoutsPerRound / 2,
      absl::FormatDuration(warmup), seconds);
  std::cout << absl::StrFormat(
      "  outcome: %d registered (%d confirmed, %d waitlisted), %d errors; confirmed counter %d, "
      "count(*) %d: %s\n\n",
      result.registered, result.confirmed, result.waitlisted, result.errors, counted_confirmed,
      rows_confirmed, counted_confirmed == rows_confirmed ? "equal" : "DIFFERENT");
  std::cout << absl::StrFormat("  %-36s %9s %8s %8s %8s %8s %7s\n", "", "per s", "p50 ms", "p99 ms",
                               "avg ms", "ok", "errors");
  std::cout << Row(absl::StrCat("gRPC Register, ", concurrency, " in flight"), s, result.errors);
  const bool met = s.per_second >= kTargetRegistrationsPerSecond;
  std::cout << absl::StrFormat("\n  %-44s %10.1f  %s\n",
                               "target: registrations/s >= 2000 (durable)", s.per_second,
                               met ? "PASS" : "FAIL");
  PrintCosts(cores, {{"gRPC register", *cost, result.registered, 0, false}});
  for (const std::string& err : result.error_samples) std::cout << "  gRPC error: " << err << "\n";
  std::cout.flush();
  return (result.errors > 0 || s.count == 0 || counted_confirmed != rows_confirmed) ? 1 : 0;
}

}  // namespace
}  // namespace turnout::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures Turnout against the targets of docs/design.md.\n"
      "  turnout-bench checkin [--tickets=2000] [--concurrency=64] [--seconds=10] "
      "[--durable=true]\n"
      "  turnout-bench register [--concurrency=64] [--seconds=10] [--capacity=10000]\n"
      "  turnout-bench offline [--offline_tickets=5000] [--upload_scans=10000]\n"
      "  turnout-bench watch [--subscribers=10000] [--connections=100] [--scan_subscribers=1000]\n"
      "checkin: durable check-ins/s and latency through gRPC vs pgbench replaying the same SQL.\n"
      "register: durable anonymous registrations/s with breakout choices on an event that\n"
      "          fills up; p50/p99 and the CPU split (server, PostgreSQL, load).\n"
      "offline: a door's verify + decide vs raw Ed25519 verify; bundle size and build time;\n"
      "         UploadScans from three devices next to online Scan.\n"
      "watch: WatchAttendance on turnout-server processes vs a bare gRPC fan-out of the same\n"
      "       size: memory per subscriber, broadcast and scan-to-screen latency, scan throughput\n"
      "       with watchers, across replicas. A quick look: --subscribers=200 "
      "--scan_subscribers=100\n"
      "       --connections=10 --seconds=2 --scan_rate=50.");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  const std::string command = args.size() == 2 ? args[1] : "";
  if (command == "checkin") return turnout::bench::RunCheckin();
  if (command == "register") return turnout::bench::RunRegister();
  if (command == "offline") return turnout::bench::RunOffline();
  if (command == "watch") return turnout::bench::RunWatch();
  // The bare fan-out `watch` runs as a child process of its own (floor_server.h).
  if (command == "floor-server") return turnout::bench::RunFloorServer();
  std::cerr << absl::ProgramUsageMessage() << "\n";
  return 2;
}
