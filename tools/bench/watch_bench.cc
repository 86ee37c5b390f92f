#include "tools/bench/watch_bench.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client-lib/client.h"
#include "server/embedded_pg/embedded_postgres.h"
#include "tools/bench/fixture.h"
#include "tools/bench/paced_scans.h"
#include "tools/bench/process.h"
#include "tools/bench/scan_load.h"
#include "tools/bench/stats.h"
#include "tools/bench/watch_stats.h"
#include "tools/bench/watchers.h"

ABSL_DECLARE_FLAG(int, seconds);
ABSL_DECLARE_FLAG(int, warmup_seconds);
ABSL_DECLARE_FLAG(bool, durable);
ABSL_DECLARE_FLAG(int, db_workers);
ABSL_DECLARE_FLAG(int, scan_batch);
ABSL_DECLARE_FLAG(int, concurrency);
ABSL_DECLARE_FLAG(bool, keep_data_dir);
ABSL_DECLARE_FLAG(absl::Duration, floor_interval);
ABSL_DECLARE_FLAG(int, update_bytes);

ABSL_FLAG(int, subscribers, 10000, "watch: streams in the fan-out comparison (floor and Turnout)");
ABSL_FLAG(int, connections, 100, "watch: TCP connections those streams share, evenly");
ABSL_FLAG(int, scan_subscribers, 1000, "watch: watchers on replica A while the doors scan");
ABSL_FLAG(int, remote_subscribers, 100,
          "watch: watchers on replica B (another turnout-server on the same PostgreSQL)");
ABSL_FLAG(double, scan_rate, 200, "watch: scans per second for scan-to-screen latency");
ABSL_FLAG(double, driver_scan_rate, 4,
          "watch: scans per second that make Turnout's updates in the fan-out comparison (one "
          "per 250 ms: as many updates as the bare fan-out broadcasts)");
ABSL_FLAG(absl::Duration, watch_interval, absl::Milliseconds(25),
          "watch: turnout-server's --watch_interval (the least time between two updates of one "
          "event)");
ABSL_FLAG(int, idle_scans, 10, "watch: single scans one second apart, on an idle feed");
ABSL_FLAG(std::string, server_binary, "",
          "watch: the turnout-server to run; empty: ../server/turnout-server beside this binary");

