// The door engine (client-lib/door_engine.h) against the real server: online first, offline
// decisions that the server's canonical answers confirm, a queue that survives the engine and its
// process, uploads from several doors in any order, damaged stores, no names on the device, and
// reconnection after a server restart (docs/door-protocol.md §5-6).
#include "client-lib/door_engine.h"

#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client-lib/door_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"

extern char** environ;

namespace turnout::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::turnout::client::DoorAnswer;
using ::turnout::client::DoorEngine;
using ::turnout::client::DoorOptions;
using ::turnout::client::DoorScan;
using ::turnout::client::DoorState;

// Nothing listens there: connections are refused at once, as when the server is down.
constexpr char kDeadTarget[] = "127.0.0.1:1";

// What the child process of AKilledDoorProcessLosesNoScan reads from its environment.
constexpr char kChildDir[] = "TURNOUT_DOOR_CHILD_DIR";
constexpr char kChildToken[] = "TURNOUT_DOOR_CHILD_TOKEN";
constexpr char kChildEvent[] = "TURNOUT_DOOR_CHILD_EVENT";
constexpr char kChildCodes[] = "TURNOUT_DOOR_CHILD_CODES";

std::string StatusOf(const v1::ScanResult& r) { return v1::ScanResult::Status_Name(r.status()); }

// One row of a store's scans, read straight from the file.
struct StoredRow {
  std::string device_status;
  std::string canonical_status;
  int upload_state = 0;
};

std::map<std::string, StoredRow> ReadRows(const std::string& dir) {
  std::map<std::string, StoredRow> rows;
  sqlite3* db = nullptr;
  const std::string path = absl::StrCat(dir, "/", client::DoorStore::kFileName);
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT client_scan_id, device_status, canonical_status, upload_state "
                     "FROM scans",
                     -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    StoredRow& row = rows[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))];
    row.device_status = v1::ScanResult::Status_Name(
        static_cast<v1::ScanResult::Status>(sqlite3_column_int(stmt, 1)));
    row.canonical_status = v1::ScanResult::Status_Name(
        static_cast<v1::ScanResult::Status>(sqlite3_column_int(stmt, 2)));
    row.upload_state = sqlite3_column_int(stmt, 3);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

DoorOptions Options(const std::string& target, const std::string& token, const std::string& event,
                    const std::string& dir) {
  DoorOptions o;
  o.client.target = target;
  o.client.token = token;
  o.event = event;
  o.state_dir = dir;
  // Tests sync when they mean to; the engine still syncs once when it opens.
  o.sync_interval = absl::Hours(1);
  return o;
}

class DoorEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = server_.NewEvent("Oakland");
    for (int i = 0; i < 3; ++i) doors_.push_back(server_.NewToken(v1::ROLE_DOOR, event_.name()));
    ASSERT_FALSE(HasFailure());
  }

  std::string Target() const { return absl::StrCat("127.0.0.1:", server_.port()); }

  // An engine of door `door` on `dir`; `reachable` false points it at a dead address.
  std::unique_ptr<DoorEngine> Open(const std::string& dir, int door = 0, bool reachable = true,
                                   std::function<absl::Time()> now = nullptr) {
    DoorOptions o = Options(reachable ? Target() : kDeadTarget, doors_[door], event_.name(), dir);
    if (now) o.now = std::move(now);
    absl::StatusOr<std::unique_ptr<DoorEngine>> engine = DoorEngine::Open(o);
    EXPECT_TRUE(engine.ok()) << engine.status();
    return engine.ok() ? *std::move(engine) : nullptr;
  }

  // Opens an engine online on `dir` and fetches the bundle, as a door does before the doors open.
  void Prepare(const std::string& dir, int door = 0) {
    std::unique_ptr<DoorEngine> engine = Open(dir, door);
    ASSERT_NE(engine, nullptr);
    const absl::Status synced = engine->SyncNow();
    ASSERT_TRUE(synced.ok()) << synced;
    ASSERT_GT(engine->State().bundle_version, 0);
  }

  DoorAnswer Scan(DoorEngine& engine, const std::string& code,
                  v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY) {
    absl::StatusOr<DoorAnswer> answer = engine.Scan({.code = code, .direction = direction});
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.value_or(DoorAnswer{});
  }

  v1::Attendance Attendance() { return server_.Attendance(event_.name()); }
  v1::CheckpointAttendance Entrance() { return server_.CountsAt(event_); }

  std::string Code(const std::string& name) {
    return server_.Register(event_.name(), name).ticket().code();
  }

  TestServer server_;
  v1::Event event_;
  std::vector<std::string> doors_;
  ScopedTempDir dir_{"door-engine-test"};
};

