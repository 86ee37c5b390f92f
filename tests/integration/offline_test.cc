// The offline door protocol through the real server (docs/door-protocol.md): GetOfflineBundle
// (sealed roster entries, incremental versions) and UploadScans (canonical scan-time order
// across devices, idempotent uploads, conflicts, per-row errors).
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/offline_entry.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string StatusOf(const v1::ScanResult& r) { return v1::ScanResult::Status_Name(r.status()); }

class OfflineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = server_.NewEvent("Oakland");
    breakout_ = server_.NewSession(event_.name(), "Workers' rights", 1, 10, true);
    for (int i = 0; i < 3; ++i) doors_.push_back(server_.NewToken(v1::ROLE_DOOR, event_.name()));
    ASSERT_FALSE(HasFailure());
  }

  v1::OfflineBundle Bundle(int64_t since = 0, const std::string& token = "") {
    v1::GetOfflineBundleRequest req;
    req.set_event(event_.name());
    req.set_since_version(since);
    v1::OfflineBundle bundle;
    grpc::Status status = server_.checkin().GetOfflineBundle(
        TestServer::Context(token.empty() ? doors_[0] : token).get(), req, &bundle);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return bundle;
  }

  // The entry `code` opens in `bundle`, as a door device finds it.
  std::optional<v1::OfflineEntry> Open(const v1::OfflineBundle& bundle, const std::string& code) {
    absl::StatusOr<domain::EntryKeys> keys = domain::DeriveEntryKeys(code);
    if (!keys.ok()) return std::nullopt;
    for (const v1::OfflineRosterEntry& e : bundle.entries()) {
      if (e.lookup_key() != keys->lookup_bytes()) continue;
      absl::StatusOr<std::string> plain = domain::OpenEntry(*keys, e.sealed_entry());
      v1::OfflineEntry entry;
      if (plain.ok() && entry.ParseFromString(*plain)) return entry;
    }
    return std::nullopt;
  }

  v1::OfflineScan Offline(const std::string& code, absl::Time at, const std::string& id,
                          v1::ScanResult::Status device_status = v1::ScanResult::ADMITTED,
                          v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY) {
    v1::OfflineScan scan;
    scan.mutable_scan()->set_code(code);
    scan.mutable_scan()->set_client_scan_id(id);
    scan.mutable_scan()->set_direction(direction);
    scan.mutable_scan()->set_language("en");
    *scan.mutable_scan()->mutable_scan_time() = ToProtoTime(at);
    scan.set_device_status(device_status);
    return scan;
  }

  v1::UploadScansResponse Upload(const std::string& door, const std::vector<v1::OfflineScan>& scans,
                                 grpc::StatusCode expected = grpc::StatusCode::OK) {
    v1::UploadScansRequest req;
    req.set_event(event_.name());
    for (const v1::OfflineScan& s : scans) *req.add_scans() = s;
    v1::UploadScansResponse resp;
    grpc::Status status = server_.checkin().UploadScans(TestServer::Context(door).get(), req, &resp);
    EXPECT_EQ(status.error_code(), expected) << status.error_message();
    return resp;
  }

  v1::Attendance Attendance() { return server_.Attendance(event_.name()); }
  v1::CheckpointAttendance Entrance() { return server_.CountsAt(event_); }

  // Whole microseconds, as the database keeps them.
  static absl::Time Minutes(int m) {
    static const absl::Time t0 =
        absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() - absl::Minutes(50)));
    return t0 + absl::Minutes(m);
  }

  TestServer server_;
  v1::Event event_;
  v1::Session breakout_;
  std::vector<std::string> doors_;
};

