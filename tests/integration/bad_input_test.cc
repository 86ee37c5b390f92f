// Bad input of every kind, through the real server: each request gets its exact status code and a
// message naming the field, and changes nothing (every row of every table is the same after).
// Also the RPCs this release does not implement answer UNIMPLEMENTED.
#include <cstdlib>
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
using ::testing::Not;

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = server_.NewEvent("Oakland");
    other_ = server_.NewEvent("Los Angeles");
    breakout_ = server_.NewSession(event_.name(), "Legislative advocacy", 1, 10, true);
    other_session_ = server_.NewSession(other_.name(), "Workers' rights", 1, 10, true);
    ana_ = server_.Register(event_.name(), "Ana Flores", {breakout_.name()}, "ana@example.org");
    door_ = server_.NewToken(v1::ROLE_DOOR, event_.name());
    ASSERT_FALSE(HasFailure());
  }

  // A valid registration request; each case breaks one thing.
  v1::RegisterRequest GoodRegister() const {
    v1::RegisterRequest req;
    req.set_parent(event_.name());
    req.set_request_id("bad-input-register");
    req.mutable_registration()->set_display_name("Beto Ruiz");
    req.mutable_registration()->set_email("beto@example.org");
    req.mutable_registration()->set_phone("+1 510 555 0100");
    req.mutable_registration()->set_preferred_language("es-MX");
    req.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
    return req;
  }
  grpc::Status Register(const v1::RegisterRequest& req) {
    v1::RegisterResponse resp;
    return server_.registrations().Register(server_.AdminContext().get(), req, &resp);
  }

  v1::CreateEventRequest GoodEvent() const {
    v1::CreateEventRequest req;
    v1::Event* e = req.mutable_event();
    e->set_title("Fresno");
    e->set_time_zone("America/Los_Angeles");
    *e->mutable_start_time() = event_.start_time();
    *e->mutable_end_time() = event_.end_time();
    return req;
  }
  grpc::Status CreateEvent(const v1::CreateEventRequest& req) {
    v1::Event resp;
    return server_.events().CreateEvent(server_.AdminContext().get(), req, &resp);
  }

  v1::ScanRequest GoodScan() const {
    v1::ScanRequest req;
    req.set_event(event_.name());
    req.set_code(ana_.ticket().code());
    req.set_client_scan_id("bad-input-scan");
    return req;
  }
  grpc::Status Scan(const v1::ScanRequest& req, const std::string& token = "") {
    v1::ScanResult resp;
    return server_.checkin().Scan(TestServer::Context(token.empty() ? door_ : token).get(), req,
                                  &resp);
  }

  grpc::Status UpdateEvent(const std::vector<std::string>& paths, int32_t capacity = 0) {
    v1::UpdateEventRequest req;
    req.mutable_event()->set_name(event_.name());
    req.mutable_event()->set_title("Renamed");
    req.mutable_event()->set_capacity(capacity);
    for (const std::string& p : paths) req.mutable_update_mask()->add_paths(p);
    v1::Event resp;
    return server_.events().UpdateEvent(server_.AdminContext().get(), req, &resp);
  }

  // UpdateEvent and UpdateSession whose mask names `path` and whose resource carries nothing but
  // its name: the field is in the mask with no value.
  grpc::Status UpdateEventMaskingUnset(const std::string& path) {
    v1::UpdateEventRequest req;
    req.mutable_event()->set_name(event_.name());
    req.mutable_update_mask()->add_paths(path);
    v1::Event resp;
    return server_.events().UpdateEvent(server_.AdminContext().get(), req, &resp);
  }
  grpc::Status UpdateSessionMaskingUnset(const std::string& path) {
    v1::UpdateSessionRequest req;
    req.mutable_session()->set_name(breakout_.name());
    req.mutable_update_mask()->add_paths(path);
    v1::Session resp;
    return server_.events().UpdateSession(server_.AdminContext().get(), req, &resp);
  }

  TestServer server_;
  v1::Event event_;
  v1::Event other_;
  v1::Session breakout_;
  v1::Session other_session_;
  v1::RegisterResponse ana_;
  std::string door_;
};

struct BadRequest {
  std::string name;
  std::function<grpc::Status()> call;
  grpc::StatusCode code;
  // The message must contain this (the field, or the resource that is missing) ...
  std::string names;
  // ... and must not echo this (a value that may be personal data), when set.
  std::string never_echoes = "";
};