TEST_F(DoorEngineTest, OnlineTheServerDecidesAndNothingIsQueued) {
  const std::string ana = Code("Ana Flores");
  std::unique_ptr<DoorEngine> door = Open(dir_.path());
  ASSERT_NE(door, nullptr);
  const DoorAnswer first = Scan(*door, ana);
  EXPECT_EQ(StatusOf(first.result), "ADMITTED");
  EXPECT_FALSE(first.offline);
  EXPECT_EQ(first.result.display_name(), "Ana Flores");
  EXPECT_THAT(first.result.scan(), HasSubstr("/scans/"));
  const DoorAnswer second = Scan(*door, ana);
  EXPECT_EQ(StatusOf(second.result), "ALREADY_CHECKED_IN");
  EXPECT_NE(second.client_scan_id, first.client_scan_id);
  ASSERT_TRUE(door->SyncNow().ok());
  const DoorState state = door->State();
  EXPECT_TRUE(state.online);
  EXPECT_EQ(state.queued, 0);
  EXPECT_EQ(state.inside, 1);
  EXPECT_EQ(state.checkpoint.name(), event_.entrance_checkpoint());
  EXPECT_EQ(state.time_zone, "America/Los_Angeles");
  EXPECT_THAT(state.last_error, IsEmpty());
  EXPECT_EQ(Entrance().checked_in(), 1);
  absl::StatusOr<DoorAnswer> empty = door->Scan({});
  EXPECT_TRUE(absl::IsInvalidArgument(empty.status()));
}

