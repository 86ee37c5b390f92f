#include "tests/support/test_server.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace turnout::testing {
namespace {

constexpr absl::Duration kCallDeadline = absl::Seconds(10);

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "test_server: " << message << std::endl;
  std::abort();
}

}  // namespace

TestServer::TestServer() : database_(TestPostgres::Get().NewDatabase()) { Start(); }

TestServer::TestServer(std::function<void(api::ServerOptions&)> tweak,
                       const TestServer* replica_of)
    : tweak_(std::move(tweak)), replica_of_(replica_of) {
  if (replica_of == nullptr) {
    database_ = TestPostgres::Get().NewDatabase();
  } else {
    // Replicas of one deployment share the database and the data key.
    database_ = replica_of->database_;
    std::filesystem::create_directories(std::filesystem::path(data_dir_.path()) / "secrets");
    std::filesystem::copy_file(
        std::filesystem::path(replica_of->data_dir_.path()) / "secrets" / "data.key",
        std::filesystem::path(data_dir_.path()) / "secrets" / "data.key");
  }
  Start();
}

void TestServer::Start() {
  api::ServerOptions options;
  options.listen = absl::StrCat("127.0.0.1:", port_);
  options.data_dir = data_dir_.path();
  options.database = database_;
  options.durable = false;  // irrelevant for an external database
  options.db_workers = 16;
  // Tests make events in the past (a report, a postponement): nothing purges them behind the
  // test's back. The retention tests turn it on.
  options.retention_days = 0;
  if (tweak_) tweak_(options);
  absl::StatusOr<std::unique_ptr<api::TurnoutServer>> server = api::TurnoutServer::Start(options);
  if (!server.ok()) Die(absl::StrCat("cannot start the server: ", server.status().ToString()));
  server_ = *std::move(server);
  port_ = server_->port();

  if (replica_of_ != nullptr) {
    admin_token_ = replica_of_->admin_token_;  // the first replica wrote it
  } else {
    std::ifstream in(server_->admin_token_path());
    std::string token;
    if (!std::getline(in, token)) Die("cannot read " + server_->admin_token_path());
    admin_token_ = std::string(absl::StripAsciiWhitespace(token));
  }

  channel_ = grpc::CreateChannel(target(), grpc::InsecureChannelCredentials());
  events_ = v1::EventService::NewStub(channel_);
  registrations_ = v1::RegistrationService::NewStub(channel_);
  checkin_ = v1::CheckinService::NewStub(channel_);
  attendance_ = v1::AttendanceService::NewStub(channel_);
  admin_ = v1::AdminService::NewStub(channel_);
}

std::string TestServer::target() const { return absl::StrCat("127.0.0.1:", server_->port()); }

void TestServer::Stop() {
  // Drop the client side first so that the server's shutdown has no call to wait for.
  events_.reset();
  registrations_.reset();
  checkin_.reset();
  attendance_.reset();
  admin_.reset();
  channel_.reset();
  server_->Shutdown();
}

TestServer::~TestServer() {
  if (server_) Stop();
}

void TestServer::Restart() {
  StopServing();
  StartAgain();
}

void TestServer::StopServing() {
  Stop();
  server_.reset();
}

void TestServer::StartAgain() { Start(); }

std::unique_ptr<grpc::ClientContext> TestServer::Context(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  if (!token.empty()) ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  return ctx;
}

