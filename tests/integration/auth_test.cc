// Roles and token scopes across the services (docs/design.md, "Roles and privacy"): who may call
// what, and what each role sees.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"

namespace turnout::testing {
namespace {

using ::testing::HasSubstr;

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    oakland_ = server_.NewEvent("Oakland");
    los_angeles_ = server_.NewEvent("Los Angeles");
    ana_ = server_.Register(oakland_.name(), "Ana Flores", {}, "ana@example.org");
    door_ = server_.NewToken(v1::ROLE_DOOR, oakland_.name());
    dashboard_ = server_.NewToken(v1::ROLE_DASHBOARD, oakland_.name());
    organizer_ = server_.NewToken(v1::ROLE_ORGANIZER);
    ASSERT_FALSE(HasFailure());
  }

  grpc::Status Scan(const std::string& token, const std::string& event) {
    v1::ScanRequest req;
    req.set_event(event);
    req.set_code(ana_.ticket().code());
    req.set_client_scan_id(absl::StrCat("auth-", ++next_scan_));
    v1::ScanResult result;
    return server_.checkin().Scan(TestServer::Context(token).get(), req, &result);
  }
  grpc::Status GetAttendance(const std::string& token, const std::string& event) {
    v1::GetAttendanceRequest req;
    req.set_event(event);
    v1::Attendance resp;
    return server_.attendance().GetAttendance(TestServer::Context(token).get(), req, &resp);
  }
  grpc::Status CreateEvent(const std::string& token) {
    v1::CreateEventRequest req = NewEventRequest();
    v1::Event resp;
    return server_.events().CreateEvent(TestServer::Context(token).get(), req, &resp);
  }
  grpc::Status ListRegistrations(const std::string& token) {
    v1::ListRegistrationsRequest req;
    req.set_parent(oakland_.name());
    v1::ListRegistrationsResponse resp;
    return server_.registrations().ListRegistrations(TestServer::Context(token).get(), req, &resp);
  }
  grpc::Status CreateDeviceToken(const std::string& token, v1::Role role, const std::string& event,
                                 std::string* secret = nullptr) {
    v1::CreateDeviceTokenRequest req;
    req.set_role(role);
    req.set_event(event);
    v1::CreateDeviceTokenResponse resp;
    grpc::Status status =
        server_.admin().CreateDeviceToken(TestServer::Context(token).get(), req, &resp);
    if (secret != nullptr) *secret = resp.secret();
    return status;
  }
  grpc::Status SearchAttendees(const std::string& token) {
    v1::SearchAttendeesRequest req;
    req.set_event(oakland_.name());
    req.set_query("ana");
    v1::SearchAttendeesResponse resp;
    return server_.checkin().SearchAttendees(TestServer::Context(token).get(), req, &resp);
  }

  v1::CreateEventRequest NewEventRequest() {
    v1::CreateEventRequest req;
    req.mutable_event()->set_title("Fresno");
    req.mutable_event()->set_time_zone("America/Los_Angeles");
    *req.mutable_event()->mutable_start_time() = oakland_.start_time();
    *req.mutable_event()->mutable_end_time() = oakland_.end_time();
    return req;
  }

  TestServer server_;
  v1::Event oakland_;
  v1::Event los_angeles_;
  v1::RegisterResponse ana_;
  std::string door_;
  std::string dashboard_;
  std::string organizer_;
  int next_scan_ = 0;
};

// Each call with a token, as a named step.
struct Call {
  const char* name;
  std::function<grpc::Status(const std::string& token)> run;
};

TEST_F(AuthTest, CallsWithoutATokenAreUnauthenticated) {
  const std::vector<Call> calls = {
      {"Scan", [&](const std::string& t) { return Scan(t, oakland_.name()); }},
      {"GetAttendance", [&](const std::string& t) { return GetAttendance(t, oakland_.name()); }},
      {"CreateEvent", [&](const std::string& t) { return CreateEvent(t); }},
      {"ListRegistrations", [&](const std::string& t) { return ListRegistrations(t); }},
      {"CreateDeviceToken",
       [&](const std::string& t) { return CreateDeviceToken(t, v1::ROLE_DOOR, oakland_.name()); }},
      {"SearchAttendees", [&](const std::string& t) { return SearchAttendees(t); }},
      // The token is checked before the request is read: a stranger learns nothing from it.
      {"Scan of a malformed event", [&](const std::string& t) { return Scan(t, "events/abc"); }},
      {"GetAttendance of a malformed event",
       [&](const std::string& t) { return GetAttendance(t, "events/abc"); }},
  };
  const std::string before = server_.Fingerprint();
  for (const Call& call : calls) {
    SCOPED_TRACE(call.name);
    const grpc::Status status = call.run("");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("authorization"));
  }
  EXPECT_EQ(server_.Fingerprint(), before) << "not even the scan attempt is recorded";
}

