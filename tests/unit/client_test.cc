// The client library against an in-process fake of the services: the bearer token and deadline on
// every call, which calls are retried (only those safe to repeat), error conversion, resuming a
// dropped WatchAttendance stream, the AttendanceWatcher's reconnection, and streaming an import.
#include "client-lib/client.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "client-lib/attendance_watcher.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace turnout::client {
namespace {

using ::testing::ElementsAre;

// Answers each call with the next status in `failures_` (OK once they run out) and records what the
// calls carried.
class FakeServices final : public v1::EventService::Service,
                           public v1::CheckinService::Service,
                           public v1::RegistrationService::Service,
                           public v1::AttendanceService::Service {
 public:
  void FailNext(std::vector<grpc::Status> failures) {
    absl::MutexLock lock(&mu_);
    failures_ = std::move(failures);
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::string authorization() {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }
  absl::Duration deadline() {
    absl::MutexLock lock(&mu_);
    return deadline_;
  }
  std::vector<int64_t> watch_resumes() {
    absl::MutexLock lock(&mu_);
    return watch_resumes_;
  }
  std::vector<int> imported_lines() {
    absl::MutexLock lock(&mu_);
    return imported_lines_;
  }
  // WatchAttendance sends nothing and holds the stream open until the client cancels it.
  void SilenceWatch() {
    absl::MutexLock lock(&mu_);
    silent_watch_ = true;
  }

  grpc::Status GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                        v1::Event* event) override {
    event->set_name(request->name());
    return Answer(*context);
  }
  grpc::Status CreateEvent(grpc::ServerContext* context, const v1::CreateEventRequest*,
                           v1::Event*) override {
    return Answer(*context);
  }
  grpc::Status UpdateEvent(grpc::ServerContext* context, const v1::UpdateEventRequest*,
                           v1::Event*) override {
    return Answer(*context);
  }
  grpc::Status Scan(grpc::ServerContext* context, const v1::ScanRequest*,
                    v1::ScanResult* result) override {
    result->set_status(v1::ScanResult::ADMITTED);
    return Answer(*context);
  }
  grpc::Status ImportRegistrations(grpc::ServerContext* context,
                                   grpc::ServerReader<v1::ImportRegistrationsRequest>* reader,
                                   v1::ImportRegistrationsResponse* response) override {
    v1::ImportRegistrationsRequest row;
    while (reader->Read(&row)) {
      absl::MutexLock lock(&mu_);
      imported_lines_.push_back(row.line());
    }
    response->set_imported(static_cast<int>(imported_lines().size()));
    return Answer(*context);
  }
  // Sends sequences resume+1 and resume+2, then fails with the next failure (OK when none is left).
  grpc::Status WatchAttendance(grpc::ServerContext* context,
                               const v1::WatchAttendanceRequest* request,
                               grpc::ServerWriter<v1::AttendanceUpdate>* writer) override {
    bool silent;
    {
      absl::MutexLock lock(&mu_);
      watch_resumes_.push_back(request->resume_after_sequence());
      silent = silent_watch_;
    }
    if (silent) {
      while (!context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
      return grpc::Status::CANCELLED;
    }
    for (int64_t i = 1; i <= 2; ++i) {
      v1::AttendanceUpdate update;
      update.set_sequence(request->resume_after_sequence() + i);
      writer->Write(update);
    }
    return Answer(*context);
  }

 private:
  grpc::Status Answer(grpc::ServerContext& context) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    auto auth = context.client_metadata().find("authorization");
    authorization_ = auth == context.client_metadata().end()
                         ? ""
                         : std::string(auth->second.data(), auth->second.size());
    deadline_ = absl::FromChrono(context.deadline()) - absl::Now();
    if (failures_.empty()) return grpc::Status::OK;
    grpc::Status next = failures_.front();
    failures_.erase(failures_.begin());
    return next;
  }

  absl::Mutex mu_;
  std::vector<grpc::Status> failures_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  absl::Duration deadline_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> watch_resumes_ ABSL_GUARDED_BY(mu_);
  std::vector<int> imported_lines_ ABSL_GUARDED_BY(mu_);
  bool silent_watch_ ABSL_GUARDED_BY(mu_) = false;
};

const grpc::Status kUnavailable(grpc::StatusCode::UNAVAILABLE, "replica restarting");
const grpc::Status kTimedOut(grpc::StatusCode::DEADLINE_EXCEEDED, "too slow");

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(static_cast<v1::EventService::Service*>(&fake_));
    builder.RegisterService(static_cast<v1::CheckinService::Service*>(&fake_));
    builder.RegisterService(static_cast<v1::RegistrationService::Service*>(&fake_));
    builder.RegisterService(static_cast<v1::AttendanceService::Service*>(&fake_));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    options_.target = absl::StrCat("127.0.0.1:", port);
    options_.token = "s3cret";
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<Client> Connect() {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options_);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  FakeServices fake_;
  std::unique_ptr<grpc::Server> server_;
  ClientOptions options_;
};