// Every status a door meets, decided offline, then uploaded: the server's canonical answer is the
// device's for each scan, so the server counts no conflict.
TEST_F(DoorEngineTest, OfflineDecisionsAreTheServersAnswers) {
  const std::string ana = Code("Ana Flores");
  const std::string ben = Code("Ben Okafor");
  const v1::RegisterResponse carla = server_.Register(event_.name(), "Carla Ruiz");
  const v1::RegisterResponse dan = server_.Register(event_.name(), "Dan Wu");
  const v1::Event la = server_.NewEvent("Los Angeles");
  const std::string stranger = server_.Register(la.name(), "Eve Stone").ticket().code();
  const v1::Session later =
      server_.NewSession(event_.name(), "Evening plenary", 0, 0, false, absl::Hours(3));
  ASSERT_FALSE(HasFailure());
  v1::CancelRegistrationRequest cancel;
  cancel.set_name(carla.registration().name());
  v1::Registration canceled;
  ASSERT_TRUE(server_.registrations()
                  .CancelRegistration(server_.AdminContext().get(), cancel, &canceled)
                  .ok());
  v1::ReissueTicketRequest reissue;
  reissue.set_name(dan.registration().name());
  v1::Ticket dan_now;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), reissue, &dan_now).ok());
  {
    // Ben came in through another door before this one took its bundle.
    std::unique_ptr<DoorEngine> other = Open(dir_.path() + "/other", 1);
    EXPECT_EQ(StatusOf(Scan(*other, ben).result), "ADMITTED");
  }
  Prepare(dir_.path());

  std::unique_ptr<DoorEngine> door = Open(dir_.path(), 0, /*reachable=*/false);
  ASSERT_NE(door, nullptr);
  std::string forged = ana;
  forged[70] = forged[70] == 'A' ? 'B' : 'A';
  const std::vector<std::pair<std::string, std::string>> expected = {
      {ana, "ADMITTED"},
      {ana, "ALREADY_CHECKED_IN"},  // this device's own scan
      {ben, "ALREADY_CHECKED_IN"},  // in the bundle
      {carla.ticket().code(), "CANCELED"},
      {dan.ticket().code(), "REVOKED"},
      {dan_now.code(), "ADMITTED"},
      {stranger, "WRONG_EVENT"},
      {forged, "INVALID"},
      {"NOT A TICKET", "INVALID"},
  };
  for (const auto& [code, status] : expected) {
    const DoorAnswer answer = Scan(*door, code);
    EXPECT_TRUE(answer.offline);
    EXPECT_EQ(StatusOf(answer.result), status) << code;
  }
  const DoorAnswer ana_again = Scan(*door, ana);
  EXPECT_THAT(ana_again.result.message(), HasSubstr("already checked in"));
  EXPECT_EQ(ana_again.result.display_name(), "Ana Flores");
  EXPECT_EQ(ana_again.result.first_entry_checkpoint(), event_.entrance_checkpoint());
  EXPECT_TRUE(ana_again.result.has_first_entry_time());
  EXPECT_EQ(StatusOf(Scan(*door, stranger).result), "WRONG_EVENT");
  EXPECT_THAT(Scan(*door, stranger).result.display_name(), IsEmpty());
  EXPECT_EQ(StatusOf(Scan(*door, carla.ticket().code(), v1::SCAN_DIRECTION_EXIT).result),
            "EXIT_RECORDED");
  EXPECT_EQ(StatusOf(Scan(*door, dan.ticket().code(), v1::SCAN_DIRECTION_EXIT).result),
            "EXIT_RECORDED");
  ASSERT_TRUE(door->SetCheckpoint(later.checkpoint()).ok());
  EXPECT_EQ(StatusOf(Scan(*door, ana).result), "OUTSIDE_CHECKIN_WINDOW");
  ASSERT_TRUE(door->SetCheckpoint("").ok());
  const DoorState offline = door->State();
  EXPECT_FALSE(offline.online);
  EXPECT_EQ(offline.queued, 15);
  EXPECT_THAT(offline.last_error, HasSubstr("UNAVAILABLE"));
  door.reset();

  door = Open(dir_.path());
  ASSERT_TRUE(door->SyncNow().ok());
  EXPECT_EQ(door->State().queued, 0);
  door.reset();
  int compared = 0;
  for (const auto& [id, row] : ReadRows(dir_.path())) {
    EXPECT_EQ(row.canonical_status, row.device_status) << id;
    ++compared;
  }
  EXPECT_EQ(compared, 15);
  const v1::Attendance attendance = Attendance();
  EXPECT_EQ(attendance.conflicts(), 0);
  const v1::CheckpointAttendance entrance = Entrance();
  EXPECT_EQ(entrance.checked_in(), 3) << "Ben, Ana and Dan";
}

// The engine goes away without syncing (as when the app is killed): the queue is on disk. One scan
// also reached the server online with the same client_scan_id (its answer was lost on the way
// back): the upload answers it as a replay and nothing counts twice.
TEST_F(DoorEngineTest, TheQueueOutlivesTheEngineAndUploadsOnce) {
  const std::vector<std::string> codes = {Code("Ana"), Code("Ben"), Code("Carla")};
  ASSERT_FALSE(HasFailure());
  Prepare(dir_.path());
  std::vector<std::string> ids;
  {
    std::unique_ptr<DoorEngine> door = Open(dir_.path(), 0, false);
    for (const std::string& code : codes) ids.push_back(Scan(*door, code).client_scan_id);
    EXPECT_EQ(door->State().queued, 3);
  }
  v1::ScanRequest reached;
  reached.set_event(event_.name());
  reached.set_code(codes[1]);
  reached.set_client_scan_id(ids[1]);
  v1::ScanResult first;
  ASSERT_TRUE(server_.checkin().Scan(TestServer::Context(doors_[0]).get(), reached, &first).ok());
  EXPECT_EQ(StatusOf(first), "ADMITTED");
  {
    std::unique_ptr<DoorEngine> door = Open(dir_.path(), 0, false);
    EXPECT_EQ(door->State().queued, 3) << "intact after a reopen";
  }
  std::unique_ptr<DoorEngine> door = Open(dir_.path());
  ASSERT_TRUE(door->SyncNow().ok());
  EXPECT_EQ(door->State().queued, 0);
  ASSERT_TRUE(door->SyncNow().ok());
  const v1::CheckpointAttendance entrance = Entrance();
  EXPECT_EQ(entrance.checked_in(), 3);
  EXPECT_EQ(entrance.inside(), 3);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans"), 3) << "one row per scan";
  EXPECT_EQ(Attendance().conflicts(), 0);
}

