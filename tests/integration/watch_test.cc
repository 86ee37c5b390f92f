// WatchAttendance and ExportAttendance through the real server: a snapshot first, then updates that follow every kind
// of change, each exactly what GetAttendance says; heartbeats; roles; and two replicas on one
// PostgreSQL, before and after the database restarts.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <pqxx/pqxx>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

constexpr absl::Duration kQuick = absl::Milliseconds(100);

void Quick(api::ServerOptions& options) {
  options.watch_interval = kQuick;
  options.watch_heartbeat = absl::Seconds(1);
}

// A WatchAttendance stream read from the test's thread.
class Watch {
 public:
  Watch(TestServer& server, const std::string& token, const std::string& event) {
    ctx_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    ctx_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    v1::WatchAttendanceRequest req;
    req.set_event(event);
    reader_ = server.attendance().WatchAttendance(&ctx_, req);
  }
  ~Watch() {
    if (finished_) return;
    ctx_.TryCancel();
    v1::AttendanceUpdate drain;
    while (reader_->Read(&drain)) {
    }
    reader_->Finish();
  }

  bool Next(v1::AttendanceUpdate* update) { return reader_->Read(update); }

  // Reads until `done` holds for an update that is not a heartbeat; false if the stream ends
  // or `timeout` passes first (checked as updates arrive: heartbeats come every second).
  bool Until(const std::function<bool(const v1::AttendanceUpdate&)>& done,
             absl::Duration timeout, v1::AttendanceUpdate* last) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline && reader_->Read(last)) {
      if (done(*last)) return true;
    }
    return false;
  }

  grpc::Status Finish() {
    finished_ = true;
    return reader_->Finish();
  }

  // The stream's turnout-replica header (once a message or the status arrived).
  std::string Replica() const {
    const auto& headers = ctx_.GetServerInitialMetadata();
    auto it = headers.find("turnout-replica");
    return it == headers.end() ? "" : std::string(it->second.data(), it->second.size());
  }

 private:
  bool finished_ = false;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<v1::AttendanceUpdate>> reader_;
};

int64_t CheckedIn(const v1::AttendanceUpdate& u, const std::string& checkpoint) {
  for (const v1::CheckpointAttendance& c : u.attendance().checkpoints()) {
    if (c.checkpoint() == checkpoint) return c.checked_in();
  }
  return -1;
}

v1::ScanResult ScanAt(TestServer& server, const std::string& token, const std::string& event,
                      const std::string& code, const std::string& id) {
  v1::ScanRequest req;
  req.set_event(event);
  req.set_code(code);
  req.set_client_scan_id(id);
  v1::ScanResult result;
  grpc::Status status = server.checkin().Scan(TestServer::Context(token).get(), req, &result);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return result;
}

v1::Attendance Counts(TestServer& server, const std::string& event) {
  v1::GetAttendanceRequest req;
  req.set_event(event);
  v1::Attendance attendance;
  EXPECT_TRUE(server.attendance().GetAttendance(server.AdminContext().get(), req, &attendance).ok());
  return attendance;
}