TEST_F(BadInputTest, EachBadRequestGetsAPreciseErrorAndChangesNothing) {
  const grpc::StatusCode kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const grpc::StatusCode kNotFound = grpc::StatusCode::NOT_FOUND;
  auto register_with = [this](std::function<void(v1::RegisterRequest&)> change) {
    return [this, change] {
      v1::RegisterRequest req = GoodRegister();
      change(req);
      return Register(req);
    };
  };
  auto display_name = [&](const std::string& value) {
    return register_with(
        [value](v1::RegisterRequest& r) { r.mutable_registration()->set_display_name(value); });
  };
  auto create_event_with = [this](std::function<void(v1::Event&)> change) {
    return [this, change] {
      v1::CreateEventRequest req = GoodEvent();
      change(*req.mutable_event());
      return CreateEvent(req);
    };
  };
  auto scan_with = [this](std::function<void(v1::ScanRequest&)> change) {
    return [this, change] {
      v1::ScanRequest req = GoodScan();
      change(req);
      return Scan(req);
    };
  };
  const std::string unknown_registration = absl::StrCat(event_.name(), "/registrations/999999");

  const std::vector<BadRequest> cases = {
      // Registration fields.
      {"empty display_name", display_name(""), kInvalid, "display_name"},
      {"blank display_name", display_name("   "), kInvalid, "display_name"},
      {"201-byte display_name", display_name(std::string(201, 'a')), kInvalid, "display_name"},
      {"201-byte display_name of 101 characters", display_name([] {
         std::string s;
         for (int i = 0; i < 100; ++i) s += "ñ";
         return s + "a";
       }()),
       kInvalid, "display_name"},
      {"display_name with a newline", display_name("Ana\nFlores"), kInvalid, "display_name",
       "Flores"},
      {"bad email", register_with([](v1::RegisterRequest& r) {
         r.mutable_registration()->set_email("beto.example.org");
       }),
       kInvalid, "email", "beto.example.org"},
      {"email with two @",
       register_with([](v1::RegisterRequest& r) { r.mutable_registration()->set_email("a@b@c"); }),
       kInvalid, "email", "a@b@c"},
      {"bad phone", register_with([](v1::RegisterRequest& r) {
         r.mutable_registration()->set_phone("call me");
       }),
       kInvalid, "phone", "call me"},
      {"unknown attention flag", register_with([](v1::RegisterRequest& r) {
         r.mutable_registration()->add_attention_flags(static_cast<v1::AttentionFlag>(99));
       }),
       kInvalid, "attention_flags"},
      {"unspecified attention flag", register_with([](v1::RegisterRequest& r) {
         r.mutable_registration()->add_attention_flags(v1::ATTENTION_FLAG_UNSPECIFIED);
       }),
       kInvalid, "attention_flags"},
      {"bad language", register_with([](v1::RegisterRequest& r) {
         r.mutable_registration()->set_preferred_language("english please");
       }),
       kInvalid, "preferred_language"},
      {"missing request_id", register_with([](v1::RegisterRequest& r) { r.clear_request_id(); }),
       kInvalid, "request_id"},
      {"a session of another event", register_with([this](v1::RegisterRequest& r) {
         r.mutable_registration()->add_session_choices()->set_session(other_session_.name());
       }),
       kInvalid, "session_choices"},
      // Resource names.
      {"parent events/abc",
       register_with([](v1::RegisterRequest& r) { r.set_parent("events/abc"); }), kInvalid,
       "parent"},
      {"parent events/0", register_with([](v1::RegisterRequest& r) { r.set_parent("events/0"); }),
       kInvalid, "parent"},
      {"parent events/01", register_with([](v1::RegisterRequest& r) { r.set_parent("events/01"); }),
       kInvalid, "parent"},
      {"unknown event",
       register_with([](v1::RegisterRequest& r) { r.set_parent("events/999999"); }), kNotFound,
       "events/999999"},
      {"unknown registration",
       [&] {
         v1::GetRegistrationRequest req;
         req.set_name(unknown_registration);
         v1::Registration resp;
         return server_.registrations().GetRegistration(server_.AdminContext().get(), req, &resp);
       },
       kNotFound, unknown_registration},
      {"cancel an unknown registration",
       [&] {
         v1::CancelRegistrationRequest req;
         req.set_name(unknown_registration);
         v1::Registration resp;
         return server_.registrations().CancelRegistration(server_.AdminContext().get(), req,
                                                           &resp);
       },
       kNotFound, unknown_registration},
      {"registration name without its event",
       [&] {
         v1::GetRegistrationRequest req;
         req.set_name("registrations/1");
         v1::Registration resp;
         return server_.registrations().GetRegistration(server_.AdminContext().get(), req, &resp);
       },
       kInvalid, "name: "},
      {"GetEvent events/abc",
       [&] {
         v1::GetEventRequest req;
         req.set_name("events/abc");
         v1::Event resp;
         return server_.events().GetEvent(server_.AdminContext().get(), req, &resp);
       },
       kInvalid, "name: "},
      // Lists.
      {"malformed page_token",
       [&] {
         v1::ListRegistrationsRequest req;
         req.set_parent(event_.name());
         req.set_page_token("not-a-page-token");
         v1::ListRegistrationsResponse resp;
         return server_.registrations().ListRegistrations(server_.AdminContext().get(), req, &resp);
       },
       kInvalid, "page_token"},
      {"negative page_size",
       [&] {
         v1::ListRegistrationsRequest req;
         req.set_parent(event_.name());
         req.set_page_size(-1);
         v1::ListRegistrationsResponse resp;
         return server_.registrations().ListRegistrations(server_.AdminContext().get(), req, &resp);
       },
       kInvalid, "page_size"},
      // Events.
      {"event ending before it starts", create_event_with([](v1::Event& e) {
         *e.mutable_end_time() = ToProtoTime(FromProtoTime(e.start_time()) - absl::Hours(1));
       }),
       kInvalid, "end_time"},
      {"unknown time zone",
       create_event_with([](v1::Event& e) { e.set_time_zone("Mars/Olympus_Mons"); }), kInvalid,
       "time_zone"},
      {"time zone that is a path",
       create_event_with([](v1::Event& e) { e.set_time_zone("../../../etc/passwd"); }), kInvalid,
       "time_zone"},
      {"negative capacity", create_event_with([](v1::Event& e) { e.set_capacity(-1); }), kInvalid,
       "capacity"},
      {"event without title", create_event_with([](v1::Event& e) { e.clear_title(); }), kInvalid,
       "title"},
      {"event without start_time", create_event_with([](v1::Event& e) { e.clear_start_time(); }),
       kInvalid, "start_time"},
      {"event in 1900",
       create_event_with([](v1::Event& e) { e.mutable_start_time()->set_seconds(-2208988800); }),
       kInvalid, "start_time"},
      {"UpdateEvent without update_mask", [&] { return UpdateEvent({}); }, kInvalid, "update_mask"},
      {"UpdateEvent with an unknown path",
       [&] {
         return UpdateEvent({"title", "bogus"});
       },
       kInvalid, "update_mask"},
      {"UpdateEvent of an output-only field", [&] { return UpdateEvent({"confirmed_count"}); },
       kInvalid, "update_mask"},
      {"UpdateEvent to a negative capacity", [&] { return UpdateEvent({"capacity"}, -5); },
       kInvalid, "capacity"},
      // A required field named in an update mask without a value. Unset timestamps would read
      // as 1970 (doors open since then); empty text and unspecified enums are no value either.
      {"UpdateEvent masking an unset start_time",
       [&] { return UpdateEventMaskingUnset("start_time"); }, kInvalid,
       "event.start_time: is in update_mask but has no value"},
      {"UpdateEvent masking an unset end_time", [&] { return UpdateEventMaskingUnset("end_time"); },
       kInvalid, "event.end_time: is in update_mask but has no value"},
      {"UpdateEvent masking an unset doors_open_time",
       [&] { return UpdateEventMaskingUnset("doors_open_time"); }, kInvalid,
       "event.doors_open_time: is in update_mask but has no value"},
      {"UpdateEvent masking an empty title", [&] { return UpdateEventMaskingUnset("title"); },
       kInvalid, "event.title"},
      {"UpdateEvent masking an empty time_zone",
       [&] { return UpdateEventMaskingUnset("time_zone"); }, kInvalid, "event.time_zone"},
      {"UpdateEvent masking an unspecified state", [&] { return UpdateEventMaskingUnset("state"); },
       kInvalid, "event.state"},
      {"UpdateEvent masking an unset allow_reentry",
       [&] { return UpdateEventMaskingUnset("allow_reentry"); }, kInvalid,
       "event.allow_reentry: is in update_mask but has no value"},
      {"UpdateSession masking an unset allow_reentry",
       [&] { return UpdateSessionMaskingUnset("allow_reentry"); }, kInvalid,
       "session.allow_reentry: is in update_mask but has no value"},
      {"UpdateEvent masking an unset output-only time",
       [&] { return UpdateEventMaskingUnset("update_time"); }, kInvalid,
       "update_mask: \"update_time\" cannot be changed"},
      {"UpdateSession masking an unset start_time",
       [&] { return UpdateSessionMaskingUnset("start_time"); }, kInvalid,
       "session.start_time: is in update_mask but has no value"},
      {"UpdateSession masking an unset end_time",
       [&] { return UpdateSessionMaskingUnset("end_time"); }, kInvalid,
       "session.end_time: is in update_mask but has no value"},
      {"UpdateSession masking an empty title", [&] { return UpdateSessionMaskingUnset("title"); },
       kInvalid, "session.title"},
      {"UpdateSession masking an unspecified kind",
       [&] { return UpdateSessionMaskingUnset("kind"); }, kInvalid, "session.kind"},
      {"session picked in advance without a round",
       [&] {
         v1::CreateSessionRequest req;
         req.set_parent(event_.name());
         req.mutable_session()->set_title("Lunch");
         req.mutable_session()->set_kind(v1::Session::OTHER);
         req.mutable_session()->set_requires_selection(true);
         *req.mutable_session()->mutable_start_time() = event_.start_time();
         *req.mutable_session()->mutable_end_time() = event_.end_time();
         v1::Session resp;
         return server_.events().CreateSession(server_.AdminContext().get(), req, &resp);
       },
       kInvalid, "requires_selection"},
      // Scans.
      {"Scan without client_scan_id",
       scan_with([](v1::ScanRequest& r) { r.clear_client_scan_id(); }), kInvalid, "client_scan_id"},
      {"Scan of a 600-byte code",
       scan_with([](v1::ScanRequest& r) { r.set_code(std::string(600, 'A')); }), kInvalid, "code"},
      {"Scan without code", scan_with([](v1::ScanRequest& r) { r.clear_code(); }), kInvalid,
       "code"},
      {"Scan at a checkpoint of another event",
       scan_with([this](v1::ScanRequest& r) { r.set_checkpoint(other_.entrance_checkpoint()); }),
       kInvalid, "checkpoint"},
      {"Scan at a checkpoint that is not one",
       scan_with([this](v1::ScanRequest& r) { r.set_checkpoint(breakout_.name()); }), kInvalid,
       "checkpoint"},
      {"Scan with an unknown direction",
       scan_with([](v1::ScanRequest& r) { r.set_direction(static_cast<v1::ScanDirection>(7)); }),
       kInvalid, "direction"},
      {"Scan dated 1900",
       scan_with([](v1::ScanRequest& r) { r.mutable_scan_time()->set_seconds(-2208988800); }),
       kInvalid, "scan_time"},
      {"Scan with an unknown language",
       scan_with([](v1::ScanRequest& r) { r.set_language("klingon!"); }), kInvalid, "language"},
      {"Scan at an unknown event",
       [&] {
         v1::ScanRequest req = GoodScan();
         req.set_event("events/999999");
         return Scan(req, server_.admin_token());
       },
       kNotFound, "events/999999"},
      // The door's other calls.
      {"search of two letters",
       [&] {
         v1::SearchAttendeesRequest req;
         req.set_event(event_.name());
         req.set_query("an");
         v1::SearchAttendeesResponse resp;
         return server_.checkin().SearchAttendees(TestServer::Context(door_).get(), req, &resp);
       },
       kInvalid, "query"},
      {"walk-in without a name",
       [&] {
         v1::CheckInWalkInRequest req;
         req.set_event(event_.name());
         req.set_client_scan_id("walk-in");
         v1::CheckInWalkInResponse resp;
         return server_.checkin().CheckInWalkIn(TestServer::Context(door_).get(), req, &resp);
       },
       kInvalid, "display_name"},
      {"choices in another event",
       [&] {
         v1::UpdateSessionChoicesRequest req;
         req.set_name(ana_.registration().name());
         req.add_sessions(other_session_.name());
         v1::Registration resp;
         return server_.registrations().UpdateSessionChoices(server_.AdminContext().get(), req,
                                                             &resp);
       },
       kInvalid, "sessions"},
      {"PNG scale 33",
       [&] {
         v1::GetTicketRequest req;
         req.set_name(ana_.registration().name());
         req.set_png_scale(33);
         v1::Ticket resp;
         return server_.registrations().GetTicket(server_.AdminContext().get(), req, &resp);
       },
       kInvalid, "png_scale"},
      {"DOOR token without its event",
       [&] {
         v1::CreateDeviceTokenRequest req;
         req.set_role(v1::ROLE_DOOR);
         v1::CreateDeviceTokenResponse resp;
         return server_.admin().CreateDeviceToken(server_.AdminContext().get(), req, &resp);
       },
       kInvalid, "event"},
  };

  const std::string before = server_.Fingerprint();
  for (const BadRequest& c : cases) {
    SCOPED_TRACE(c.name);
    const grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.names));
    if (!c.never_echoes.empty()) {
      EXPECT_THAT(status.error_message(), Not(HasSubstr(c.never_echoes)));
    }
    EXPECT_EQ(server_.Fingerprint(), before);
  }

  // And the good requests the cases were made from do work, so each case failed for its reason.
  EXPECT_TRUE(Register(GoodRegister()).ok());
  EXPECT_TRUE(CreateEvent(GoodEvent()).ok());
  EXPECT_TRUE(Scan(GoodScan()).ok());
}