// A door whose clock ran 10 minutes fast queued a scan the server refuses as a request: the row is
// kept with the server's reason, counted as failed, and not sent again.
TEST_F(DoorEngineTest, AScanTheServerRefusesIsKeptAsFailedAndNeverSentAgain) {
  const std::string ana = Code("Ana");
  ASSERT_FALSE(HasFailure());
  Prepare(dir_.path());
  {
    std::unique_ptr<DoorEngine> fast_clock =
        Open(dir_.path(), 0, false, [] { return absl::Now() + absl::Minutes(10); });
    EXPECT_EQ(StatusOf(Scan(*fast_clock, ana).result), "ADMITTED");
  }
  std::unique_ptr<DoorEngine> door = Open(dir_.path());
  ASSERT_TRUE(door->SyncNow().ok());
  DoorState state = door->State();
  EXPECT_EQ(state.queued, 0);
  EXPECT_EQ(state.failed, 1);
  ASSERT_TRUE(door->SyncNow().ok());
  EXPECT_EQ(door->State().failed, 1);
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans"), 0);
  door.reset();
  const std::map<std::string, StoredRow> rows = ReadRows(dir_.path());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.begin()->second.upload_state, static_cast<int>(client::UploadState::kFailed));
}

// Run only as the child of AKilledDoorProcessLosesNoScan: scans offline, then kills itself the
// moment the last answer is back.
TEST(DoorEngineChildProcess, ScansOfflineThenIsKilled) {
  const char* dir = std::getenv(kChildDir);
  if (dir == nullptr) GTEST_SKIP() << "runs as a child process of AKilledDoorProcessLosesNoScan";
  absl::StatusOr<std::unique_ptr<DoorEngine>> door = DoorEngine::Open(
      Options(kDeadTarget, std::getenv(kChildToken), std::getenv(kChildEvent), dir));
  ASSERT_TRUE(door.ok()) << door.status();
  for (absl::string_view code : absl::StrSplit(std::getenv(kChildCodes), ',')) {
    absl::StatusOr<DoorAnswer> answer = (*door)->Scan({.code = std::string(code)});
    ASSERT_TRUE(answer.ok() && answer->offline) << answer.status();
  }
  kill(getpid(), SIGKILL);
}

