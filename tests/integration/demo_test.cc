// `turnoutctl demo` against the real server: the two 2015 trainings and the practice training of
// the day, loaded twice without creating anything twice, and a door that admits at the practice
// now, with no scan time sent (tools/turnoutctl_demo.h).
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "client-lib/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_server.h"
#include "tools/turnoutctl_demo.h"

namespace turnout::testing {
namespace {

using ::testing::HasSubstr;
using ::turnout::tools::DemoEvent;
using ::turnout::tools::LoadDemo;
using ::turnout::tools::PracticeEvent;

absl::Time Parse(const char* rfc3339) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) << error;
  return time;
}

TEST(PracticeEventTest, IsDatedTheDayItRunsInTheGivenZoneWithDoorsOpenNow) {
  // 07:30 UTC on 3 December is still 2 December in Los Angeles.
  const absl::Time now = Parse("2026-12-03T07:30:42Z");
  const DemoEvent la = PracticeEvent(now, "America/Los_Angeles");
  EXPECT_EQ(la.event.request_id(), "demo-practice-2026-12-02");
  EXPECT_THAT(la.event.event().title(), HasSubstr("2026-12-02"));
  EXPECT_EQ(la.event.event().time_zone(), "America/Los_Angeles");
  EXPECT_EQ(FromProtoTime(la.event.event().doors_open_time()), Parse("2026-12-03T07:30:00Z"));
  EXPECT_GT(FromProtoTime(la.event.event().end_time()), now + absl::Hours(7));

  const DemoEvent berlin = PracticeEvent(now, "Europe/Berlin");
  EXPECT_EQ(berlin.event.request_id(), "demo-practice-2026-12-03");

  // Every room opens (30 minutes before its session) by the time the doors do.
  ASSERT_EQ(la.sessions.size(), 3u);
  for (const auto& [request_id, session] : la.sessions) {
    EXPECT_TRUE(absl::StartsWith(request_id, "demo-practice-2026-12-02-")) << request_id;
    EXPECT_LE(FromProtoTime(session.start_time()) - absl::Minutes(30), now) << session.title();
    EXPECT_GT(FromProtoTime(session.end_time()), now + absl::Hours(1));
  }
}

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client::ClientOptions options;
    options.target = server_.target();
    options.token = server_.admin_token();
    absl::StatusOr<std::unique_ptr<client::Client>> client = client::Client::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  std::vector<v1::Event> ListEvents() {
    v1::ListEventsRequest request;
    request.set_page_size(100);
    absl::StatusOr<v1::ListEventsResponse> listed = client_->ListEvents(request);
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.ok() ? std::vector<v1::Event>(listed->events().begin(), listed->events().end())
                       : std::vector<v1::Event>();
  }

  TestServer server_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(DemoTest, LoadsTheTrainingsAndOnePracticePerDay) {
  const absl::Time now = absl::Now();
  absl::StatusOr<std::vector<v1::Event>> first = LoadDemo(*client_, now, "America/Chicago");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->size(), 3u);
  absl::StatusOr<std::vector<v1::Event>> again =
      LoadDemo(*client_, now + absl::Minutes(5), "America/Chicago");
  ASSERT_TRUE(again.ok()) << again.status();
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*again)[i].name(), (*first)[i].name());
  EXPECT_EQ(ListEvents().size(), 3u) << "the second run created nothing";

  const v1::Event& practice = (*first)[2];
  EXPECT_THAT(practice.title(), HasSubstr("Door practice"));
  EXPECT_EQ(practice.time_zone(), "America/Chicago");
  EXPECT_EQ(practice.state(), v1::Event::PUBLISHED);

  // The next day brings a practice of its own.
  absl::StatusOr<std::vector<v1::Event>> tomorrow =
      LoadDemo(*client_, now + absl::Hours(24), "America/Chicago");
  ASSERT_TRUE(tomorrow.ok()) << tomorrow.status();
  EXPECT_NE((*tomorrow)[2].name(), practice.name());
  EXPECT_EQ((*tomorrow)[0].name(), (*first)[0].name());
  EXPECT_EQ(ListEvents().size(), 4u);
}

TEST_F(DemoTest, ThePracticeDoorAdmitsNowAtTheEntranceAndInTheChosenRoom) {
  absl::StatusOr<std::vector<v1::Event>> events = LoadDemo(*client_, absl::Now(), "UTC");
  ASSERT_TRUE(events.ok()) << events.status();
  const v1::Event practice = (*events)[2];

  v1::ListSessionsRequest list;
  list.set_parent(practice.name());
  absl::StatusOr<v1::ListSessionsResponse> sessions = client_->ListSessions(list);
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  const v1::Session* breakout = nullptr;
  for (const v1::Session& s : sessions->sessions()) {
    if (s.kind() == v1::Session::BREAKOUT && breakout == nullptr) breakout = &s;
  }
  ASSERT_NE(breakout, nullptr);

  const v1::RegisterResponse ana =
      server_.Register(practice.name(), "Ana Practice", {breakout->name()});
  const std::string door = server_.NewToken(v1::ROLE_DOOR, practice.name());
  ASSERT_FALSE(HasFailure());

  for (const std::string& checkpoint : {std::string(), breakout->checkpoint()}) {
    v1::ScanRequest scan;  // no scan_time: the server's clock, as a live door
    scan.set_event(practice.name());
    scan.set_checkpoint(checkpoint);
    scan.set_code(ana.ticket().code());
    scan.set_client_scan_id(client::NewRequestId());
    v1::ScanResult result;
    grpc::Status status = server_.checkin().Scan(TestServer::Context(door).get(), scan, &result);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(result.status(), v1::ScanResult::ADMITTED)
        << (checkpoint.empty() ? "entrance" : checkpoint) << ": " << result.message();
  }
}

}  // namespace
}  // namespace turnout::testing