TEST(WatchTest, ASnapshotFirstThenUpdatesThatMatchGetAttendance) {
  TestServer server(Quick);
  const v1::Event event = server.NewEvent("Oakland");
  const std::string dashboard = server.NewToken(v1::ROLE_DASHBOARD, event.name());
  const std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
  const std::string ana = server.Register(event.name(), "Ana").ticket().code();
  ASSERT_FALSE(HasFailure());

  Watch watch(server, dashboard, event.name());
  v1::AttendanceUpdate update;
  ASSERT_TRUE(watch.Next(&update));
  EXPECT_TRUE(update.snapshot());
  EXPECT_GT(update.sequence(), 0);
  EXPECT_EQ(CheckedIn(update, event.entrance_checkpoint()), 0);
  const int64_t first = update.sequence();

  // An idle stream (nothing sent for an interval) hears of a scan at once.
  absl::SleepFor(2 * kQuick);
  const absl::Time scanned = absl::Now();
  ScanAt(server, door, event.name(), ana, "s1");
  ASSERT_TRUE(watch.Until(
      [&](const v1::AttendanceUpdate& u) {
        return !u.heartbeat() && CheckedIn(u, event.entrance_checkpoint()) == 1;
      },
      absl::Seconds(5), &update));
  const absl::Duration delay = absl::Now() - scanned;
  std::cout << "scan to update: " << absl::FormatDuration(delay) << "\n";
  EXPECT_LT(delay, absl::Seconds(1));
  EXPECT_GT(update.sequence(), first);
  EXPECT_FALSE(update.snapshot());
  // Exact at its sequence: nothing changed since, so GetAttendance says the same.
  v1::Attendance now = Counts(server, event.name());
  now.clear_as_of();
  v1::Attendance streamed = update.attendance();
  streamed.clear_as_of();
  EXPECT_EQ(streamed.SerializeAsString(), now.SerializeAsString());

  // Registrations move `registered` too.
  server.Register(event.name(), "Ben");
  ASSERT_TRUE(watch.Until(
      [&](const v1::AttendanceUpdate& u) { return u.attendance().checkpoints(0).registered() == 2; },
      absl::Seconds(5), &update));
}