TEST_F(DoorEngineTest, AKilledDoorProcessLosesNoScan) {
  std::vector<std::string> codes;
  for (int i = 0; i < 5; ++i) codes.push_back(Code(absl::StrCat("Person ", i)));
  ASSERT_FALSE(HasFailure());
  Prepare(dir_.path());
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.push_back(absl::StrCat(kChildDir, "=", dir_.path()));
  env.push_back(absl::StrCat(kChildToken, "=", doors_[0]));
  env.push_back(absl::StrCat(kChildEvent, "=", event_.name()));
  env.push_back(absl::StrCat(kChildCodes, "=", absl::StrJoin(codes, ",")));
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=DoorEngineChildProcess.ScansOfflineThenIsKilled";
  std::vector<char*> argv = {self.data(), filter.data(), nullptr};
  pid_t child = 0;
  ASSERT_EQ(posix_spawn(&child, self.c_str(), nullptr, nullptr, argv.data(), envp.data()), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child failed before it was killed: " << status;

  std::unique_ptr<DoorEngine> door = Open(dir_.path());
  EXPECT_THAT(door->State().damaged_store, IsEmpty());
  ASSERT_TRUE(door->SyncNow().ok());
  EXPECT_EQ(door->State().queued, 0);
  EXPECT_EQ(Entrance().checked_in(), 5);
}

// Three doors admit overlapping tickets offline at t1 < t2 < t3 and upload in reverse order: the
// earliest scan of each ticket is the admission, the others duplicates, whatever the order.
TEST_F(DoorEngineTest, ThreeDoorsOfflineUploadInReverseOrderAndSettleByScanTime) {
  const std::string a = Code("Ana");
  const std::string b = Code("Ben");
  ASSERT_FALSE(HasFailure());
  const absl::Time t0 = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  const std::vector<absl::Time> at = {t0 - absl::Minutes(30), t0 - absl::Minutes(20),
                                      t0 - absl::Minutes(10)};
  const std::vector<std::vector<std::string>> scans = {{a}, {a, b}, {a, b}};
  std::vector<std::vector<std::string>> ids(3);
  for (int d = 0; d < 3; ++d) {
    const std::string dir = absl::StrCat(dir_.path(), "/door", d);
    Prepare(dir, d);
    std::unique_ptr<DoorEngine> door = Open(dir, d, false, [t = at[d]] { return t; });
    for (const std::string& code : scans[d]) {
      const DoorAnswer answer = Scan(*door, code);
      EXPECT_EQ(StatusOf(answer.result), "ADMITTED") << "each door knows only itself";
      ids[d].push_back(answer.client_scan_id);
    }
  }
  for (int d = 2; d >= 0; --d) {
    std::unique_ptr<DoorEngine> door = Open(absl::StrCat(dir_.path(), "/door", d), d);
    ASSERT_TRUE(door->SyncNow().ok());
    EXPECT_EQ(door->State().queued, 0);
  }
  // Uploading again answers each scan's canonical status now, and changes nothing.
  std::map<std::string, std::string> canonical;
  for (int d = 0; d < 3; ++d) {
    v1::UploadScansRequest req;
    req.set_event(event_.name());
    for (size_t i = 0; i < scans[d].size(); ++i) {
      v1::OfflineScan* s = req.add_scans();
      s->mutable_scan()->set_code(scans[d][i]);
      s->mutable_scan()->set_client_scan_id(ids[d][i]);
      *s->mutable_scan()->mutable_scan_time() = ToProtoTime(at[d]);
      s->set_device_status(v1::ScanResult::ADMITTED);
    }
    v1::UploadScansResponse resp;
    ASSERT_TRUE(
        server_.checkin().UploadScans(TestServer::Context(doors_[d]).get(), req, &resp).ok());
    for (const v1::UploadedScan& row : resp.results()) {
      EXPECT_TRUE(row.result().replayed());
      canonical[row.client_scan_id()] = StatusOf(row.result());
    }
  }
  EXPECT_EQ(canonical[ids[0][0]], "ADMITTED");
  EXPECT_EQ(canonical[ids[1][0]], "ALREADY_CHECKED_IN");
  EXPECT_EQ(canonical[ids[1][1]], "ADMITTED");
  EXPECT_EQ(canonical[ids[2][0]], "ALREADY_CHECKED_IN");
  EXPECT_EQ(canonical[ids[2][1]], "ALREADY_CHECKED_IN");
  const v1::CheckpointAttendance entrance = Entrance();
  EXPECT_EQ(entrance.checked_in(), 2);
  EXPECT_EQ(entrance.inside(), 2);
  EXPECT_EQ(Attendance().conflicts(), 3) << "three doors admitted someone already in";
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans"), 5);
}

TEST_F(DoorEngineTest, ACorruptOrTruncatedStoreIsSetAsideReportedAndReplaced) {
  const std::string ana = Code("Ana");
  ASSERT_FALSE(HasFailure());
  // Corrupt: not a database at all.
  const std::string corrupt = dir_.path() + "/corrupt";
  fs::create_directories(corrupt);
  std::ofstream(corrupt + "/door.sqlite", std::ios::binary) << std::string(10000, '\x42');
  {
    std::unique_ptr<DoorEngine> door = Open(corrupt);
    ASSERT_NE(door, nullptr);
    const DoorState state = door->State();
    EXPECT_THAT(state.damaged_store, HasSubstr("door.sqlite.damaged-"));
    EXPECT_THAT(state.damage, HasSubstr("not a database"));
    EXPECT_TRUE(fs::exists(state.damaged_store));
    ASSERT_TRUE(door->SyncNow().ok()) << "the new store takes a bundle";
    EXPECT_EQ(StatusOf(Scan(*door, ana).result), "ADMITTED");
  }
  // Truncated: a store with queued scans loses its second half.
  const std::string truncated = dir_.path() + "/truncated";
  Prepare(truncated, 1);
  {
    std::unique_ptr<DoorEngine> door = Open(truncated, 1, false);
    for (int i = 0; i < 20; ++i) Scan(*door, absl::StrCat("NOT A TICKET ", i));
  }
  const std::string file = truncated + "/door.sqlite";
  fs::resize_file(file, fs::file_size(file) / 2);
  std::unique_ptr<DoorEngine> door = Open(truncated, 1, false);
  ASSERT_NE(door, nullptr);
  const DoorState state = door->State();
  EXPECT_THAT(state.damaged_store, HasSubstr("door.sqlite.damaged-"));
  EXPECT_THAT(state.damage, HasSubstr("malformed"));
  EXPECT_EQ(state.queued, state.salvaged_scans);
  std::cout << "truncated store: " << state.salvaged_scans << " of 20 queued scans salvaged\n";
  door.reset();
  door = Open(truncated, 1);
  ASSERT_TRUE(door->SyncNow().ok());
  EXPECT_EQ(StatusOf(Scan(*door, ana).result), "ALREADY_CHECKED_IN");
}

// A lost device leaks no roster: its files hold the sealed entries and ids, never a name or a
// flag, whether the scans were answered online or decided offline.
TEST_F(DoorEngineTest, TheDevicesFilesHoldNoNameOrFlag) {
  const std::vector<std::string> names = {"Guadalupe Reyes", "Nguyễn Văn An", "Анна Петрова",
                                          "Oluwaseun Adeyemi"};
  std::vector<std::string> codes;
  for (const std::string& name : names) {
    v1::RegisterRequest req;
    req.set_parent(event_.name());
    req.set_request_id(absl::StrCat("device-files-", codes.size()));
    req.mutable_registration()->set_display_name(name);
    req.mutable_registration()->set_preferred_language("es");
    req.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
    req.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_ACCESSIBILITY);
    v1::RegisterResponse resp;
    ASSERT_TRUE(server_.registrations().Register(server_.AdminContext().get(), req, &resp).ok());
    codes.push_back(resp.ticket().code());
  }
  Prepare(dir_.path());
  {
    std::unique_ptr<DoorEngine> door = Open(dir_.path());
    EXPECT_EQ(Scan(*door, codes[0]).result.display_name(), names[0]);  // online
  }
  std::unique_ptr<DoorEngine> door = Open(dir_.path(), 0, false);
  const DoorAnswer offline = Scan(*door, codes[1]);
  ASSERT_TRUE(offline.offline);
  EXPECT_EQ(offline.result.display_name(), names[1]);
  std::vector<std::string> secrets = {"SPANISH_INTERPRETATION", "ACCESSIBILITY", "Spanish",
                                      "interpretation"};
  for (const std::string& name : names) {
    secrets.push_back(name);
    secrets.push_back(name.substr(0, 5));
    secrets.push_back(name.substr(name.size() - 5));
  }
  auto check_files = [&](absl::string_view when) {
    int files = 0;
    for (const fs::directory_entry& f : fs::recursive_directory_iterator(dir_.path())) {
      if (!f.is_regular_file()) continue;
      ++files;
      const std::string bytes = ReadFile(f.path().string());
      for (const std::string& secret : secrets) {
        EXPECT_EQ(bytes.find(secret), std::string::npos) << secret << " in " << f.path() << when;
      }
    }
    EXPECT_GT(files, 0);
  };
  check_files(" while the engine runs");
  door.reset();
  check_files(" after it stopped");
}

