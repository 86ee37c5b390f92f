// A real turnout-server, in-process, for integration tests: TurnoutServer on a fresh database of
// the test process's PostgreSQL (see test_postgres.h), listening on 127.0.0.1 on a free port, and
// gRPC stubs talking to it over a real channel.
//
//   TEST(CheckinTest, Admits) {
//     turnout::testing::TestServer server;
//     v1::Event event = server.NewEvent("Oakland");
//     std::string door = server.NewToken(v1::ROLE_DOOR, event.name());
//     v1::RegisterResponse ana = server.Register(event.name(), "Ana");
//     v1::ScanRequest scan;
//     ...
//     grpc::Status status = server.checkin().Scan(server.Context(door).get(), scan, &result);
//   }
//
// The builders (NewEvent, NewSession, Register, NewToken) record a test failure and return an
// empty message when their call fails, so a test reads as its scenario; check HasFailure() after
// a setup if later steps would only repeat the cause.
#ifndef TURNOUT_TESTS_SUPPORT_TEST_SERVER_H_
#define TURNOUT_TESTS_SUPPORT_TEST_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/api/convert.h"
#include "server/api/server.h"
#include "tests/support/test_postgres.h"
#include "turnout/v1/admin_service.grpc.pb.h"
#include "turnout/v1/attendance_service.grpc.pb.h"
#include "turnout/v1/checkin_service.grpc.pb.h"
#include "turnout/v1/event_service.grpc.pb.h"
#include "turnout/v1/registration_service.grpc.pb.h"

namespace turnout::testing {

namespace v1 = ::turnout::v1;

// The server's own conversions, for timestamps in requests and answers.
using ::turnout::api::FromProtoTime;
using ::turnout::api::ToProtoTime;

class TestServer {
 public:
  // Starts the server on a new database; aborts the test process if it cannot.
  TestServer();
  // The same, with options changed by `tweak` (shorter heartbeats, say). With `replica_of`, a
  // second replica of that server: the same database, data key and ADMIN token.
  explicit TestServer(std::function<void(api::ServerOptions&)> tweak,
                      const TestServer* replica_of = nullptr);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // "127.0.0.1:{port}", for clients that make their own channel (client-lib's Client).
  std::string target() const;
  // The first ADMIN token, as the server wrote it to its data directory.
  const std::string& admin_token() const { return admin_token_; }
  // libpq connection string of the server's database, for checking rows directly.
  const std::string& database() const { return database_; }

  v1::EventService::Stub& events() { return *events_; }
  v1::RegistrationService::Stub& registrations() { return *registrations_; }
  v1::CheckinService::Stub& checkin() { return *checkin_; }
  v1::AttendanceService::Stub& attendance() { return *attendance_; }
  v1::AdminService::Stub& admin() { return *admin_; }

  // A context with a 10 s deadline that sends `token` as "authorization: Bearer <token>"; no
  // metadata at all when `token` is empty.
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& token);
  // The same, with the ADMIN token.
  std::unique_ptr<grpc::ClientContext> AdminContext() const { return Context(admin_token_); }

  // Creates a device token through AdminService (as ADMIN) and returns its secret.
  std::string NewToken(v1::Role role, const std::string& event = "");

  // A PUBLISHED event in America/Los_Angeles that started an hour ago and ends in six hours, with
  // doors open since two hours ago: scans made now are inside its window. `offset` moves all of
  // it (e.g. -7 days: a week ago).
  v1::Event NewEvent(const std::string& title, int32_t capacity = 0,
                     absl::Duration offset = absl::ZeroDuration());
  // A session running from 10 minutes ago to an hour from now (its room opens 30 minutes before),
  // moved by `offset`. round > 0 makes it a BREAKOUT, round 0 a PLENARY.
  v1::Session NewSession(const std::string& event, const std::string& title, int32_t round,
                         int32_t capacity, bool requires_selection,
                         absl::Duration offset = absl::ZeroDuration());
  // Registers `display_name` (as ADMIN) with the given breakout choices and a fresh request_id.
  v1::RegisterResponse Register(const std::string& event, const std::string& display_name,
                                const std::vector<std::string>& sessions = {},
                                const std::string& email = "");

  // Stops the server and starts it again on the same database, data directory and port, as an
  // operator restarts it: its start-up steps run again. Tokens and data persist; the stubs then
  // talk to the new server.
  void Restart();
  // Restart() in two halves, for a client to see the server gone in between: StopServing shuts the
  // server down (the stubs are unusable until StartAgain), StartAgain brings it back on its port.
  void StopServing();
  void StartAgain();
  // The port the server listens on, the same across restarts.
  int port() const { return port_; }

  // Runs `sql` on the server's database and commits, e.g. to put rows into a state an older
  // release would have left.
  void Execute(const std::string& sql) const;
  // GetAttendance as ADMIN (a test failure and an empty message if the call fails), and the counts
  // of one of its checkpoints ("" for the entrance; a test failure if there is none).
  v1::Attendance Attendance(const std::string& event);
  v1::CheckpointAttendance CountsAt(const v1::Event& event, const std::string& checkpoint = "");

  // The first column of the first row of `sql` on the server's database, e.g.
  // QueryInt("SELECT count(*) FROM scans").
  int64_t QueryInt(const std::string& sql) const;
  // A digest of every row of every table: equal before and after a call means it changed nothing.
  std::string Fingerprint() const;

 private:
  // Starts server_ on database_ and data_dir_, and connects the stubs to it.
  void Start();
  // Disconnects the stubs and shuts server_ down.
  void Stop();

  std::function<void(api::ServerOptions&)> tweak_;
  const TestServer* replica_of_ = nullptr;
  ScopedTempDir data_dir_;
  std::string database_;
  std::unique_ptr<api::TurnoutServer> server_;
  int port_ = 0;  // 0 until the first start picks one
  std::string admin_token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventService::Stub> events_;
  std::unique_ptr<v1::RegistrationService::Stub> registrations_;
  std::unique_ptr<v1::CheckinService::Stub> checkin_;
  std::unique_ptr<v1::AttendanceService::Stub> attendance_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  int next_request_ = 0;
};

}  // namespace turnout::testing

#endif  // TURNOUT_TESTS_SUPPORT_TEST_SERVER_H_