TEST(WatchTest, HeartbeatsComeWhenNothingChanges) {
  TestServer server(Quick);
  const v1::Event event = server.NewEvent("Oakland");
  Watch watch(server, server.admin_token(), event.name());
  v1::AttendanceUpdate update;
  ASSERT_TRUE(watch.Next(&update));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(watch.Next(&update));
  EXPECT_TRUE(update.heartbeat());
  EXPECT_FALSE(update.snapshot());
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(WatchTest, OnlyReadersOfTheEventMayWatch) {
  TestServer server(Quick);
  const v1::Event event = server.NewEvent("Oakland");
  const v1::Event other = server.NewEvent("Los Angeles");
  const std::string elsewhere = server.NewToken(v1::ROLE_DASHBOARD, other.name());
  {
    Watch anonymous(server, "", event.name());
    v1::AttendanceUpdate update;
    EXPECT_FALSE(anonymous.Next(&update));
    EXPECT_EQ(anonymous.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    Watch wrong(server, elsewhere, event.name());
    v1::AttendanceUpdate update;
    EXPECT_FALSE(wrong.Next(&update));
    EXPECT_EQ(wrong.Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    Watch bad(server, server.admin_token(), "events/x");
    v1::AttendanceUpdate update;
    EXPECT_FALSE(bad.Next(&update));
    EXPECT_EQ(bad.Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

// WatchAttendance is a raw method on the server (it writes pre-serialized updates), so the server
// parses its request itself: bytes that are not a WatchAttendanceRequest, or an empty one, get
// INVALID_ARGUMENT saying what is wrong, as every other method's do.
TEST(WatchTest, ARequestThatDoesNotParseOrNamesNoEventIsRefused) {
  TestServer server(Quick);
  const v1::Event event = server.NewEvent("Oakland");
  {
    Watch latin1(server, server.admin_token(), "events/1\xe9");  // Latin-1, not UTF-8
    v1::AttendanceUpdate update;
    EXPECT_FALSE(latin1.Next(&update));
    const grpc::Status status = latin1.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), ::testing::HasSubstr("valid UTF-8"));
  }
  {
    Watch empty(server, server.admin_token(), "");  // serialized as no bytes at all
    v1::AttendanceUpdate update;
    EXPECT_FALSE(empty.Next(&update));
    const grpc::Status status = empty.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), ::testing::HasSubstr("event"));
  }
  // And a good request on the same server still streams.
  Watch good(server, server.admin_token(), event.name());
  v1::AttendanceUpdate update;
  ASSERT_TRUE(good.Next(&update));
  EXPECT_TRUE(update.snapshot());
}

// Behind a load balancer a client (or tests/e2e/replicas_test.py) learns which replica serves it.
TEST(WatchTest, AStreamNamesTheReplicaServingIt) {
  TestServer server([](api::ServerOptions& options) {
    Quick(options);
    options.replica_name = "replica-a";
  });
  const v1::Event event = server.NewEvent("Oakland");
  Watch watch(server, server.admin_token(), event.name());
  v1::AttendanceUpdate update;
  ASSERT_TRUE(watch.Next(&update));
  EXPECT_EQ(watch.Replica(), "replica-a");

  TestServer unnamed(Quick);  // listens on port 0: named by host and process
  const v1::Event other = unnamed.NewEvent("Los Angeles");
  Watch second(unnamed, unnamed.admin_token(), other.name());
  ASSERT_TRUE(second.Next(&update));
  EXPECT_THAT(second.Replica(), ::testing::HasSubstr(absl::StrCat(" pid ", getpid())));
}

TEST(WatchTest, AnyResumePointStartsFromAWholeSnapshot) {
  TestServer server(Quick);
  const v1::Event event = server.NewEvent("Oakland");
  const v1::Event other = server.NewEvent("Los Angeles");
  const std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
  ScanAt(server, door, event.name(), server.Register(event.name(), "Ana").ticket().code(), "r1");
  for (int64_t resume : {int64_t{0}, int64_t{1} << 50, int64_t{3}}) {
    SCOPED_TRACE(resume);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", server.admin_token()));
    v1::WatchAttendanceRequest req;
    req.set_event(event.name());
    req.set_resume_after_sequence(resume);
    auto reader = server.attendance().WatchAttendance(&ctx, req);
    v1::AttendanceUpdate update;
    ASSERT_TRUE(reader->Read(&update));
    EXPECT_TRUE(update.snapshot());
    EXPECT_EQ(CheckedIn(update, event.entrance_checkpoint()), 1);
    ctx.TryCancel();
    while (reader->Read(&update)) {
    }
    reader->Finish();
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", server.admin_token()));
  v1::WatchAttendanceRequest req;
  req.set_event(other.name());
  req.set_resume_after_sequence(-1);
  auto reader = server.attendance().WatchAttendance(&ctx, req);
  v1::AttendanceUpdate update;
  EXPECT_FALSE(reader->Read(&update));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// A screen that stops reading holds the latest counts only; the doors never wait for it.
TEST(WatchTest, AStalledWatcherNeitherSlowsScansNorQueuesUpdates) {
  TestServer server(Quick);
  const v1::Event event = server.NewEvent("Oakland");
  const std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
  std::vector<std::string> codes;
  for (int i = 0; i < 120; ++i) {
    codes.push_back(server.Register(event.name(), absl::StrCat("P", i)).ticket().code());
  }
  ASSERT_FALSE(HasFailure());
  Watch stalled(server, server.admin_token(), event.name());
  const absl::Time start = absl::Now();
  for (int i = 0; i < 120; ++i) {
    ScanAt(server, door, event.name(), codes[i], absl::StrCat("s", i));
    if (i % 10 == 0) absl::SleepFor(kQuick);  // spread over more than a dozen ticks
  }
  // Now it reads: far fewer messages than changes, and the last one is exact.
  v1::AttendanceUpdate update;
  int messages = 0;
  ASSERT_TRUE(stalled.Until(
      [&](const v1::AttendanceUpdate& u) {
        ++messages;
        return CheckedIn(u, event.entrance_checkpoint()) == 120;
      },
      absl::Seconds(10), &update));
  const absl::Duration took = absl::Now() - start;
  std::cout << "120 scans in " << absl::FormatDuration(took) << ", " << messages
            << " messages to a watcher that read only at the end\n";
  // Updates come about one per interval (a tick, or the wake-up of a feed idle for an interval;
  // timers may run early, so twice that is the bound), a heartbeat per second and the snapshot:
  // however slow this machine, never one message per scan.
  EXPECT_LE(messages, 2 * (took / kQuick) + took / absl::Seconds(1) + 3);
  EXPECT_LT(messages, 120);
}

TEST(WatchTest, WatchersComingAndGoingLeakNoSlot) {
  TestServer server(Quick);
  const v1::Event event = server.NewEvent("Oakland");
  const std::string screen = server.NewToken(v1::ROLE_DASHBOARD, event.name());
  // 5 rounds of 200 streams (the per-token limit) opened and dropped: were a slot leaked, the
  // next round would be refused.
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(round);
    std::vector<std::unique_ptr<Watch>> watches;
    for (int i = 0; i < 200; ++i) {
      watches.push_back(std::make_unique<Watch>(server, screen, event.name()));
    }
    for (auto& w : watches) {
      v1::AttendanceUpdate update;
      // The previous round's streams give their slots back as the server sees them go.
      for (int attempt = 0; !w->Next(&update); ++attempt) {
        ASSERT_EQ(w->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
        ASSERT_LT(attempt, 50) << "slots are not given back";
        absl::SleepFor(absl::Milliseconds(100));
        w = std::make_unique<Watch>(server, screen, event.name());
      }
      EXPECT_TRUE(update.snapshot());
    }
  }
  Watch one_more(server, screen, event.name());
  v1::AttendanceUpdate update;
  EXPECT_TRUE(one_more.Next(&update));
}

// ExportAttendance: the whole CSV, from the chunks of one stream.
grpc::Status Export(TestServer& server, const std::string& token, const std::string& event,
                    std::string* csv, int* chunks) {
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  v1::ExportAttendanceRequest req;
  req.set_event(event);
  auto reader = server.attendance().ExportAttendance(&ctx, req);
  v1::ExportAttendanceChunk chunk;
  *chunks = 0;
  while (reader->Read(&chunk)) {
    *csv += chunk.csv();
    ++*chunks;
  }
  return reader->Finish();
}

TEST(ExportTest, OneRowPerRegistrationWithFirstEntriesInTheEventsTimeZone) {
  TestServer server;
  const v1::Event event = server.NewEvent("Oakland");
  const v1::Session plenary = server.NewSession(event.name(), "Morning plenary", 0, 0, false);
  const std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
  const v1::RegisterResponse ana = server.Register(event.name(), "Ana Flores");
  const v1::RegisterResponse formula = server.Register(event.name(), "=HYPERLINK(\"x\")");
  ASSERT_FALSE(HasFailure());
  v1::ScanRequest scan;
  scan.set_event(event.name());
  scan.set_code(ana.ticket().code());
  scan.set_client_scan_id("e1");
  const absl::Time at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Minutes(3)));
  *scan.mutable_scan_time() = ToProtoTime(at);
  v1::ScanResult result;
  ASSERT_TRUE(server.checkin().Scan(TestServer::Context(door).get(), scan, &result).ok());

  std::string csv;
  int chunks = 0;
  ASSERT_TRUE(Export(server, server.admin_token(), event.name(), &csv, &chunks).ok());
  const std::vector<std::string> lines = absl::StrSplit(csv, "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << csv;
  EXPECT_EQ(lines[0],
            "registration,display_name,status,source,first entry: Entrance,"
            "first entry: Morning plenary,conflicts");
  const std::string local = absl::FormatTime(
      "%Y-%m-%d %H:%M:%S", at, [] {
        absl::TimeZone tz;
        absl::LoadTimeZone("America/Los_Angeles", &tz);
        return tz;
      }());
  EXPECT_EQ(lines[1], absl::StrCat(ana.registration().name(), ",Ana Flores,CONFIRMED,ONLINE,",
                                   local, ",,0"));
  EXPECT_EQ(lines[2], absl::StrCat(formula.registration().name(),
                                   ",\"'=HYPERLINK(\"\"x\"\")\",CONFIRMED,ONLINE,,,0"))
      << "a formula is made inert";
}

TEST(ExportTest, ALargeRosterComesInChunks) {
  TestServer server;
  const v1::Event event = server.NewEvent("Oakland");
  for (int i = 0; i < 620; ++i) server.Register(event.name(), absl::StrCat("Person ", i));
  ASSERT_FALSE(HasFailure());
  std::string csv;
  int chunks = 0;
  ASSERT_TRUE(Export(server, server.admin_token(), event.name(), &csv, &chunks).ok());
  EXPECT_EQ(chunks, 2);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 621);
}

TEST(ExportTest, OnlyOrganizersOfTheEventExport) {
  TestServer server;
  const v1::Event event = server.NewEvent("Oakland");
  const std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
  const std::string dashboard = server.NewToken(v1::ROLE_DASHBOARD, event.name());
  std::string csv;
  int chunks = 0;
  EXPECT_EQ(Export(server, door, event.name(), &csv, &chunks).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Export(server, dashboard, event.name(), &csv, &chunks).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Export(server, "", event.name(), &csv, &chunks).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Export(server, server.admin_token(), "events/999", &csv, &chunks).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(csv, "");
}

// The PostgreSQL postmaster serving `server`'s database.
pid_t Postmaster(TestServer& server) {
  pqxx::connection conn(server.database());
  pqxx::work txn(conn);
  const int backend = txn.exec1("SELECT pg_backend_pid()")[0].as<int>();
  std::ifstream status(absl::StrCat("/proc/", backend, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("PPid:", 0) == 0) {
      int ppid = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(5)), &ppid)) return ppid;
    }
  }
  return 0;
}