TEST_F(DoorEngineTest, SearchWalkInsAnnulmentAndAdmittingByNameNeedTheServer) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  ASSERT_FALSE(HasFailure());
  Prepare(dir_.path());
  {
    std::unique_ptr<DoorEngine> door = Open(dir_.path(), 0, false);
    EXPECT_TRUE(Scan(*door, ana.ticket().code()).offline);
    for (const absl::Status& s :
         {door->Search("Ana").status(), door->AnnulLast(),
          door->WalkIn(v1::Registration()).status(),
          door->Scan({.registration = ana.registration().name()}).status()}) {
      EXPECT_TRUE(absl::IsUnavailable(s)) << s;
      EXPECT_THAT(s.message(), HasSubstr("needs the server; the door is offline"));
    }
  }
  std::unique_ptr<DoorEngine> door = Open(dir_.path());
  ASSERT_TRUE(door->SyncNow().ok());
  absl::StatusOr<std::vector<v1::AttendeeMatch>> found = door->Search("flores");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_TRUE((*found)[0].checked_in());
  absl::StatusOr<DoorAnswer> by_name = door->Scan(
      {.registration = (*found)[0].registration(), .direction = v1::SCAN_DIRECTION_EXIT});
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_EQ(StatusOf(by_name->result), "EXIT_RECORDED");
  EXPECT_EQ(Entrance().inside(), 0);
  ASSERT_TRUE(door->AnnulLast().ok());
  EXPECT_EQ(Entrance().inside(), 1) << "the exit is undone";
  EXPECT_TRUE(absl::IsFailedPrecondition(door->AnnulLast()));
  v1::Registration walk_in;
  walk_in.set_display_name("Walk In");
  absl::StatusOr<DoorAnswer> walked = door->WalkIn(walk_in);
  ASSERT_TRUE(walked.ok()) << walked.status();
  EXPECT_EQ(StatusOf(walked->result), "ADMITTED");
  EXPECT_EQ(Entrance().checked_in(), 2);
}