TEST_F(OfflineTest, ABundleCarriesKeysCheckpointsAndOneSealedEntryPerValidTicket) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores", {breakout_.name()});
  const v1::RegisterResponse ben = server_.Register(event_.name(), "Ben Okafor");
  const v1::RegisterResponse carla = server_.Register(event_.name(), "Carla Ruiz");
  ASSERT_FALSE(HasFailure());
  v1::CancelRegistrationRequest cancel;
  cancel.set_name(carla.registration().name());
  v1::Registration canceled;
  ASSERT_TRUE(server_.registrations()
                  .CancelRegistration(server_.AdminContext().get(), cancel, &canceled)
                  .ok());
  v1::ReissueTicketRequest reissue;
  reissue.set_name(ben.registration().name());
  v1::Ticket ben_now;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), reissue, &ben_now).ok());
  v1::ScanRequest scan;
  scan.set_event(event_.name());
  scan.set_code(ana.ticket().code());
  scan.set_client_scan_id("online-1");
  v1::ScanResult admitted;
  ASSERT_TRUE(
      server_.checkin().Scan(TestServer::Context(doors_[1]).get(), scan, &admitted).ok());

  const v1::OfflineBundle bundle = Bundle();
  EXPECT_TRUE(bundle.full());
  EXPECT_GT(bundle.version(), 0);
  EXPECT_EQ(bundle.time_zone(), "America/Los_Angeles");
  ASSERT_EQ(bundle.keys_size(), 1);
  EXPECT_EQ(bundle.keys(0).public_key().size(), 32u);
  EXPECT_EQ(bundle.checkpoints_size(), 2);
  EXPECT_EQ(bundle.checkpoints(1).room(), "Room Workers' rights");
  EXPECT_EQ(bundle.entries_size(), 3) << "Ana, Ben's new code, and Carla (canceled)";
  EXPECT_EQ(bundle.revoked_tickets_size(), 1) << "Ben's old code";
  std::set<size_t> sizes;
  for (const v1::OfflineRosterEntry& e : bundle.entries()) sizes.insert(e.sealed_entry().size());
  EXPECT_EQ(sizes.size(), 1u) << "every entry has one size";

  std::optional<v1::OfflineEntry> a = Open(bundle, ana.ticket().code());
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->display_name(), "Ana Flores");
  EXPECT_EQ(a->registration(), ana.registration().name());
  EXPECT_EQ(a->status(), v1::Registration::CONFIRMED);
  ASSERT_EQ(a->session_choices_size(), 1);
  EXPECT_EQ(a->session_choices(0).session(), breakout_.name());
  ASSERT_EQ(a->presence_size(), 1) << "admitted at the entrance before the bundle was made";
  EXPECT_EQ(a->presence(0).checkpoint(), event_.entrance_checkpoint());
  EXPECT_TRUE(a->presence(0).inside());
  EXPECT_TRUE(a->presence(0).has_first_entry_time());

  EXPECT_EQ(Open(bundle, carla.ticket().code())->status(), v1::Registration::CANCELED);
  EXPECT_EQ(Open(bundle, ben_now.code())->display_name(), "Ben Okafor");
  EXPECT_FALSE(Open(bundle, ben.ticket().code()).has_value()) << "the old code opens nothing";
  const std::string old_ticket_id = Open(bundle, ben_now.code())->ticket_id();
  EXPECT_NE(bundle.revoked_tickets(0), old_ticket_id);
}