TEST(WatchTest, AScanOnOneReplicaReachesWatchersOfAnotherAlsoAfterPostgresRestarts) {
  TestServer a(Quick);
  TestServer b(Quick, &a);
  const v1::Event event = a.NewEvent("Oakland");
  const std::string door = a.NewToken(v1::ROLE_DOOR, event.name());
  const std::string ana = a.Register(event.name(), "Ana").ticket().code();
  const std::string ben = a.Register(event.name(), "Ben").ticket().code();
  ASSERT_FALSE(HasFailure());

  {
    Watch on_b(b, b.admin_token(), event.name());
    v1::AttendanceUpdate update;
    ASSERT_TRUE(on_b.Next(&update));
    const absl::Time scanned = absl::Now();
    ScanAt(a, door, event.name(), ana, "a1");
    ASSERT_TRUE(on_b.Until(
        [&](const v1::AttendanceUpdate& u) {
          return CheckedIn(u, event.entrance_checkpoint()) == 1;
        },
        absl::Seconds(5), &update));
    const absl::Duration delay = absl::Now() - scanned;
    std::cout << "scan on A to update on B: " << absl::FormatDuration(delay) << "\n";
    EXPECT_LT(delay, absl::Seconds(1));
  }

  // PostgreSQL dies and its supervisor starts it again: B's listener reconnects. The test
  // cluster commits asynchronously (not durable), so what is committed is flushed first.
  a.Execute("CHECKPOINT");
  const pid_t postmaster = Postmaster(a);
  ASSERT_GT(postmaster, 1);
  ASSERT_EQ(kill(postmaster, SIGKILL), 0);
  Watch on_b(b, b.admin_token(), event.name());
  v1::AttendanceUpdate update;
  // The stream starts once the database answers again.
  ASSERT_TRUE(on_b.Until([](const v1::AttendanceUpdate& u) { return u.snapshot(); },
                         absl::Seconds(30), &update));
  absl::Time scanned;
  for (int attempt = 0;; ++attempt) {  // until A's pool is back too
    v1::ScanRequest req;
    req.set_event(event.name());
    req.set_code(ben);
    req.set_client_scan_id("a2");
    v1::ScanResult result;
    scanned = absl::Now();
    if (a.checkin().Scan(TestServer::Context(door).get(), req, &result).ok()) {
      EXPECT_EQ(result.status(), v1::ScanResult::ADMITTED);
      break;
    }
    ASSERT_LT(attempt, 100) << "A never got its database back";
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(on_b.Until(
      [&](const v1::AttendanceUpdate& u) { return CheckedIn(u, event.entrance_checkpoint()) == 2; },
      absl::Seconds(10), &update));
  const absl::Duration delay = absl::Now() - scanned;
  std::cout << "after the restart, scan on A to update on B: " << absl::FormatDuration(delay)
            << "\n";
  EXPECT_LT(delay, absl::Seconds(2)) << "the listener may still be backing off; then it catches up";
}

}  // namespace
}  // namespace turnout::testing