TEST_F(DoorEngineTest, BackOnlineWithinTwoSecondsOfAServerRestart) {
  const std::string ana = Code("Ana");
  const std::string ben = Code("Ben");
  ASSERT_FALSE(HasFailure());
  std::unique_ptr<DoorEngine> door = Open(dir_.path());
  ASSERT_TRUE(door->SyncNow().ok());
  EXPECT_FALSE(Scan(*door, ana).offline);
  server_.StopServing();
  const DoorAnswer offline = Scan(*door, ben);
  EXPECT_TRUE(offline.offline);
  EXPECT_EQ(StatusOf(offline.result), "ADMITTED");
  EXPECT_FALSE(door->State().online);
  // Down long enough for gRPC's default backoff to have grown past 4 s (1 s, 1.6 s, 2.6 s, ...).
  absl::SleepFor(absl::Seconds(5));
  server_.StartAgain();
  const absl::Time restarted = absl::Now();
  while (!door->State().online && absl::Now() - restarted < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  const absl::Duration back = absl::Now() - restarted;
  std::cout << "back online " << absl::ToInt64Milliseconds(back)
            << " ms after the server restarted\n";
  EXPECT_LT(back, absl::Seconds(2));
  EXPECT_FALSE(Scan(*door, Code("Carla")).offline);
  // Coming back, the engine uploaded what it decided offline.
  while (door->State().queued > 0 && absl::Now() - restarted < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(door->State().queued, 0);
  EXPECT_EQ(Entrance().checked_in(), 3);
}

}  // namespace
}  // namespace turnout::testing