std::string TestServer::NewToken(v1::Role role, const std::string& event) {
  v1::CreateDeviceTokenRequest req;
  req.set_role(role);
  req.set_event(event);
  req.set_label(absl::StrCat("test ", v1::Role_Name(role)));
  v1::CreateDeviceTokenResponse resp;
  grpc::Status status = admin_->CreateDeviceToken(AdminContext().get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "CreateDeviceToken: " << status.error_message();
  return resp.secret();
}

v1::Event TestServer::NewEvent(const std::string& title, int32_t capacity,
                               absl::Duration offset) {
  const absl::Time now = absl::Now() + offset;
  v1::CreateEventRequest req;
  v1::Event* e = req.mutable_event();
  e->set_title(title);
  e->set_venue("Community hall");
  e->set_time_zone("America/Los_Angeles");
  *e->mutable_start_time() = ToProtoTime(now - absl::Hours(1));
  *e->mutable_end_time() = ToProtoTime(now + absl::Hours(6));
  *e->mutable_doors_open_time() = ToProtoTime(now - absl::Hours(2));
  e->set_capacity(capacity);
  e->set_state(v1::Event::PUBLISHED);
  v1::Event resp;
  grpc::Status status = events_->CreateEvent(AdminContext().get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "CreateEvent: " << status.error_message();
  return resp;
}

v1::Session TestServer::NewSession(const std::string& event, const std::string& title,
                                   int32_t round, int32_t capacity, bool requires_selection,
                                   absl::Duration offset) {
  const absl::Time now = absl::Now() + offset;
  v1::CreateSessionRequest req;
  req.set_parent(event);
  v1::Session* s = req.mutable_session();
  s->set_title(title);
  s->set_kind(round > 0 ? v1::Session::BREAKOUT : v1::Session::PLENARY);
  s->set_room(absl::StrCat("Room ", title));
  s->set_round(round);
  *s->mutable_start_time() = ToProtoTime(now - absl::Minutes(10));
  *s->mutable_end_time() = ToProtoTime(now + absl::Hours(1));
  s->set_capacity(capacity);
  s->set_requires_selection(requires_selection);
  v1::Session resp;
  grpc::Status status = events_->CreateSession(AdminContext().get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "CreateSession: " << status.error_message();
  return resp;
}

v1::RegisterResponse TestServer::Register(const std::string& event, const std::string& display_name,
                                          const std::vector<std::string>& sessions,
                                          const std::string& email) {
  v1::RegisterRequest req;
  req.set_parent(event);
  req.set_request_id(absl::StrCat("test-registration-", ++next_request_));
  req.mutable_registration()->set_display_name(display_name);
  req.mutable_registration()->set_email(email);
  req.mutable_registration()->set_preferred_language("en");
  for (const std::string& session : sessions) {
    req.mutable_registration()->add_session_choices()->set_session(session);
  }
  v1::RegisterResponse resp;
  grpc::Status status = registrations_->Register(AdminContext().get(), req, &resp);
  EXPECT_TRUE(status.ok()) << "Register: " << status.error_message();
  return resp;
}

void TestServer::Execute(const std::string& sql) const {
  pqxx::connection conn(database_);
  pqxx::work txn(conn);
  txn.exec0(sql);
  txn.commit();
}

v1::Attendance TestServer::Attendance(const std::string& event) {
  v1::GetAttendanceRequest req;
  req.set_event(event);
  v1::Attendance attendance;
  const grpc::Status status = attendance_->GetAttendance(AdminContext().get(), req, &attendance);
  EXPECT_TRUE(status.ok()) << "GetAttendance: " << status.error_message();
  return attendance;
}

v1::CheckpointAttendance TestServer::CountsAt(const v1::Event& event,
                                              const std::string& checkpoint) {
  const std::string name = checkpoint.empty() ? event.entrance_checkpoint() : checkpoint;
  const v1::Attendance attendance = Attendance(event.name());
  for (const v1::CheckpointAttendance& c : attendance.checkpoints()) {
    if (c.checkpoint() == name) return c;
  }
  ADD_FAILURE() << "no counts for " << name;
  return {};
}

int64_t TestServer::QueryInt(const std::string& sql) const {
  pqxx::connection conn(database_);
  pqxx::work txn(conn);
  return txn.exec1(sql)[0].as<int64_t>();
}

std::string TestServer::Fingerprint() const {
  pqxx::connection conn(database_);
  pqxx::work txn(conn);
  std::string out;
  for (const pqxx::row& table :
       txn.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")) {
    const std::string name = txn.quote_name(table[0].as<std::string>());
    const pqxx::row digest = txn.exec1(absl::StrCat(
        "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM ", name,
        " t"));
    absl::StrAppend(&out, name, "=", digest[0].as<int64_t>(), ":", digest[1].as<std::string>(),
                    "\n");
  }
  return out;
}

}  // namespace turnout::testing
