// The rules that depend on time, through the real server on a fake clock (server/util/clock.h):
// the 15-minute annul window, the arrivals of the last minute, the anonymous and Register rate
// limits, how far ahead a door's scan_time may be, how long a revoked token keeps working on
// another replica, the times the server records, and the retention pass. Each test moves the
// clock across the rule's edge instead of waiting for it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "server/util/fake_clock.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::HasSubstr;

// The database keeps whole microseconds: a clock on them compares equal to what it reads back.
absl::Time WholeMicros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

std::string RetryAfter(const grpc::ClientContext& ctx) {
  auto it = ctx.GetServerTrailingMetadata().find("retry-after");
  if (it == ctx.GetServerTrailingMetadata().end()) return "";
  return std::string(it->second.data(), it->second.size());
}

class ClockTest : public ::testing::Test {
 protected:
  ClockTest()
      : clock_(WholeMicros(absl::Now())),
        server_([this](api::ServerOptions& o) { o.clock = &clock_; }) {
    event_ = server_.NewEvent("Oakland");
    door_ = server_.NewToken(v1::ROLE_DOOR, event_.name());
  }

  // A scan made now (no scan_time) at the entrance, through the door token.
  v1::ScanResult Enter(const std::string& code) {
    v1::ScanRequest req;
    req.set_event(event_.name());
    req.set_code(code);
    req.set_client_scan_id(absl::StrCat("clock-scan-", ++next_scan_));
    v1::ScanResult result;
    const grpc::Status status =
        server_.checkin().Scan(TestServer::Context(door_).get(), req, &result);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return result;
  }

  grpc::Status Annul(const std::string& scan) {
    v1::AnnulScanRequest req;
    req.set_scan(scan);
    v1::AnnulScanResponse resp;
    return server_.checkin().AnnulScan(TestServer::Context(door_).get(), req, &resp);
  }

  util::FakeClock clock_;
  TestServer server_;
  v1::Event event_;
  std::string door_;
  int next_scan_ = 0;
};

TEST_F(ClockTest, AScanCanBeAnnulledUntilFifteenMinutesAfterItWasMadeAndNotAfter) {
  const std::string ana = server_.Register(event_.name(), "Ana Flores").ticket().code();
  const std::string ben = server_.Register(event_.name(), "Ben Okafor").ticket().code();
  const v1::ScanResult first = Enter(ana);
  ASSERT_EQ(v1::ScanResult::Status_Name(first.status()), "ADMITTED");

  clock_.Advance(absl::Minutes(14) + absl::Seconds(59));
  const grpc::Status within = Annul(first.scan());
  ASSERT_TRUE(within.ok()) << within.error_message();
  EXPECT_EQ(server_.CountsAt(event_).checked_in(), 0);
  EXPECT_EQ(server_.QueryInt(absl::StrCat("SELECT count(*) FROM scans WHERE us_of(annul_time) = ",
                                          absl::ToUnixMicros(clock_.Now()))),
            1)
      << "the annulment is recorded at the server's clock";

  const v1::ScanResult second = Enter(ben);
  ASSERT_EQ(v1::ScanResult::Status_Name(second.status()), "ADMITTED");
  clock_.Advance(absl::Minutes(15) + absl::Seconds(1));
  const std::string before = server_.Fingerprint();
  const grpc::Status late = Annul(second.scan());
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(late.error_message(),
            "a scan can be annulled only within 15m of being made; this one is older");
  EXPECT_EQ(server_.Fingerprint(), before) << "a refused annulment changes nothing";
  EXPECT_EQ(server_.CountsAt(event_).checked_in(), 1);
}

TEST_F(ClockTest, ArrivalsCountTheAdmissionsReceivedInTheLastMinute) {
  Enter(server_.Register(event_.name(), "Ana Flores").ticket().code());
  clock_.Advance(absl::Seconds(30));
  Enter(server_.Register(event_.name(), "Ben Okafor").ticket().code());
  EXPECT_EQ(server_.CountsAt(event_).arrivals_last_minute(), 2);
  clock_.Advance(absl::Seconds(31));  // Ana's scan is 61 s old, Ben's 31 s
  EXPECT_EQ(server_.CountsAt(event_).arrivals_last_minute(), 1);
  clock_.Advance(absl::Seconds(30));
  const v1::CheckpointAttendance counts = server_.CountsAt(event_);
  EXPECT_EQ(counts.arrivals_last_minute(), 0);
  EXPECT_EQ(counts.checked_in(), 2);
}

