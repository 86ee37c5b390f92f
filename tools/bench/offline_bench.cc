#include "tools/bench/offline_bench.h"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client-lib/client.h"
#include "server/api/server.h"
#include "server/domain/base32.h"
#include "server/domain/offline_entry.h"
#include "server/domain/scan_rules.h"
#include "server/domain/ticket_code.h"
#include "tools/bench/fixture.h"
#include "tools/bench/scan_load.h"
#include "tools/bench/stats.h"
#include "turnout/v1/checkin_service.pb.h"

ABSL_FLAG(int, offline_tickets, 5000, "offline: tickets in the bundle and in the uploads");
ABSL_FLAG(int, upload_scans, 10000, "offline: queued scans the three devices upload");
ABSL_FLAG(double, verify_seconds, 1.0, "offline: length of each verify/decide round, per side");

namespace turnout::bench {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::turnout::v1;

// docs/benchmarks.md, from the door issue.
constexpr double kTargetVerifyRatio = 0.9;
constexpr double kTargetBundleBytes = 1 << 20;
constexpr double kTargetBundleMs = 200;
constexpr int kUploadDevices = 3;
constexpr int kUploadBatch = 1000;
constexpr int kOnlineTickets = 256;
constexpr int kOnlineConcurrency = 64;

// --- 1. Verify + decide on the device vs raw libsodium -----------------------------------------

struct DeviceCorpus {
  std::vector<std::string> codes;
  std::vector<std::vector<uint8_t>> decoded;  // the 87 bytes of each code
  domain::SigningKey key;
  domain::KeyRing ring;
  absl::flat_hash_map<std::string, std::string> sealed;  // lookup key -> sealed entry
  domain::CheckpointView entrance;
};

DeviceCorpus MakeCorpus(int count) {
  DeviceCorpus c;
  c.key = domain::GenerateSigningKey(1);
  c.ring.Add(domain::VerifyingKeyFor(c.key));
  c.entrance.event_id = 1;
  std::vector<std::string> plaintexts;
  for (int i = 0; i < count; ++i) {
    domain::TicketClaims claims;
    claims.event_id = 1;
    claims.ticket_id = domain::RandomTicketId();
    claims.not_after = absl::Now() + absl::Hours(24 * 30);
    c.codes.push_back(domain::EncodeTicketCode(claims, c.key));
    c.decoded.push_back(*domain::Base32Decode(c.codes.back()));
    v1::OfflineEntry entry;
    entry.set_registration(absl::StrCat("events/1/registrations/", i + 1));
    entry.set_display_name(absl::StrFormat("Bench Attendee %05d", i));
    entry.set_preferred_language("es");
    entry.add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
    entry.set_status(v1::Registration::CONFIRMED);
    entry.set_ticket_id(domain::TicketIdToHex(claims.ticket_id));
    plaintexts.push_back(entry.SerializeAsString());
  }
  size_t longest = 0;
  for (const std::string& p : plaintexts) longest = std::max(longest, p.size());
  for (int i = 0; i < count; ++i) {
    const domain::EntryKeys keys = *domain::DeriveEntryKeys(c.codes[i]);
    c.sealed[keys.lookup_bytes()] =
        domain::SealEntry(keys, plaintexts[i], domain::PaddedEntrySize(longest));
  }
  return c;
}

// What a door does with a scanned code offline: verify, find and open its entry, decide.
bool DecideOffline(const DeviceCorpus& c, const std::string& code) {
  const domain::VerifiedCode verified = domain::VerifyTicketCode(code, c.ring);
  if (verified.check != domain::CodeCheck::kValid) return false;
  const absl::StatusOr<domain::EntryKeys> keys = domain::DeriveEntryKeys(code);
  if (!keys.ok()) return false;
  auto it = c.sealed.find(keys->lookup_bytes());
  if (it == c.sealed.end()) return false;
  const absl::StatusOr<std::string> plain = domain::OpenEntry(*keys, it->second);
  v1::OfflineEntry entry;
  if (!plain.ok() || !entry.ParseFromString(*plain)) return false;
  domain::TicketView ticket;
  ticket.code_valid = true;
  ticket.known = true;
  ticket.event_id = verified.claims.event_id;
  ticket.not_after = verified.claims.not_after;
  const domain::ScanDecision d = domain::DecideScan(ticket, c.entrance, domain::PresenceView{},
                                                    {domain::Direction::kEntry, absl::Now()});
  return d.status == domain::ScanStatus::kAdmitted;
}

bool RawVerify(const DeviceCorpus& c, size_t i) {
  const std::vector<uint8_t>& b = c.decoded[i];
  return crypto_sign_verify_detached(b.data() + domain::kTicketPayloadBytes, b.data(),
                                     domain::kTicketPayloadBytes,
                                     c.key.public_key.data()) == 0;
}

// Operations per second of `op(i)` over the corpus for `seconds`, on this thread.
template <typename Op>
double Rate(size_t n, double seconds, Op op, int64_t* failures) {
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  int64_t done = 0;
  while (absl::Now() < end) {
    for (size_t i = 0; i < n && (i % 64 != 0 || absl::Now() < end); ++i, ++done) {
      if (!op(i)) ++*failures;
    }
  }
  return done / absl::ToDoubleSeconds(absl::Now() - start);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// --- 2 and 3. The server side ------------------------------------------------------------------

std::vector<v1::OfflineScan> UploadScans(const Fixture& f, int count, int device) {
  const absl::Time base = absl::Now() - absl::Hours(2);
  const int tickets = static_cast<int>(f.tickets.size());
  std::vector<v1::OfflineScan> scans;
  for (int k = device; k < count; k += kUploadDevices) {
    const int round = k / tickets;
    v1::OfflineScan s;
    v1::ScanRequest* r = s.mutable_scan();
    r->set_event(f.event);
    r->set_code(f.tickets[k % tickets].code);
    r->set_direction(round % 2 == 0 ? v1::SCAN_DIRECTION_ENTRY : v1::SCAN_DIRECTION_EXIT);
    r->set_client_scan_id(absl::StrCat("bench-upload-", k));
    const absl::Time at = base + absl::Minutes(10) * round + absl::Milliseconds(k % tickets);
    r->mutable_scan_time()->set_seconds(absl::ToUnixSeconds(at));
    r->mutable_scan_time()->set_nanos(static_cast<int32_t>(
        absl::ToInt64Nanoseconds(at - absl::FromUnixSeconds(absl::ToUnixSeconds(at)))));
    s.set_device_status(round % 2 == 0 ? v1::ScanResult::ADMITTED : v1::ScanResult::EXIT_RECORDED);
    scans.push_back(std::move(s));
  }
  return scans;
}

}  // namespace

int RunOffline() {
  const int tickets = absl::GetFlag(FLAGS_offline_tickets);
  const int upload_count = absl::GetFlag(FLAGS_upload_scans);
  const double verify_seconds = absl::GetFlag(FLAGS_verify_seconds);
  if (tickets < 1 || upload_count < 1 || verify_seconds <= 0) {
    std::cerr << "turnout-bench: need --offline_tickets, --upload_scans and --verify_seconds > 0\n";
    return 2;
  }
  if (sodium_init() < 0) return 1;

  // 1. One core: raw verification vs the door's whole offline decision, alternating rounds.
  const DeviceCorpus corpus = MakeCorpus(std::min(tickets, 5000));
  std::vector<double> raw_rates, door_rates;
  int64_t raw_failures = 0, door_failures = 0;
  for (int round = 0; round < 3; ++round) {
    raw_rates.push_back(Rate(corpus.codes.size(), verify_seconds,
                             [&](size_t i) { return RawVerify(corpus, i); }, &raw_failures));
    door_rates.push_back(Rate(corpus.codes.size(), verify_seconds,
                              [&](size_t i) { return DecideOffline(corpus, corpus.codes[i]); },
                              &door_failures));
  }
  const double raw = Median(raw_rates);
  const double door_rate = Median(door_rates);

  // 2 and 3: an in-process server on an embedded, durable PostgreSQL.
  absl::StatusOr<std::unique_ptr<BenchDir>> dir = BenchDir::Make("offline", /*keep=*/false);
  if (!dir.ok()) {
    std::cerr << "turnout-bench: " << dir.status().message() << "\n";
    return 1;
  }
  const std::string data_dir = (*dir)->path();
  auto fail = [](absl::string_view what, const absl::Status& s) {
    std::cerr << "turnout-bench: " << what << ": " << s.message() << "\n";
    return 1;
  };
  api::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.data_dir = data_dir;
  server_options.durable = true;
  absl::StatusOr<std::unique_ptr<api::TurnoutServer>> server =
      api::TurnoutServer::Start(server_options);
  if (!server.ok()) return fail("starting the server", server.status());
  const std::string target = absl::StrCat("127.0.0.1:", (*server)->port());
  absl::StatusOr<std::string> admin = ReadToken((*server)->admin_token_path());
  if (!admin.ok()) return fail("reading the admin token", admin.status());
  absl::StatusOr<Fixture> fixture = SetUp(target, *admin, tickets);
  if (!fixture.ok()) return fail("registering", fixture.status());

  client::ClientOptions door_options;
  door_options.target = target;
  door_options.token = fixture->door_token;
  door_options.deadline = absl::Seconds(60);
  absl::StatusOr<std::unique_ptr<client::Client>> door = client::Client::Connect(door_options);
  if (!door.ok()) return fail("connecting", door.status());

  // 2. Full bundles: the first warms up, the median of the next five is reported.
  std::vector<double> bundle_ms;
  size_t bundle_bytes = 0;
  int entries = 0;
  for (int i = 0; i < 6; ++i) {
    v1::GetOfflineBundleRequest request;
    request.set_event(fixture->event);
    const absl::Time start = absl::Now();
    absl::StatusOr<v1::OfflineBundle> bundle = (*door)->GetOfflineBundle(request);
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
    if (!bundle.ok()) return fail("GetOfflineBundle", bundle.status());
    if (i > 0) bundle_ms.push_back(ms);
    bundle_bytes = bundle->ByteSizeLong();
    entries = bundle->entries_size();
  }

  // 3a. The online path, for comparison: another event, 64 scans in flight.
  absl::StatusOr<Fixture> online = SetUp(target, *admin, kOnlineTickets);
  if (!online.ok()) return fail("registering (online)", online.status());
  ScanLoadOptions load;
  load.channels = {grpc::CreateChannel(target, grpc::InsecureChannelCredentials())};
  load.door_token = online->door_token;
  load.event = online->event;
  load.tickets = online->tickets;
  load.concurrency = kOnlineConcurrency;
  load.duration = absl::Seconds(5);
  const ScanLoadResult online_result = RunScanLoad(load);
  const Summary online_summary = Summarize(online_result.samples, absl::ZeroDuration());

  // 3b. Three devices upload their queues at once, in batches of 1,000.
  std::vector<std::string> tokens = {fixture->door_token};
  for (int d = 1; d < kUploadDevices; ++d) {
    absl::StatusOr<std::string> token =
        NewDoorToken(target, *admin, fixture->event, absl::StrCat("bench device ", d + 1));
    if (!token.ok()) return fail("creating door tokens", token.status());
    tokens.push_back(*token);
  }
  std::vector<int64_t> uploaded(kUploadDevices, 0), row_errors(kUploadDevices, 0);
  std::vector<absl::Status> failures(kUploadDevices);
  const absl::Time upload_start = absl::Now();
  std::vector<std::thread> devices;
  for (int d = 0; d < kUploadDevices; ++d) {
    devices.emplace_back([&, d] {
      client::ClientOptions options = door_options;
      options.token = tokens[d];
      absl::StatusOr<std::unique_ptr<client::Client>> device = client::Client::Connect(options);
      if (!device.ok()) {
        failures[d] = device.status();
        return;
      }
      const std::vector<v1::OfflineScan> queue = UploadScans(*fixture, upload_count, d);
      for (size_t i = 0; i < queue.size(); i += kUploadBatch) {
        v1::UploadScansRequest request;
        request.set_event(fixture->event);
        for (size_t j = i; j < std::min(queue.size(), i + kUploadBatch); ++j) {
          *request.add_scans() = queue[j];
        }
        absl::StatusOr<v1::UploadScansResponse> response = (*device)->UploadScans(request);
        if (!response.ok()) {
          failures[d] = response.status();
          return;
        }
        for (const v1::UploadedScan& row : response->results()) {
          (row.error_code() == 0 ? uploaded[d] : row_errors[d])++;
        }
      }
    });
  }
  for (std::thread& t : devices) t.join();
  const double upload_seconds = absl::ToDoubleSeconds(absl::Now() - upload_start);
  for (const absl::Status& s : failures) {
    if (!s.ok()) return fail("UploadScans", s);
  }
  int64_t total_uploaded = 0, total_row_errors = 0;
  for (int d = 0; d < kUploadDevices; ++d) {
    total_uploaded += uploaded[d];
    total_row_errors += row_errors[d];
  }
  (*server)->Shutdown();

  const double bundle_median = Median(bundle_ms);
  const double ratio = door_rate / raw;
  std::cout << "turnout-bench offline: the door protocol, side by side in one run\n";
  std::cout << absl::StrFormat(
      "  machine: %d CPUs; server in-process on an embedded, durable PostgreSQL 15\n\n",
      static_cast<int>(std::thread::hardware_concurrency()));
  std::cout << absl::StrFormat("  1. one core, %zu codes, 3 rounds of %.1f s each (median):\n",
                               corpus.codes.size(), verify_seconds);
  std::cout << absl::StrFormat("     %-60s %10.0f /s\n",
                               "raw libsodium Ed25519 verify (crypto_sign_verify_detached)", raw);
  std::cout << absl::StrFormat(
      "     %-60s %10.0f /s\n", "door: verify + derive keys + open entry + decide", door_rate);
  std::cout << absl::StrFormat("     %-60s %10.2fx\n", "door / raw", ratio);
  std::cout << absl::StrFormat("  2. full bundle of %d entries: %zu bytes (%.0f per entry), "
                               "built and sent in %.1f ms (median of 5)\n",
                               entries, bundle_bytes,
                               entries > 0 ? static_cast<double>(bundle_bytes) / entries : 0.0,
                               bundle_median);
  std::cout << absl::StrFormat(
      "  3. UploadScans: %lld scans from %d devices at once, batches of %d: %.1f s, %.0f scans/s "
      "(%lld row errors)\n",
      static_cast<long long>(total_uploaded), kUploadDevices, kUploadBatch, upload_seconds,
      total_uploaded / upload_seconds, static_cast<long long>(total_row_errors));
  std::cout << absl::StrFormat(
      "     online Scan, %d in flight, same server: %.0f scans/s, p99 %.1f ms (%lld errors)\n",
      kOnlineConcurrency, online_summary.per_second, online_summary.p99_ms,
      static_cast<long long>(online_result.errors));
  std::cout << absl::StrFormat("     uploads / online: %.2fx\n",
                               (total_uploaded / upload_seconds) / online_summary.per_second);

  std::cout << absl::StrFormat("\n  %-46s %12s  %s\n", "target (docs/benchmarks.md)", "measured",
                               "met");
  std::cout << absl::StrFormat("  %-46s %11.2fx  %s\n", "door verify + decide >= 0.9 x raw verify",
                               ratio, ratio >= kTargetVerifyRatio ? "yes" : "NO");
  std::cout << absl::StrFormat("  %-46s %8.0f KiB  %s\n",
                               absl::StrCat("bundle of ", entries, " tickets <= 1 MiB"),
                               bundle_bytes / 1024.0,
                               bundle_bytes <= kTargetBundleBytes ? "yes" : "NO");
  std::cout << absl::StrFormat("  %-46s %9.1f ms  %s\n", "bundle built in <= 200 ms", bundle_median,
                               bundle_median <= kTargetBundleMs ? "yes" : "NO");
  const bool errors = raw_failures > 0 || door_failures > 0 || total_row_errors > 0 ||
                      online_result.errors > 0;
  if (errors) {
    std::cout << absl::StrFormat("  errors: raw %lld, door %lld, upload rows %lld, online %lld\n",
                                 static_cast<long long>(raw_failures),
                                 static_cast<long long>(door_failures),
                                 static_cast<long long>(total_row_errors),
                                 static_cast<long long>(online_result.errors));
  }
  return errors ? 1 : 0;
}

}  // namespace turnout::bench