// The outside client's report: doors_open_time in the mask but not in the event opened the doors
// from 1970, and a scan five days early was ADMITTED.
TEST_F(BadInputTest, AMaskedButUnsetDoorsOpenTimeKeepsTheDoorsShut) {
  const grpc::Status status = UpdateEventMaskingUnset("doors_open_time");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("set it, or leave it out of the mask"));

  v1::ScanRequest req = GoodScan();
  *req.mutable_scan_time() = ToProtoTime(absl::Now() - absl::Hours(24 * 5));
  v1::ScanResult result;
  ASSERT_TRUE(server_.checkin().Scan(TestServer::Context(door_).get(), req, &result).ok());
  EXPECT_EQ(result.status(), v1::ScanResult::OUTSIDE_CHECKIN_WINDOW);
}

TEST_F(BadInputTest, DisplayNamesOfExactly200BytesAreAccepted) {
  v1::RegisterRequest req = GoodRegister();
  std::string name;
  for (int i = 0; i < 100; ++i) name += "é";
  ASSERT_EQ(name.size(), 200u);
  req.mutable_registration()->set_display_name(name);
  v1::RegisterResponse resp;
  const grpc::Status status =
      server_.registrations().Register(server_.AdminContext().get(), req, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.registration().display_name(), name);
}