TEST_F(ClockTest, AScanTimeMoreThanFiveMinutesAheadOfTheServersClockIsRefusedUntilItCatchesUp) {
  const std::string code = server_.Register(event_.name(), "Ana Flores").ticket().code();
  v1::ScanRequest req;
  req.set_event(event_.name());
  req.set_code(code);
  req.set_client_scan_id("ahead-1");
  *req.mutable_scan_time() = ToProtoTime(clock_.Now() + absl::Minutes(10));
  v1::ScanResult result;
  const std::string before = server_.Fingerprint();
  grpc::Status status = server_.checkin().Scan(TestServer::Context(door_).get(), req, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("scan_time: is 10m ahead of the server's clock"));
  EXPECT_EQ(server_.Fingerprint(), before);

  // Once the server's clock has caught up, the same scan is taken.
  clock_.Advance(absl::Minutes(10));
  status = server_.checkin().Scan(TestServer::Context(door_).get(), req, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(v1::ScanResult::Status_Name(result.status()), "ADMITTED");
}

TEST(ClockLimitsTest, AnonymousCallsSpendABurstThatRefillsAtTheRate) {
  util::FakeClock clock(WholeMicros(absl::Now()));
  TestServer server([&clock](api::ServerOptions& o) {
    o.clock = &clock;
    o.anonymous_rate = 2;  // one call every 500 ms
    o.anonymous_burst = 3;
  });
  const v1::Event event = server.NewEvent("Oakland");
  v1::GetEventRequest req;
  req.set_name(event.name());
  auto get = [&](grpc::ClientContext* ctx) {
    v1::Event got;
    return server.events().GetEvent(ctx, req, &got);
  };
  for (int i = 0; i < 3; ++i) {
    const grpc::Status ok = get(TestServer::Context("").get());
    ASSERT_TRUE(ok.ok()) << "call " << i << " of the burst: " << ok.error_message();
  }
  auto refused_ctx = TestServer::Context("");
  const grpc::Status refused = get(refused_ctx.get());
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "too many calls without a token from this address; retry in 1 s");
  EXPECT_EQ(RetryAfter(*refused_ctx), "1");
  // A token's calls are not anonymous: they do not spend the address's budget.
  EXPECT_TRUE(get(server.AdminContext().get()).ok());

  clock.Advance(absl::Milliseconds(400));  // 0.8 of a call refilled
  EXPECT_EQ(get(TestServer::Context("").get()).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  clock.Advance(absl::Milliseconds(200));  // 1.2
  EXPECT_TRUE(get(TestServer::Context("").get()).ok());
  EXPECT_EQ(get(TestServer::Context("").get()).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  clock.Advance(absl::Hours(1));  // refills up to the burst, never beyond it
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(get(TestServer::Context("").get()).ok()) << i;
  EXPECT_EQ(get(TestServer::Context("").get()).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST(ClockLimitsTest, RegisterWithoutATokenIsLimitedPerAddressAndRefusalsRegisterNobody) {
  util::FakeClock clock(WholeMicros(absl::Now()));
  TestServer server([&clock](api::ServerOptions& o) {
    o.clock = &clock;
    o.register_rate = 0.1;  // one registration every 10 s
    o.register_burst = 2;
  });
  const v1::Event event = server.NewEvent("Oakland");
  int next = 0;
  auto register_anonymously = [&](grpc::ClientContext* ctx) {
    v1::RegisterRequest req;
    req.set_parent(event.name());
    // The public sends a random id of at least 16 characters.
    req.set_request_id(absl::StrCat("4f1c9a7e-clock-test-", ++next));
    req.mutable_registration()->set_display_name(absl::StrCat("Attendee ", next));
    req.mutable_registration()->set_preferred_language("en");
    v1::RegisterResponse resp;
    return server.registrations().Register(ctx, req, &resp);
  };
  for (int i = 0; i < 2; ++i) {
    const grpc::Status ok = register_anonymously(TestServer::Context("").get());
    ASSERT_TRUE(ok.ok()) << "registration " << i << " of the burst: " << ok.error_message();
  }
  const std::string before = server.Fingerprint();
  auto refused_ctx = TestServer::Context("");
  const grpc::Status refused = register_anonymously(refused_ctx.get());
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(), "too many registrations from this address; retry in 10 s");
  EXPECT_EQ(RetryAfter(*refused_ctx), "10");
  EXPECT_EQ(server.Fingerprint(), before) << "a refused registration registers nobody";
  // Staff register on behalf of others without spending the address's budget.
  EXPECT_EQ(server.Register(event.name(), "Staff-made").registration().status(),
            v1::Registration::CONFIRMED);

  clock.Advance(absl::Seconds(9));  // 0.9 of a registration refilled
  EXPECT_EQ(register_anonymously(TestServer::Context("").get()).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  clock.Advance(absl::Seconds(2));  // 1.1
  EXPECT_TRUE(register_anonymously(TestServer::Context("").get()).ok());
  EXPECT_EQ(server.CountsAt(event).registered(), 4);
}

TEST(ClockTokenTest, ARevokedTokenKeepsWorkingOnAnotherReplicaForFiveSecondsAndNoLonger) {
  util::FakeClock clock(WholeMicros(absl::Now()));
  auto on_clock = [&clock](api::ServerOptions& o) { o.clock = &clock; };
  TestServer first(on_clock);
  TestServer second(on_clock, &first);
  const v1::Event event = first.NewEvent("Oakland");
  const std::string door = first.NewToken(v1::ROLE_DOOR, event.name());
  v1::GetAttendanceRequest read;
  read.set_event(event.name());
  v1::Attendance counts;
  ASSERT_TRUE(
      second.attendance().GetAttendance(TestServer::Context(door).get(), read, &counts).ok());

  v1::ListDeviceTokensRequest list;
  v1::ListDeviceTokensResponse tokens;
  ASSERT_TRUE(first.admin().ListDeviceTokens(first.AdminContext().get(), list, &tokens).ok());
  ASSERT_GE(tokens.tokens_size(), 2);
  v1::RevokeDeviceTokenRequest revoke;
  revoke.set_name(tokens.tokens(tokens.tokens_size() - 1).name());
  v1::DeviceToken revoked;
  ASSERT_TRUE(first.admin().RevokeDeviceToken(first.AdminContext().get(), revoke, &revoked).ok());
  EXPECT_EQ(FromProtoTime(revoked.revoke_time()), clock.Now()) << "revoked at the server's clock";

  // The replica that revoked it refuses it at once; the other still has it in its cache.
  EXPECT_EQ(
      first.attendance().GetAttendance(TestServer::Context(door).get(), read, &counts).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  clock.Advance(api::Authenticator::kCacheTtl - absl::Milliseconds(1));
  EXPECT_TRUE(
      second.attendance().GetAttendance(TestServer::Context(door).get(), read, &counts).ok());
  clock.Advance(absl::Milliseconds(1));
  const grpc::Status expired =
      second.attendance().GetAttendance(TestServer::Context(door).get(), read, &counts);
  EXPECT_EQ(expired.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(expired.error_message(), "the token is unknown or has been revoked");
}

TEST(ClockKeyTest, RotatingAndRevokingASigningKeyRecordTheServersClock) {
  util::FakeClock clock(WholeMicros(absl::Now()));
  TestServer server([&clock](api::ServerOptions& o) { o.clock = &clock; });
  clock.Advance(absl::Hours(3));
  v1::SigningKeyInfo rotated;
  ASSERT_TRUE(
      server.admin()
          .RotateSigningKey(server.AdminContext().get(), v1::RotateSigningKeyRequest(), &rotated)
          .ok());
  EXPECT_EQ(FromProtoTime(rotated.create_time()), clock.Now());
  clock.Advance(absl::Minutes(5));
  v1::RevokeSigningKeyRequest revoke;
  revoke.set_key_id(rotated.key_id() - 1);
  v1::SigningKeyInfo revoked;
  ASSERT_TRUE(server.admin().RevokeSigningKey(server.AdminContext().get(), revoke, &revoked).ok());
  EXPECT_EQ(FromProtoTime(revoked.revoke_time()), clock.Now());
}

// The retention pass runs every retention_check_interval (real time: it is only a pace) and purges
// what is past the retention on the server's clock.
TEST(ClockRetentionTest, AnEventIsPurgedByTheFirstPassAfterItsRetentionEnds) {
  util::FakeClock clock(WholeMicros(absl::Now()));
  TestServer server([&clock](api::ServerOptions& o) {
    o.clock = &clock;
    o.retention_days = 30;
    o.retention_check_interval = absl::Milliseconds(50);
  });
  // Ends 29 days and 18 hours before the clock (NewEvent ends six hours after its offset).
  const v1::Event event = server.NewEvent("A month ago", 0, -absl::Hours(24 * 30));
  server.Register(event.name(), "Xiomara Oldtimer");
  ASSERT_FALSE(::testing::Test::HasFailure());
  auto purged = [&] {
    v1::GetEventRequest req;
    req.set_name(event.name());
    v1::Event got;
    EXPECT_TRUE(server.events().GetEvent(server.AdminContext().get(), req, &got).ok());
    return got.has_purge_time();
  };
  absl::SleepFor(absl::Milliseconds(300));  // several passes
  EXPECT_FALSE(purged()) << "purged before its retention ended";

  clock.Advance(absl::Hours(6) + absl::Minutes(1));  // 30 days and a minute after its end
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i) {
    done = purged();
    if (!done) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(done) << "not purged by the passes after its retention ended";
  EXPECT_EQ(server.QueryInt("SELECT count(*) FROM registrations WHERE display_name <> ''"), 0);
}

}  // namespace
}  // namespace turnout::testing