// A lost device leaks no roster: without the codes, the bundle's bytes name nobody.
TEST_F(OfflineTest, WithoutTheCodesTheBundleYieldsNoNameOrFlag) {
  std::vector<std::string> codes;
  const std::vector<std::string> names = {"Guadalupe Reyes", "Nguyễn Văn An", "Анна Петрова",
                                          "Lǐ Huá", "Oluwaseun Adeyemi"};
  for (const std::string& name : names) {
    v1::RegisterRequest req;
    req.set_parent(event_.name());
    req.set_request_id(absl::StrCat("bundle-", codes.size()));
    req.mutable_registration()->set_display_name(name);
    req.mutable_registration()->set_email(absl::StrCat("person", codes.size(), "@example.org"));
    req.mutable_registration()->set_preferred_language("es");
    req.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
    req.mutable_registration()->add_session_choices()->set_session(breakout_.name());
    v1::RegisterResponse resp;
    const grpc::Status status =
        server_.registrations().Register(server_.AdminContext().get(), req, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    codes.push_back(resp.ticket().code());
  }
  const v1::OfflineBundle bundle = Bundle();
  const std::string bytes = bundle.SerializeAsString();
  for (const std::string& name : names) {
    for (const std::string& piece : {name, name.substr(0, 4), name.substr(name.size() - 4)}) {
      EXPECT_EQ(bytes.find(piece), std::string::npos) << piece;
    }
  }
  EXPECT_EQ(bytes.find("@example.org"), std::string::npos);
  EXPECT_EQ(bytes.find(absl::StrCat(event_.name(), "/registrations/")), std::string::npos);

  // One code opens exactly its own entry.
  int opened = 0;
  const absl::StatusOr<domain::EntryKeys> keys = domain::DeriveEntryKeys(codes[1]);
  for (const v1::OfflineRosterEntry& e : bundle.entries()) {
    if (domain::OpenEntry(*keys, e.sealed_entry()).ok()) ++opened;
  }
  EXPECT_EQ(opened, 1);
  EXPECT_EQ(Open(bundle, codes[1])->display_name(), "Nguyễn Văn An");
}

TEST_F(OfflineTest, ADeltaCarriesOnlyWhatChangedSinceItsVersion) {
  const v1::RegisterResponse ana = server_.Register(event_.name(), "Ana Flores");
  const v1::RegisterResponse ben = server_.Register(event_.name(), "Ben Okafor");
  ASSERT_FALSE(HasFailure());
  const v1::OfflineBundle full = Bundle();
  ASSERT_EQ(full.entries_size(), 2);

  const v1::OfflineBundle nothing = Bundle(full.version());
  EXPECT_FALSE(nothing.full());
  EXPECT_THAT(nothing.entries(), IsEmpty());
  EXPECT_EQ(nothing.checkpoints_size(), 2) << "checkpoints and keys are always whole";

  const v1::RegisterResponse carla = server_.Register(event_.name(), "Carla Ruiz");
  v1::ScanRequest scan;
  scan.set_event(event_.name());
  scan.set_code(ben.ticket().code());
  scan.set_client_scan_id("ben-arrives");
  v1::ScanResult admitted;
  ASSERT_TRUE(server_.checkin().Scan(TestServer::Context(doors_[0]).get(), scan, &admitted).ok());
  v1::ReissueTicketRequest reissue;
  reissue.set_name(ana.registration().name());
  v1::Ticket ana_now;
  ASSERT_TRUE(
      server_.registrations().ReissueTicket(server_.AdminContext().get(), reissue, &ana_now).ok());

  const v1::OfflineBundle delta = Bundle(full.version());
  EXPECT_FALSE(delta.full());
  EXPECT_GE(delta.version(), full.version());
  EXPECT_EQ(delta.entries_size(), 3) << "Carla is new, Ben came in, Ana has a new code";
  EXPECT_TRUE(Open(delta, carla.ticket().code()).has_value());
  EXPECT_TRUE(Open(delta, ben.ticket().code())->presence(0).inside());
  EXPECT_TRUE(Open(delta, ana_now.code()).has_value());
  EXPECT_EQ(delta.revoked_tickets_size(), 1);

  const v1::OfflineBundle after_delta = Bundle(delta.version());
  EXPECT_THAT(after_delta.entries(), IsEmpty());
  // A version this database never gave (another deployment's) gets a full bundle.
  EXPECT_TRUE(Bundle(delta.version() + 1000000).full());
}

TEST_F(OfflineTest, OnlyStaffAndDoorsOfTheEventGetItsBundle) {
  v1::GetOfflineBundleRequest req;
  req.set_event(event_.name());
  v1::OfflineBundle bundle;
  const v1::Event other = server_.NewEvent("Los Angeles");
  const std::string dashboard = server_.NewToken(v1::ROLE_DASHBOARD, event_.name());
  const std::string other_door = server_.NewToken(v1::ROLE_DOOR, other.name());
  EXPECT_EQ(server_.checkin().GetOfflineBundle(TestServer::Context("").get(), req, &bundle)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(server_.checkin().GetOfflineBundle(TestServer::Context(dashboard).get(), req, &bundle)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_.checkin().GetOfflineBundle(TestServer::Context(other_door).get(), req, &bundle)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  req.set_since_version(-1);
  EXPECT_EQ(
      server_.checkin().GetOfflineBundle(server_.AdminContext().get(), req, &bundle).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

// Three devices admit overlapping tickets offline at t1 < t2 < t3 and upload in reverse order, then
// upload everything again.
TEST_F(OfflineTest, UploadsInAnyOrderSettleInScanTimeOrderAndCountOnce) {
  const std::string ana = server_.Register(event_.name(), "Ana").ticket().code();
  const std::string ben = server_.Register(event_.name(), "Ben").ticket().code();
  ASSERT_FALSE(HasFailure());
  const std::vector<v1::OfflineScan> d1 = {Offline(ana, Minutes(1), "d1-1"),
                                           Offline(ben, Minutes(4), "d1-2")};
  const std::vector<v1::OfflineScan> d2 = {Offline(ana, Minutes(2), "d2-1"),
                                           Offline(ben, Minutes(5), "d2-2")};
  const std::vector<v1::OfflineScan> d3 = {Offline(ana, Minutes(3), "d3-1")};

  std::map<std::string, std::string> first;
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "first uploads" : "the same uploads again");
    const std::string before = server_.Fingerprint();
    std::map<std::string, std::string> answers;
    for (const auto& [door, scans] : std::vector<std::pair<std::string, std::vector<v1::OfflineScan>>>{
             {doors_[2], d3}, {doors_[1], d2}, {doors_[0], d1}}) {
      const v1::UploadScansResponse uploaded = Upload(door, scans);
      for (const v1::UploadedScan& row : uploaded.results()) {
        EXPECT_EQ(row.error_code(), 0) << row.error_message();
        answers[row.client_scan_id()] = StatusOf(row.result());
        EXPECT_EQ(row.result().replayed(), round == 1);
      }
    }
    if (round == 1) {
      EXPECT_EQ(server_.Fingerprint(), before) << "a second upload changes nothing";
      // Each upload is answered with the canonical result as it stood when it arrived; by the
      // second round every answer is final.
      EXPECT_EQ(answers, (std::map<std::string, std::string>{{"d1-1", "ADMITTED"},
                                                             {"d1-2", "ADMITTED"},
                                                             {"d2-1", "ALREADY_CHECKED_IN"},
                                                             {"d2-2", "ALREADY_CHECKED_IN"},
                                                             {"d3-1", "ALREADY_CHECKED_IN"}}));
    }
    const v1::CheckpointAttendance counts = Entrance();
    EXPECT_EQ(counts.checked_in(), 2);
    EXPECT_EQ(counts.inside(), 2);
    EXPECT_EQ(Attendance().conflicts(), 3) << "three doors admitted someone already inside";
  }
}

// A door retries an upload whose answer it never got while the first is still running: both
// answer the same, and everything counts once.
TEST_F(OfflineTest, TheSameUploadSentTwiceAtOnceCountsOnce) {
  std::vector<v1::OfflineScan> scans;
  for (int i = 0; i < 40; ++i) {
    const std::string code = server_.Register(event_.name(), absl::StrCat("P", i)).ticket().code();
    scans.push_back(Offline(code, Minutes(1 + i % 20), absl::StrCat("twice-", i)));
    scans.push_back(Offline(code, Minutes(30 + i % 5), absl::StrCat("twice-exit-", i),
                            v1::ScanResult::EXIT_RECORDED, v1::SCAN_DIRECTION_EXIT));
  }
  ASSERT_FALSE(HasFailure());
  v1::UploadScansResponse first, second;
  std::thread a([&] { first = Upload(doors_[0], scans); });
  std::thread b([&] { second = Upload(doors_[0], scans); });
  a.join();
  b.join();
  ASSERT_EQ(first.results_size(), 80);
  ASSERT_EQ(second.results_size(), 80);
  int replays = 0;
  for (int i = 0; i < 80; ++i) {
    EXPECT_EQ(first.results(i).result().status(), second.results(i).result().status());
    EXPECT_EQ(first.results(i).result().scan(), second.results(i).result().scan());
    replays += first.results(i).result().replayed() + second.results(i).result().replayed();
  }
  EXPECT_EQ(replays, 80) << "each scan recorded by one upload and replayed by the other";
  EXPECT_EQ(server_.QueryInt("SELECT count(*) FROM scans"), 80);
  const v1::CheckpointAttendance counts = Entrance();
  EXPECT_EQ(counts.checked_in(), 40);
  EXPECT_EQ(counts.inside(), 0);
}

TEST_F(OfflineTest, OnlineAndOfflineScansOfOneTicketAreDecidedByScanTime) {
  const std::string ana = server_.Register(event_.name(), "Ana").ticket().code();
  ASSERT_FALSE(HasFailure());
  // Online now: Ana comes in.
  v1::ScanRequest online;
  online.set_event(event_.name());
  online.set_code(ana);
  online.set_client_scan_id("online-entry");
  v1::ScanResult now;
  ASSERT_TRUE(server_.checkin().Scan(TestServer::Context(doors_[0]).get(), online, &now).ok());
  EXPECT_EQ(StatusOf(now), "ADMITTED");

  // A door that was offline uploads that Ana came in, left and came back earlier this morning.
  const v1::UploadScansResponse uploaded =
      Upload(doors_[1], {Offline(ana, Minutes(1), "off-1"),
                         Offline(ana, Minutes(2), "off-2", v1::ScanResult::EXIT_RECORDED,
                                 v1::SCAN_DIRECTION_EXIT),
                         Offline(ana, Minutes(3), "off-3")});
  std::vector<std::string> statuses;
  for (const v1::UploadedScan& row : uploaded.results()) statuses.push_back(StatusOf(row.result()));
  EXPECT_THAT(statuses, ElementsAre("ADMITTED", "EXIT_RECORDED", "ADMITTED"));

  // The online entry, made later, is now a duplicate: she was already inside.
  const v1::ScanResult replay = [&] {
    v1::ScanResult r;
    EXPECT_TRUE(server_.checkin().Scan(TestServer::Context(doors_[0]).get(), online, &r).ok());
    return r;
  }();
  EXPECT_EQ(StatusOf(replay), "ALREADY_CHECKED_IN");
  EXPECT_TRUE(replay.replayed());
  const v1::CheckpointAttendance counts = Entrance();
  EXPECT_EQ(counts.checked_in(), 1);
  EXPECT_EQ(counts.inside(), 1);
  EXPECT_EQ(Attendance().conflicts(), 0) << "the offline door decided as the server does";
}

TEST_F(OfflineTest, ABadScanIsAnsweredOnItsRowAndTheBatchGoesOn) {
  const std::string ana = server_.Register(event_.name(), "Ana").ticket().code();
  const std::string ben = server_.Register(event_.name(), "Ben").ticket().code();
  ASSERT_FALSE(HasFailure());
  v1::OfflineScan no_time = Offline(ben, Minutes(2), "no-time");
  no_time.mutable_scan()->clear_scan_time();
  const v1::UploadScansResponse resp =
      Upload(doors_[0], {Offline(ana, Minutes(1), "fine"),
                         Offline(ben, absl::Now() + absl::Minutes(20), "clock-ahead"), no_time,
                         Offline("GARBAGE", Minutes(3), "junk"), Offline(ana, Minutes(4), "")});
  ASSERT_EQ(resp.results_size(), 5);
  EXPECT_EQ(StatusOf(resp.results(0).result()), "ADMITTED");
  EXPECT_EQ(resp.results(1).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(resp.results(1).error_message(), HasSubstr("ahead of the server's clock"));
  EXPECT_FALSE(resp.results(1).has_result());
  EXPECT_EQ(resp.results(2).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(resp.results(2).error_message(), HasSubstr("scan_time"));
  EXPECT_EQ(StatusOf(resp.results(3).result()), "INVALID") << "recorded like an online scan";
  EXPECT_EQ(resp.results(4).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(resp.results(4).error_message(), HasSubstr("client_scan_id"));
  EXPECT_EQ(Entrance().checked_in(), 1);

  std::vector<v1::OfflineScan> too_many(1001, Offline(ana, Minutes(5), "x"));
  Upload(doors_[0], too_many, grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace turnout::testing