namespace turnout::bench {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::turnout::v1;

// docs/benchmarks.md, from the live attendance issue.
constexpr double kTargetKibPerSubscriber = 50;
constexpr double kTargetP99VsFloor = 1.25;
constexpr double kTargetScanToScreenP99Ms = 100;
constexpr double kTargetThroughputRatio = 0.9;
constexpr double kTargetCrossReplicaP99Ms = 1000;
constexpr int kSessions = 3;         // an event of 4 checkpoints: an update of ~300 bytes
constexpr int kDriverTickets = 64;   // cycled ENTRY/EXIT by the driver scans
constexpr int kIdleGapSeconds = 1;

const char* Verdict(bool met) { return met ? "PASS" : "FAIL"; }

int64_t NowNs() { return absl::ToUnixNanos(absl::Now()); }

absl::StatusOr<std::vector<std::string>> DashboardTokens(const std::string& target,
                                                         const std::string& admin_token,
                                                         const std::string& event, int count) {
  client::ClientOptions options;
  options.target = target;
  options.token = admin_token;
  absl::StatusOr<std::unique_ptr<client::Client>> admin = client::Client::Connect(options);
  if (!admin.ok()) return admin.status();
  std::vector<std::string> tokens;
  for (int i = 0; i < count; ++i) {
    v1::CreateDeviceTokenRequest request;
    request.set_role(v1::ROLE_DASHBOARD);
    request.set_event(event);
    request.set_label(absl::StrCat("turnout-bench screen ", i));
    absl::StatusOr<v1::CreateDeviceTokenResponse> token = (*admin)->CreateDeviceToken(request);
    if (!token.ok()) return token.status();
    tokens.push_back(token->secret());
  }
  return tokens;
}

// Rooms, so the event's counts are as large as a real program's.
absl::Status AddSessions(const std::string& target, const std::string& admin_token,
                         const std::string& event) {
  client::ClientOptions options;
  options.target = target;
  options.token = admin_token;
  absl::StatusOr<std::unique_ptr<client::Client>> admin = client::Client::Connect(options);
  if (!admin.ok()) return admin.status();
  const absl::Time start = absl::Now() + absl::Hours(1);
  for (int i = 0; i < kSessions; ++i) {
    v1::CreateSessionRequest request;
    request.set_parent(event);
    request.set_request_id(client::NewRequestId());
    v1::Session* s = request.mutable_session();
    s->set_title(absl::StrCat("Breakout ", i + 1));
    s->set_kind(v1::Session::BREAKOUT);
    s->set_track(absl::StrCat("Track ", i + 1));
    s->set_room(absl::StrCat("Room ", 101 + i));
    s->set_round(1);
    s->mutable_start_time()->set_seconds(absl::ToUnixSeconds(start));
    s->mutable_end_time()->set_seconds(absl::ToUnixSeconds(start + absl::Hours(1)));
    s->set_capacity(100);
    if (absl::Status st = (*admin)->CreateSession(request).status(); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CheckedIn(const std::string& target, const std::string& admin_token,
                                  const std::string& event, const std::string& entrance) {
  client::ClientOptions options;
  options.target = target;
  options.token = admin_token;
  absl::StatusOr<std::unique_ptr<client::Client>> admin = client::Client::Connect(options);
  if (!admin.ok()) return admin.status();
  v1::GetAttendanceRequest request;
  request.set_event(event);
  absl::StatusOr<v1::Attendance> counts = (*admin)->GetAttendance(request);
  if (!counts.ok()) return counts.status();
  for (const v1::CheckpointAttendance& c : counts->checkpoints()) {
    if (c.checkpoint() == entrance) return c.checked_in();
  }
  return absl::NotFoundError("the entrance is not in the counts");
}

// One fan-out measured: what the server process cost and what the streams received.
struct FanOut {
  LatencySummary latency;
  int64_t updates = 0;           // distinct updates made in the window that reached a stream
  int64_t messages = 0;          // fresh messages received in the window
  double rss_per_subscriber = 0;  // bytes
  double cpu_seconds = 0;        // server CPU in the window
  int sockets_opened = 0;
  int message_bytes = 0;
  int ended = 0;
  std::vector<std::string> end_samples;
};

// With the server at `pid` serving, opens `count` streams with `open`, lets them run, measures.
absl::StatusOr<FanOut> MeasureFanOut(
    pid_t pid, int count, const std::function<std::unique_ptr<StreamSet>()>& open,
    absl::Duration warmup, absl::Duration measured, const std::function<void()>& on_ready,
    const std::function<void()>& before_stop) {
  FanOut f;
  const int64_t rss_before = ProcessRssBytes(pid);
  const int sockets_before = ProcessSocketCount(pid);
  std::unique_ptr<StreamSet> streams = open();
  if (absl::Status s = streams->WaitReady(absl::Seconds(120)); !s.ok()) {
    streams->Stop();
    return s;
  }
  on_ready();
  absl::SleepFor(warmup);
  const int64_t from = NowNs();
  const double cpu_before = ProcessCpuSeconds(pid);
  absl::SleepFor(measured);
  f.cpu_seconds = ProcessCpuSeconds(pid) - cpu_before;
  const int64_t to = NowNs();
  f.rss_per_subscriber = static_cast<double>(ProcessRssBytes(pid) - rss_before) / count;
  f.sockets_opened = ProcessSocketCount(pid) - sockets_before;
  before_stop();
  absl::SleepFor(absl::Seconds(1));  // the window's last updates arrive
  f.ended = streams->ended();
  f.end_samples = streams->end_samples();
  const std::vector<std::vector<Received>> received = streams->Stop();
  std::vector<int64_t> latencies = BroadcastLatencies(received, from, to);
  f.messages = static_cast<int64_t>(latencies.size());
  f.latency = SummarizeLatencies(std::move(latencies));
  f.updates = DistinctUpdates(received, from, to);
  for (const auto& stream : received) {
    if (!stream.empty()) {
      f.message_bytes = stream.back().bytes;
      break;
    }
  }
  return f;
}

std::vector<BenchTicket> Slice(const std::vector<BenchTicket>& all, size_t* next, size_t n) {
  std::vector<BenchTicket> out(all.begin() + *next, all.begin() + *next + n);
  *next += n;
  return out;
}

std::vector<int64_t> StartsOf(const std::vector<PacedScan>& scans, int* errors,
                              std::string* error_sample) {
  std::vector<int64_t> starts;
  for (const PacedScan& s : scans) {
    starts.push_back(s.started_ns);
    if (!s.ok) {
      ++*errors;
      if (error_sample->empty()) *error_sample = s.error;
    }
  }
  return starts;
}

LatencySummary ScanLatency(const std::vector<PacedScan>& scans) {
  std::vector<int64_t> ns;
  for (const PacedScan& s : scans) ns.push_back(s.answered_ns - s.started_ns);
  return SummarizeLatencies(std::move(ns));
}

}  // namespace

int RunWatch() {
  const int subscribers = absl::GetFlag(FLAGS_subscribers);
  const int connections = absl::GetFlag(FLAGS_connections);
  const int scan_subscribers = absl::GetFlag(FLAGS_scan_subscribers);
  const int remote_subscribers = absl::GetFlag(FLAGS_remote_subscribers);
  const double scan_rate = absl::GetFlag(FLAGS_scan_rate);
  const double driver_rate = absl::GetFlag(FLAGS_driver_scan_rate);
  const int idle_scans = absl::GetFlag(FLAGS_idle_scans);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const absl::Duration measured = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  const absl::Duration warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds));
  if (subscribers < 1 || connections < 1 || scan_subscribers < 1 || remote_subscribers < 1 ||
      scan_rate <= 0 || driver_rate <= 0 || idle_scans < 1 || concurrency < 1 ||
      measured < absl::Seconds(1) || warmup < absl::ZeroDuration()) {
    std::cerr << "turnout-bench watch: --subscribers, --connections, --scan_subscribers, "
                 "--remote_subscribers, --idle_scans, --concurrency and --seconds must be >= 1; "
                 "--scan_rate and --driver_scan_rate > 0; --warmup_seconds >= 0\n";
    return 2;
  }
  // Each watcher needs a slot of its token: a token holds at most 200 (server/api/server.cc).
  const int tokens_needed = std::max(connections, (subscribers + 199) / 200);
  const int64_t open_files = RaiseOpenFileLimit();
  std::string server_binary = absl::GetFlag(FLAGS_server_binary);
  if (server_binary.empty()) {
    server_binary = (fs::path(SelfDirectory()).parent_path() / "server" / "turnout-server").string();
  }
  std::error_code ec;
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  if (!fs::exists(server_binary)) {
    std::cerr << "turnout-bench watch: no turnout-server at " << server_binary
              << "; build it (cmake --build build --target turnout-server) or pass "
                 "--server_binary\n";
    return 2;
  }

  absl::StatusOr<std::unique_ptr<BenchDir>> dir =
      BenchDir::Make("watch", absl::GetFlag(FLAGS_keep_data_dir));
  if (!dir.ok()) {
    std::cerr << "turnout-bench: " << dir.status().message() << "\n";
    return 1;
  }
  const std::string data_dir = (*dir)->path();
  auto fail = [&](absl::string_view what, const absl::Status& s) {
    std::cerr << "turnout-bench watch: " << what << ": " << s.message() << " (logs in " << data_dir
              << "; --keep_data_dir keeps them)\n";
    return 1;
  };

  // Set-up: one PostgreSQL, replica A on it, the event and its tickets.
  store::EmbeddedPostgresOptions pg_options;
  pg_options.data_dir = data_dir;
  pg_options.durable = absl::GetFlag(FLAGS_durable);
  absl::StatusOr<std::unique_ptr<store::EmbeddedPostgres>> pg =
      store::EmbeddedPostgres::Start(pg_options);
  if (!pg.ok()) return fail("starting PostgreSQL", pg.status());
  const std::string server_dir = (fs::path(data_dir) / "server").string();
  fs::create_directories(server_dir, ec);
  auto replica_argv = [&] {
    return std::vector<std::string>{
        server_binary,
        "--listen=127.0.0.1:0",
        absl::StrCat("--data_dir=", server_dir),
        absl::StrCat("--database=", (*pg)->ConnectionString()),
        absl::StrCat("--db_workers=", absl::GetFlag(FLAGS_db_workers)),
        absl::StrCat("--scan_batch=", absl::GetFlag(FLAGS_scan_batch)),
        absl::StrCat("--watch_interval=",
                     absl::FormatDuration(absl::GetFlag(FLAGS_watch_interval)))};
  };
  absl::StatusOr<std::unique_ptr<ServingProcess>> replica_a =
      ServingProcess::Start(replica_argv(), (fs::path(data_dir) / "replica-a.log").string());
  if (!replica_a.ok()) return fail("starting turnout-server (replica A)", replica_a.status());
  const std::string target_a = absl::StrCat("127.0.0.1:", (*replica_a)->port());
  absl::StatusOr<std::string> admin = ReadToken((fs::path(server_dir) / "admin.token").string());
  if (!admin.ok()) return fail("reading the ADMIN token", admin.status());

  const absl::Duration phase = warmup + measured;
  const size_t paced_tickets = static_cast<size_t>(scan_rate * absl::ToDoubleSeconds(phase)) + 1;
  const size_t load_tickets = 2 * static_cast<size_t>(concurrency);
  const size_t total_tickets =
      kDriverTickets + 2 * load_tickets + paced_tickets + static_cast<size_t>(idle_scans);
  absl::StatusOr<Fixture> fixture = SetUp(target_a, *admin, static_cast<int>(total_tickets));
  if (!fixture.ok()) return fail("setting up", fixture.status());
  if (absl::Status s = AddSessions(target_a, *admin, fixture->event); !s.ok()) {
    return fail("adding sessions", s);
  }
  absl::StatusOr<std::vector<std::string>> screens =
      DashboardTokens(target_a, *admin, fixture->event, tokens_needed);
  if (!screens.ok()) return fail("creating DASHBOARD tokens", screens.status());
  const std::string entrance =
      absl::StrCat(fixture->event, "/checkpoints/", fixture->entrance_checkpoint_id);
  size_t next_ticket = 0;
  const std::vector<BenchTicket> driver_tickets =
      Slice(fixture->tickets, &next_ticket, kDriverTickets);
  const std::vector<BenchTicket> without_tickets =
      Slice(fixture->tickets, &next_ticket, load_tickets);
  const std::vector<BenchTicket> with_tickets = Slice(fixture->tickets, &next_ticket, load_tickets);
  const std::vector<BenchTicket> paced = Slice(fixture->tickets, &next_ticket, paced_tickets);
  const std::vector<BenchTicket> idle = Slice(fixture->tickets, &next_ticket, idle_scans);
  std::cerr << "turnout-bench watch: set up " << total_tickets << " tickets in "
            << absl::FormatDuration(fixture->register_time) << "\n";

  // 1. The floor, alone.
  std::cerr << "turnout-bench watch: 1. bare fan-out, " << subscribers << " streams\n";
  absl::StatusOr<std::unique_ptr<ServingProcess>> floor_server = ServingProcess::Start(
      {self, "floor-server",
       absl::StrCat("--floor_interval=", absl::FormatDuration(absl::GetFlag(FLAGS_floor_interval))),
       absl::StrCat("--update_bytes=", absl::GetFlag(FLAGS_update_bytes))},
      (fs::path(data_dir) / "floor.log").string());
  if (!floor_server.ok()) return fail("starting the bare fan-out", floor_server.status());
  const std::string floor_target = absl::StrCat("127.0.0.1:", (*floor_server)->port());
  std::vector<std::shared_ptr<grpc::Channel>> floor_channels;
  absl::StatusOr<FanOut> floor = MeasureFanOut(
      (*floor_server)->pid(), subscribers,
      [&] {
        floor_channels = OpenChannels(floor_target, connections);
        return OpenFloorStreams(floor_channels, subscribers);
      },
      warmup, measured, [] {}, [] {});
  floor_channels.clear();
  (*floor_server)->Stop();
  if (!floor.ok()) return fail("bare fan-out", floor.status());

  // 2. Turnout, the same streams; scans at the door make its updates.
  std::cerr << "turnout-bench watch: 2. WatchAttendance, " << subscribers << " streams\n";
  std::vector<std::shared_ptr<grpc::Channel>> watch_channels;
  std::unique_ptr<PacedScans> driver;
  std::vector<PacedScan> driver_scans;
  absl::StatusOr<FanOut> turnout = MeasureFanOut(
      (*replica_a)->pid(), subscribers,
      [&] {
        watch_channels = OpenChannels(target_a, connections);
        return OpenWatchStreams(watch_channels, subscribers, *screens, fixture->event, entrance);
      },
      warmup, measured,
      [&] {
        driver = std::make_unique<PacedScans>(OpenChannels(target_a, 1)[0], fixture->door_token,
                                              fixture->event, driver_tickets, driver_rate);
        driver->Start(phase + absl::Seconds(1));
      },
      [&] { driver_scans = driver->Wait(); });
  watch_channels.clear();
  if (!turnout.ok()) return fail("WatchAttendance fan-out", turnout.status());
  int driver_errors = 0;
  std::string driver_error;
  StartsOf(driver_scans, &driver_errors, &driver_error);

  // 3. Scan throughput without watchers.
  std::cerr << "turnout-bench watch: 3. scan throughput without watchers\n";
  ScanLoadOptions load;
  load.channels = OpenChannels(target_a, 1);
  load.door_token = fixture->door_token;
  load.event = fixture->event;
  load.concurrency = concurrency;
  load.duration = phase;
  load.tickets = without_tickets;
  const ScanLoadResult without = RunScanLoad(load);

  // 4. Replica B; watchers on both; scan throughput with them.
  std::cerr << "turnout-bench watch: 4. scan throughput with " << scan_subscribers << " + "
            << remote_subscribers << " watchers\n";
  absl::StatusOr<std::unique_ptr<ServingProcess>> replica_b =
      ServingProcess::Start(replica_argv(), (fs::path(data_dir) / "replica-b.log").string());
  if (!replica_b.ok()) return fail("starting turnout-server (replica B)", replica_b.status());
  const std::string target_b = absl::StrCat("127.0.0.1:", (*replica_b)->port());
  std::vector<std::shared_ptr<grpc::Channel>> channels_a =
      OpenChannels(target_a, std::min(connections, scan_subscribers));
  std::vector<std::shared_ptr<grpc::Channel>> channels_b =
      OpenChannels(target_b, std::min(connections, remote_subscribers));
  std::unique_ptr<StreamSet> local =
      OpenWatchStreams(channels_a, scan_subscribers, *screens, fixture->event, entrance);
  std::unique_ptr<StreamSet> remote =
      OpenWatchStreams(channels_b, remote_subscribers, *screens, fixture->event, entrance);
  if (absl::Status s = local->WaitReady(absl::Seconds(120)); !s.ok()) {
    return fail("watchers on replica A", s);
  }
  if (absl::Status s = remote->WaitReady(absl::Seconds(120)); !s.ok()) {
    return fail("watchers on replica B", s);
  }
  load.tickets = with_tickets;
  const ScanLoadResult with = RunScanLoad(load);

  // 5. Doors scanning at --scan_rate: scan-to-screen on both replicas.
  std::cerr << "turnout-bench watch: 5. scans at " << scan_rate << "/s\n";
  absl::StatusOr<int64_t> base = CheckedIn(target_a, *admin, fixture->event, entrance);
  if (!base.ok()) return fail("reading the counts", base.status());
  PacedScans paced_load(OpenChannels(target_a, 1)[0], fixture->door_token, fixture->event, paced,
                        scan_rate);
  const int64_t paced_start = NowNs();
  paced_load.Start(phase);
  const std::vector<PacedScan> paced_scans = paced_load.Wait();
  absl::SleepFor(absl::Seconds(2));  // the last scans reach the screens

  // 6. Single scans on an idle feed.
  std::cerr << "turnout-bench watch: 6. " << idle_scans << " scans " << kIdleGapSeconds
            << " s apart\n";
  absl::StatusOr<int64_t> idle_base = CheckedIn(target_a, *admin, fixture->event, entrance);
  if (!idle_base.ok()) return fail("reading the counts", idle_base.status());
  PacedScans idle_load(OpenChannels(target_a, 1)[0], fixture->door_token, fixture->event, idle,
                       1.0 / kIdleGapSeconds);
  absl::SleepFor(absl::Seconds(kIdleGapSeconds));
  idle_load.Start(absl::Seconds(idle_scans * kIdleGapSeconds));
  const std::vector<PacedScan> idle_scan_results = idle_load.Wait();
  absl::SleepFor(absl::Seconds(2));
  const int local_ended = local->ended() + remote->ended();
  std::vector<std::string> stream_ends = local->end_samples();
  for (const std::string& e : remote->end_samples()) stream_ends.push_back(e);
  const std::vector<std::vector<Received>> local_received = local->Stop();
  const std::vector<std::vector<Received>> remote_received = remote->Stop();
  (*replica_b)->Stop();
  (*replica_a)->Stop();
  (void)(*pg)->Stop();

  // Report.
  int scan_errors = driver_errors;
  std::string scan_error = driver_error;
  const std::vector<int64_t> paced_starts = StartsOf(paced_scans, &scan_errors, &scan_error);
  const std::vector<int64_t> idle_starts = StartsOf(idle_scan_results, &scan_errors, &scan_error);
  const int64_t paced_from = paced_start + absl::ToInt64Nanoseconds(warmup);
  const ScreenLatencies local_screen =
      ScanToScreen(paced_starts, *base, local_received, paced_from, INT64_MAX);
  const ScreenLatencies remote_screen =
      ScanToScreen(paced_starts, *base, remote_received, paced_from, INT64_MAX);
  const ScreenLatencies idle_local = ScanToScreen(idle_starts, *idle_base, local_received, 0, INT64_MAX);
  const ScreenLatencies idle_remote =
      ScanToScreen(idle_starts, *idle_base, remote_received, 0, INT64_MAX);
  const LatencySummary local_s = SummarizeLatencies(local_screen.ns);
  const LatencySummary remote_s = SummarizeLatencies(remote_screen.ns);
  const LatencySummary idle_local_s = SummarizeLatencies(idle_local.ns);
  const LatencySummary idle_remote_s = SummarizeLatencies(idle_remote.ns);
  const LatencySummary paced_scan_s = ScanLatency(paced_scans);
  const Summary without_s = Summarize(without.samples, warmup);
  const Summary with_s = Summarize(with.samples, warmup);
  const int64_t errors = without.errors + with.errors + scan_errors + local_ended +
                         turnout->ended + floor->ended + local_screen.missed +
                         remote_screen.missed + idle_local.missed + idle_remote.missed;

  const double kib = 1024.0;
  const double floor_kib = floor->rss_per_subscriber / kib;
  const double turnout_kib = turnout->rss_per_subscriber / kib;
  const double p99_ratio = turnout->latency.p99_ms / floor->latency.p99_ms;
  const double throughput_ratio = with_s.per_second / without_s.per_second;
  const double floor_cpu_ms = floor->updates ? floor->cpu_seconds * 1e3 / floor->updates : 0;
  const double turnout_cpu_ms = turnout->updates ? turnout->cpu_seconds * 1e3 / turnout->updates : 0;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());