v1::GetEventRequest GetEvent1() {
  v1::GetEventRequest request;
  request.set_name("events/1");
  return request;
}

TEST_F(ClientTest, SendsTheBearerTokenAndADeadline) {
  options_.deadline = absl::Seconds(3);
  absl::StatusOr<v1::Event> event = Connect()->GetEvent(GetEvent1());
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->name(), "events/1");
  EXPECT_EQ(fake_.authorization(), "Bearer s3cret");
  EXPECT_GT(fake_.deadline(), absl::ZeroDuration());
  // gRPC carries the deadline as a timeout the server turns back into a time, rounding up: a few
  // milliseconds over on a busy machine (seen: 3.009 s) still means "the 3 s the client set".
  EXPECT_LE(fake_.deadline(), absl::Seconds(3) + absl::Milliseconds(250));
}

TEST_F(ClientTest, SendsNoAuthorizationWithoutAToken) {
  options_.token.clear();
  ASSERT_TRUE(Connect()->GetEvent(GetEvent1()).ok());
  EXPECT_EQ(fake_.authorization(), "");
}

TEST_F(ClientTest, RetriesReadsWhenUnavailable) {
  fake_.FailNext({kUnavailable, kTimedOut});
  EXPECT_TRUE(Connect()->GetEvent(GetEvent1()).ok());
  EXPECT_EQ(fake_.calls(), 3);
}

TEST_F(ClientTest, GivesUpAfterMaxAttemptsWithTheServersError) {
  fake_.FailNext({kUnavailable, kUnavailable, kUnavailable, kUnavailable});
  absl::Status status = Connect()->GetEvent(GetEvent1()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "replica restarting");
  EXPECT_EQ(fake_.calls(), 3);
}

TEST_F(ClientTest, DoesNotRetryOtherErrors) {
  fake_.FailNext({grpc::Status(grpc::StatusCode::NOT_FOUND, "no such event")});
  absl::Status status = Connect()->GetEvent(GetEvent1()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "no such event");
  EXPECT_EQ(fake_.calls(), 1);
}