// A proto3 string must be UTF-8; a client that sends other bytes anyway (a hand-rolled client, or
// one reading a Latin-1 file) gets INVALID_ARGUMENT saying so, and nothing changes.
TEST_F(BadInputTest, InvalidUtf8InADisplayNameIsRefusedAndChangesNothing) {
  v1::RegisterRequest req = GoodRegister();
  req.mutable_registration()->set_display_name("Jos\xe9 Mart\xednez");  // Latin-1, not UTF-8
  const std::string before = server_.Fingerprint();
  const grpc::Status status = Register(req);
  // protobuf refuses the message before any handler runs, so the answer cannot name the field;
  // RequestStatusInterceptor turns gRPC's bare UNIMPLEMENTED into this actionable status.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("valid UTF-8"));
  EXPECT_EQ(server_.Fingerprint(), before);
}

// PurgePersonalData's bad input is tested in purge_test.cc.

}  // namespace
}  // namespace turnout::testing

namespace turnout::testing {
namespace {

// Half a TLS configuration stops the server with a message naming what is missing; it never
// serves plaintext instead.
TEST(ServerOptionsTest, OneOfTheTlsFilesAloneIsRefusedByName) {
  ScopedTempDir dir;
  for (const bool cert_only : {true, false}) {
    api::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.data_dir = dir.path();
    options.database = TestPostgres::Get().NewDatabase();
    (cert_only ? options.tls_cert_file : options.tls_key_file) = dir.path() + "/server.pem";
    absl::StatusOr<std::unique_ptr<api::TurnoutServer>> server = api::TurnoutServer::Start(options);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(server.status().message(), HasSubstr(cert_only ? "--tls_key" : "--tls_cert"));
    EXPECT_THAT(server.status().message(), HasSubstr("does not fall back to plaintext"));
  }
}

TEST(ServerOptionsTest, AKeyThatIsNotTheCertificatesIsNamedAsSuch) {
  ScopedTempDir dir;
  const std::string d = dir.path();
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/a.key -out " +
                         d + "/a.pem -days 1 -subj /CN=localhost 2>/dev/null && openssl genrsa -out " +
                         d + "/b.key 2048 2>/dev/null")
                            .c_str()),
            0);
  api::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = d + "/data";
  options.database = TestPostgres::Get().NewDatabase();
  options.tls_cert_file = d + "/a.pem";
  options.tls_key_file = d + "/b.key";
  absl::StatusOr<std::unique_ptr<api::TurnoutServer>> server = api::TurnoutServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("is the private key of the certificate"));
}

}  // namespace
}  // namespace turnout::testing