  std::cout << "turnout-bench watch: WatchAttendance vs a bare gRPC fan-out of the same size, "
               "same run\n";
  std::cout << absl::StrFormat(
      "  machine: %d CPUs; open files limit %d; PostgreSQL 15 embedded (%s)\n", cores, open_files,
      absl::GetFlag(FLAGS_durable) ? "durable" : "NOT durable");
  std::cout << absl::StrFormat(
      "  servers: turnout-server processes on one PostgreSQL (replica A; B from phase 4), "
      "%d database workers, --watch_interval=%s; the bare fan-out is `turnout-bench "
      "floor-server`, its own process\n",
      absl::GetFlag(FLAGS_db_workers), absl::FormatDuration(absl::GetFlag(FLAGS_watch_interval)));
  std::cout << absl::StrFormat(
      "  each phase: %s warm-up, then %s measured; set-up: %d tickets in %.1f s\n\n",
      absl::FormatDuration(warmup), absl::FormatDuration(measured), total_tickets,
      absl::ToDoubleSeconds(fixture->register_time));

  std::cout << absl::StrFormat(
      "  1-2. %d subscribers over %d connections, one update per %s (Turnout: scans at %.0f/s "
      "make them)\n",
      subscribers, connections, absl::FormatDuration(absl::GetFlag(FLAGS_floor_interval)),
      driver_rate);
  std::cout << absl::StrFormat("    %-44s %12s %12s %9s\n", "", "bare fan-out", "Turnout",
                               "T / bare");
  auto row = [](absl::string_view label, double a, double b, absl::string_view unit, int dec) {
    std::cout << absl::StrFormat("    %-44s %9.*f %-2s %9.*f %-2s %8.2fx\n", label, dec, a, unit,
                                 dec, b, unit, a > 0 ? b / a : 0.0);
  };
  row("update size on the wire (bytes)", floor->message_bytes, turnout->message_bytes, "", 0);
  row("server memory per subscriber (RSS delta)", floor_kib, turnout_kib, "KiB", 1);
  row("broadcast-to-subscriber p50", floor->latency.p50_ms, turnout->latency.p50_ms, "ms", 1);
  row("broadcast-to-subscriber p99", floor->latency.p99_ms, turnout->latency.p99_ms, "ms", 1);
  row("broadcast-to-subscriber max", floor->latency.max_ms, turnout->latency.max_ms, "ms", 1);
  row("updates in the window", floor->updates, turnout->updates, "", 0);
  row("messages received in the window", floor->messages, turnout->messages, "", 0);
  row("server CPU per update (ms)", floor_cpu_ms, turnout_cpu_ms, "", 1);
  row("server CPU in the window (cores)", floor->cpu_seconds / absl::ToDoubleSeconds(measured),
      turnout->cpu_seconds / absl::ToDoubleSeconds(measured), "", 2);
  row("server sockets opened by the streams", floor->sockets_opened, turnout->sockets_opened, "",
      0);