TEST_F(ClientTest, NeverRetriesWritesWithoutAnId) {
  fake_.FailNext({kUnavailable, kUnavailable});
  std::unique_ptr<Client> client = Connect();
  EXPECT_EQ(client->UpdateEvent({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client->CreateEvent({}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fake_.calls(), 2);
}

TEST_F(ClientTest, RetriesWritesCarryingAnId) {
  std::unique_ptr<Client> client = Connect();
  v1::CreateEventRequest create;
  create.set_request_id("demo-oakland-2015");
  fake_.FailNext({kTimedOut});
  EXPECT_TRUE(client->CreateEvent(create).ok());
  EXPECT_EQ(fake_.calls(), 2);

  v1::ScanRequest scan;
  scan.set_client_scan_id("door-1-0001");
  fake_.FailNext({kUnavailable, kTimedOut});
  absl::StatusOr<v1::ScanResult> result = client->Scan(scan);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->status(), v1::ScanResult::ADMITTED);
  EXPECT_EQ(fake_.calls(), 5);
}

TEST_F(ClientTest, WatchResumesAfterTheLastSequenceAndStopsWhenAsked) {
  fake_.FailNext({kUnavailable});
  std::vector<int64_t> seen;
  absl::Status status = Connect()->WatchAttendance({}, [&](const v1::AttendanceUpdate& update) {
    seen.push_back(update.sequence());
    return seen.size() < 3;
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_THAT(seen, ElementsAre(1, 2, 3));
  EXPECT_THAT(fake_.watch_resumes(), ElementsAre(0, 2));
}

TEST_F(ClientTest, WatchReturnsErrorsItCannotResume) {
  fake_.FailNext({grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "dashboard token expired")});
  absl::Status status = Connect()->WatchAttendance({}, [](const auto&) { return true; });
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(fake_.watch_resumes(), ElementsAre(0));
}

// What an AttendanceWatcher told its owner, for the tests to wait on.
class WatchLog {
 public:
  void Update(const v1::AttendanceUpdate& update) {
    absl::MutexLock lock(&mu_);
    sequences_.push_back(update.sequence());
  }
  void State(WatchState state, const absl::Status& why) {
    absl::MutexLock lock(&mu_);
    states_.push_back(WatchStateName(state));
    if (!why.ok()) last_error_ = why;
  }
  // Waits (at most 10 s) until `done` holds of the states and the sequences seen.
  bool WaitFor(
      std::function<bool(const std::vector<std::string>&, const std::vector<int64_t>&)> done) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done(states_, sequences_); };
    return mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(10));
  }
  std::vector<std::string> states() {
    absl::MutexLock lock(&mu_);
    return states_;
  }
  absl::Status last_error() {
    absl::MutexLock lock(&mu_);
    return last_error_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> states_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> sequences_ ABSL_GUARDED_BY(mu_);
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

WatcherOptions FastWatcher() {
  WatcherOptions options;
  options.first_backoff = absl::Milliseconds(10);
  options.max_backoff = absl::Milliseconds(50);
  return options;
}

TEST_F(ClientTest, WatcherReconnectsAfterADropAndSaysSo) {
  fake_.FailNext({kUnavailable});
  std::unique_ptr<Client> client = Connect();
  WatchLog log;
  {
    AttendanceWatcher watcher(
        *client, "events/1", FastWatcher(), [&](const auto& u) { log.Update(u); },
        [&](WatchState s, const absl::Status& why) { log.State(s, why); });
    EXPECT_TRUE(
        log.WaitFor([](const auto&, const auto& sequences) { return sequences.size() >= 4; }));
  }
  const std::vector<std::string> states = log.states();
  ASSERT_GE(states.size(), 4);
  EXPECT_THAT(std::vector<std::string>(states.begin(), states.begin() + 4),
              ElementsAre("connecting", "live", "reconnecting", "live"));
  EXPECT_EQ(fake_.watch_resumes()[1], 2);  // it asks to resume after the last sequence it saw
}

TEST_F(ClientTest, WatcherStopsOnErrorsARetryCannotCure) {
  fake_.FailNext({grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "token revoked")});
  std::unique_ptr<Client> client = Connect();
  WatchLog log;
  AttendanceWatcher watcher(
      *client, "events/1", FastWatcher(), [&](const auto& u) { log.Update(u); },
      [&](WatchState s, const absl::Status& why) { log.State(s, why); });
  EXPECT_TRUE(log.WaitFor([](const auto& states, const auto&) {
    return !states.empty() && states.back() == "failed";
  }));
  EXPECT_EQ(log.last_error().code(), absl::StatusCode::kPermissionDenied);
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_THAT(fake_.watch_resumes(), ElementsAre(0));  // no second attempt
}

TEST_F(ClientTest, WatcherTakesASilentStreamForDeadAndStopsAtOnce) {
  fake_.SilenceWatch();
  std::unique_ptr<Client> client = Connect();
  WatchLog log;
  WatcherOptions options = FastWatcher();
  options.idle_timeout = absl::Milliseconds(300);
  auto watcher = std::make_unique<AttendanceWatcher>(
      *client, "events/1", options, [&](const auto& u) { log.Update(u); },
      [&](WatchState s, const absl::Status& why) { log.State(s, why); });
  EXPECT_TRUE(log.WaitFor([](const auto& states, const auto&) {
    return !states.empty() && states.back() == "reconnecting";
  }));
  EXPECT_THAT(log.last_error().message(), ::testing::HasSubstr("no message for"));
  // Blocked in the next silent stream: destroying the watcher cancels it rather than waiting.
  const absl::Time start = absl::Now();
  watcher.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(WatchBackoffTest, DoublesUpToTheMaximum) {
  WatcherOptions options;
  options.first_backoff = absl::Milliseconds(250);
  options.max_backoff = absl::Seconds(5);
  EXPECT_EQ(WatchBackoff(options, 1), absl::Milliseconds(250));
  EXPECT_EQ(WatchBackoff(options, 2), absl::Milliseconds(500));
  EXPECT_EQ(WatchBackoff(options, 5), absl::Seconds(4));
  EXPECT_EQ(WatchBackoff(options, 6), absl::Seconds(5));
  EXPECT_EQ(WatchBackoff(options, 1000), absl::Seconds(5));
}

TEST_F(ClientTest, ImportStreamsEveryRowInOrder) {
  std::vector<v1::ImportRegistrationsRequest> rows(3);
  for (int i = 0; i < 3; ++i) rows[i].set_line(i + 2);
  absl::StatusOr<v1::ImportRegistrationsResponse> response = Connect()->ImportRegistrations(rows);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->imported(), 3);
  EXPECT_THAT(fake_.imported_lines(), ElementsAre(2, 3, 4));
}

TEST(ConnectTest, RejectsOptionsItCannotUse) {
  ClientOptions options;
  EXPECT_EQ(Client::Connect(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.target = "localhost:7443";
  options.max_attempts = 0;
  EXPECT_EQ(Client::Connect(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.max_attempts = 1;
  options.token = "two\nlines";
  EXPECT_EQ(Client::Connect(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NewRequestIdTest, Is32HexDigitsAndDiffers) {
  const std::string a = NewRequestId();
  EXPECT_EQ(a.size(), 32);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, NewRequestId());
}

}  // namespace
}  // namespace turnout::client