TEST_F(AuthTest, MalformedUnknownAndRevokedTokensAreUnauthenticated) {
  // A DOOR token that worked, then was revoked.
  v1::CreateDeviceTokenRequest create;
  create.set_role(v1::ROLE_DOOR);
  create.set_event(oakland_.name());
  v1::CreateDeviceTokenResponse created;
  ASSERT_TRUE(
      server_.admin().CreateDeviceToken(server_.AdminContext().get(), create, &created).ok());
  ASSERT_TRUE(Scan(created.secret(), oakland_.name()).ok());
  v1::RevokeDeviceTokenRequest revoke;
  revoke.set_name(created.token().name());
  v1::DeviceToken revoked;
  ASSERT_TRUE(
      server_.admin().RevokeDeviceToken(server_.AdminContext().get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.has_revoke_time());

  const std::string unknown = "tnt_" + std::string(52, 'A');
  for (const std::string& token : {std::string("not-a-token"), std::string("tnt_"), unknown,
                                   std::string(500, 'x'), created.secret()}) {
    SCOPED_TRACE(token.substr(0, 20));
    for (const Call& call : std::vector<Call>{
             {"Scan", [&](const std::string& t) { return Scan(t, oakland_.name()); }},
             {"GetAttendance",
              [&](const std::string& t) { return GetAttendance(t, oakland_.name()); }},
             {"CreateEvent", [&](const std::string& t) { return CreateEvent(t); }}}) {
      SCOPED_TRACE(call.name);
      const grpc::Status status = call.run(token);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
    }
  }

  // Not "Bearer": another scheme.
  auto ctx = TestServer::Context("");
  ctx->AddMetadata("authorization", "Basic " + door_);
  v1::GetAttendanceRequest req;
  req.set_event(oakland_.name());
  v1::Attendance attendance;
  EXPECT_EQ(server_.attendance().GetAttendance(ctx.get(), req, &attendance).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, ADashboardTokenReadsCountsAndNothingElse) {
  for (const Call& call : std::vector<Call>{
           {"Scan", [&](const std::string& t) { return Scan(t, oakland_.name()); }},
           {"SearchAttendees", [&](const std::string& t) { return SearchAttendees(t); }},
           {"ListRegistrations", [&](const std::string& t) { return ListRegistrations(t); }},
           {"CreateEvent", [&](const std::string& t) { return CreateEvent(t); }}}) {
    SCOPED_TRACE(call.name);
    const grpc::Status status = call.run(dashboard_);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("DASHBOARD"));
  }
  // No names at all: not even one registration.
  v1::GetRegistrationRequest get;
  get.set_name(ana_.registration().name());
  v1::Registration reg;
  EXPECT_EQ(server_.registrations()
                .GetRegistration(TestServer::Context(dashboard_).get(), get, &reg)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(reg.display_name(), "");

  v1::GetAttendanceRequest req;
  req.set_event(oakland_.name());
  v1::Attendance attendance;
  const grpc::Status status =
      server_.attendance().GetAttendance(TestServer::Context(dashboard_).get(), req, &attendance);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(attendance.checkpoints_size(), 1);
  EXPECT_EQ(attendance.checkpoints(0).registered(), 1);
  EXPECT_EQ(GetAttendance(dashboard_, los_angeles_.name()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "and only of its own event";
}

TEST_F(AuthTest, ADoorTokenWorksOnlyForItsEvent) {
  EXPECT_TRUE(Scan(door_, oakland_.name()).ok());
  EXPECT_TRUE(GetAttendance(door_, oakland_.name()).ok());

  const std::string before = server_.Fingerprint();
  grpc::Status status = Scan(door_, los_angeles_.name());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(oakland_.name()));
  status = GetAttendance(door_, los_angeles_.name());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_EQ(server_.Fingerprint(), before);
}

TEST_F(AuthTest, ADoorTokenCannotSetUpEventsOrIssueTokens) {
  const std::string before = server_.Fingerprint();
  grpc::Status status = CreateEvent(door_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  for (v1::Role role : {v1::ROLE_DOOR, v1::ROLE_DASHBOARD, v1::ROLE_ADMIN}) {
    status = CreateDeviceToken(door_, role, role == v1::ROLE_ADMIN ? "" : oakland_.name());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << v1::Role_Name(role) << ": " << status.error_message();
  }
  EXPECT_EQ(ListRegistrations(door_).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_.Fingerprint(), before);
}

TEST_F(AuthTest, ADoorTokenSeesNamesButNeverContactFields) {
  v1::RegisterRequest full;
  full.set_parent(oakland_.name());
  full.set_request_id("with-phone");
  full.mutable_registration()->set_display_name("Beto Ruiz");
  full.mutable_registration()->set_email("beto@example.org");
  full.mutable_registration()->set_phone("+1 213 555 0100");
  full.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_ACCESSIBILITY);
  v1::RegisterResponse beto;
  ASSERT_TRUE(server_.registrations().Register(server_.AdminContext().get(), full, &beto).ok());
  EXPECT_EQ(beto.registration().phone(), "+1 213 555 0100");

  v1::GetRegistrationRequest get;
  get.set_name(beto.registration().name());
  v1::Registration seen;
  const grpc::Status status =
      server_.registrations().GetRegistration(TestServer::Context(door_).get(), get, &seen);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(seen.display_name(), "Beto Ruiz");
  EXPECT_THAT(seen.attention_flags(), ::testing::ElementsAre(v1::ATTENTION_FLAG_ACCESSIBILITY));
  EXPECT_EQ(seen.email(), "");
  EXPECT_EQ(seen.phone(), "");

  // The organizer does see them.
  v1::Registration organizer_view;
  ASSERT_TRUE(server_.registrations()
                  .GetRegistration(TestServer::Context(organizer_).get(), get, &organizer_view)
                  .ok());
  EXPECT_EQ(organizer_view.email(), "beto@example.org");
  EXPECT_EQ(organizer_view.phone(), "+1 213 555 0100");

  // A DOOR token of another event sees nothing of this one.
  const std::string la_door = server_.NewToken(v1::ROLE_DOOR, los_angeles_.name());
  EXPECT_EQ(server_.registrations()
                .GetRegistration(TestServer::Context(la_door).get(), get, &seen)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthTest, AnOrganizerIssuesDoorAndDashboardTokensButNotAdminOnes) {
  std::string door_secret;
  grpc::Status status = CreateDeviceToken(organizer_, v1::ROLE_DOOR, oakland_.name(), &door_secret);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Scan(door_secret, oakland_.name()).ok()) << "the new DOOR token works";
  EXPECT_TRUE(CreateDeviceToken(organizer_, v1::ROLE_DASHBOARD, oakland_.name()).ok());

  const std::string before = server_.Fingerprint();
  status = CreateDeviceToken(organizer_, v1::ROLE_ADMIN, "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  status = CreateDeviceToken(organizer_, v1::ROLE_ORGANIZER, "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  v1::SigningKeyInfo key;
  EXPECT_EQ(server_.admin()
                .RotateSigningKey(TestServer::Context(organizer_).get(),
                                  v1::RotateSigningKeyRequest(), &key)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_.Fingerprint(), before);

  // An organizer of one event issues tokens for that event only.
  std::string scoped;
  ASSERT_TRUE(
      CreateDeviceToken(server_.admin_token(), v1::ROLE_ORGANIZER, oakland_.name(), &scoped).ok());
  EXPECT_TRUE(CreateDeviceToken(scoped, v1::ROLE_DOOR, oakland_.name()).ok());
  EXPECT_EQ(CreateDeviceToken(scoped, v1::ROLE_DOOR, los_angeles_.name()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CreateEvent(scoped).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace turnout::testing