  std::cout << absl::StrFormat(
      "\n  3-4. scan throughput, %d in flight (replica A), without and with %d watchers on A and "
      "%d on B\n",
      concurrency, scan_subscribers, remote_subscribers);
  std::cout << absl::StrFormat("    %-44s %9.1f /s  p50 %.1f ms  p99 %.1f ms\n", "without watchers",
                               without_s.per_second, without_s.p50_ms, without_s.p99_ms);
  std::cout << absl::StrFormat("    %-44s %9.1f /s  p50 %.1f ms  p99 %.1f ms\n", "with watchers",
                               with_s.per_second, with_s.p50_ms, with_s.p99_ms);
  std::cout << absl::StrFormat("    %-44s %9.2fx\n", "with / without", throughput_ratio);

  std::cout << absl::StrFormat(
      "\n  5. scans at %.0f/s (first entries) with those watchers: %d scans, answered p50 %.1f ms "
      "p99 %.1f ms\n",
      scan_rate, paced_scans.size(), paced_scan_s.p50_ms, paced_scan_s.p99_ms);
  auto screen_row = [](absl::string_view label, const LatencySummary& s, int64_t missed) {
    std::cout << absl::StrFormat(
        "    %-44s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (%d scan x screen pairs, %d missed)\n",
        label, s.p50_ms, s.p99_ms, s.max_ms, s.count, missed);
  };
  screen_row("scan-to-screen, same replica (A)", local_s, local_screen.missed);
  screen_row("scan-to-screen, other replica (B, NOTIFY)", remote_s, remote_screen.missed);
  std::cout << absl::StrFormat("\n  6. %d single scans %d s apart (an idle feed)\n", idle_scans,
                               kIdleGapSeconds);
  screen_row("scan-to-screen, same replica (A)", idle_local_s, idle_local.missed);
  screen_row("scan-to-screen, other replica (B, NOTIFY)", idle_remote_s, idle_remote.missed);

  const bool memory_met = turnout_kib <= kTargetKibPerSubscriber;
  const bool p99_met = p99_ratio <= kTargetP99VsFloor;
  const bool screen_met = local_s.p99_ms <= kTargetScanToScreenP99Ms;
  const bool throughput_met = throughput_ratio >= kTargetThroughputRatio;
  const bool remote_met = remote_s.p99_ms <= kTargetCrossReplicaP99Ms &&
                          idle_remote_s.p99_ms <= kTargetCrossReplicaP99Ms;
  std::cout << absl::StrFormat("\n  %-64s %12s\n", "target (docs/benchmarks.md)", "measured");
  std::cout << absl::StrFormat("  %-64s %8.1f KiB  %s\n",
                               absl::StrCat("memory <= 50 KiB per subscriber at ", subscribers),
                               turnout_kib, Verdict(memory_met));
  std::cout << absl::StrFormat(
      "  %-64s %9.2fx  %s\n",
      absl::StrCat("broadcast-to-subscriber p99 <= 1.25x the floor at ", subscribers), p99_ratio,
      Verdict(p99_met));
  std::cout << absl::StrFormat(
      "  %-64s %7.1f ms  %s\n",
      absl::StrFormat("scan-to-screen p99 <= 100 ms, %d watchers, %.0f scans/s", scan_subscribers,
                      scan_rate),
      local_s.p99_ms, Verdict(screen_met));
  std::cout << absl::StrFormat("  %-64s %9.2fx  %s\n",
                               "scan throughput with watchers >= 0.9x without", throughput_ratio,
                               Verdict(throughput_met));
  std::cout << absl::StrFormat("  %-64s %7.1f ms  %s\n",
                               "cross-replica scan-to-screen p99 <= 1 s (LISTEN/NOTIFY)",
                               std::max(remote_s.p99_ms, idle_remote_s.p99_ms),
                               Verdict(remote_met));

  if (errors > 0) {
    std::cout << absl::StrFormat(
        "\n  ERRORS: %d (scan errors %d, scan load errors %d, streams ended %d, screens that "
        "missed a scan %d)\n",
        errors, scan_errors, without.errors + with.errors,
        local_ended + turnout->ended + floor->ended,
        local_screen.missed + remote_screen.missed + idle_local.missed + idle_remote.missed);
    if (!scan_error.empty()) std::cout << "  scan error: " << scan_error << "\n";
    for (const std::string& e : without.error_samples) std::cout << "  scan load error: " << e << "\n";
    for (const std::string& e : with.error_samples) std::cout << "  scan load error: " << e << "\n";
    for (const std::string& e : stream_ends) std::cout << "  stream ended: " << e << "\n";
    for (const std::string& e : turnout->end_samples) std::cout << "  stream ended: " << e << "\n";
  }
  std::cout.flush();
  return errors > 0 ? 1 : 0;
}

}  // namespace turnout::bench
