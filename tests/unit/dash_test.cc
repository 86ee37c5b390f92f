// turnout-dash's pure parts: the board's JSON, the bar colours, the arrivals ring, the labels in
// both languages, the page, the latest-only feed and the dashboard state. The JSON is read back
// with protobuf's JSON parser, so "valid JSON" is checked by a parser that is not ours.
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tools/dash/arrivals.h"
#include "tools/dash/board.h"
#include "tools/dash/dashboard.h"
#include "tools/dash/feed.h"
#include "tools/common/text.h"
#include "tools/dash/page.h"
#include "tools/dash/strings.h"

namespace turnout::dash {
namespace {

using ::google::protobuf::Struct;
using ::google::protobuf::Value;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

Struct ParseJson(const std::string& json) {
  Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return parsed;
}

v1::CheckpointAttendance Checkpoint(const std::string& title, const std::string& session,
                                    int64_t inside, int64_t capacity) {
  v1::CheckpointAttendance c;
  c.set_title(title);
  c.set_session(session);
  c.set_inside(inside);
  c.set_capacity(capacity);
  return c;
}

v1::Attendance SampleAttendance() {
  v1::Attendance a;
  a.set_event("events/1");
  *a.mutable_as_of() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(1444923000000);
  v1::CheckpointAttendance entrance = Checkpoint("Entrance", "", 180, 300);
  entrance.set_registered(250);
  entrance.set_checked_in(212);
  entrance.set_arrivals_last_minute(7);
  *a.add_checkpoints() = entrance;
  *a.add_checkpoints() =
      Checkpoint("Workers' rights (Bishop House)", "events/1/sessions/3", 45, 50);
  *a.add_checkpoints() = Checkpoint("Plenary", "events/1/sessions/1", 120, 0);
  return a;
}

TEST(BarLevelTest, AmberFromNinetyPercentRedWhenFull) {
  EXPECT_EQ(RoomBarLevel(0, 100), BarLevel::kNormal);
  EXPECT_EQ(RoomBarLevel(89, 100), BarLevel::kNormal);
  EXPECT_EQ(RoomBarLevel(90, 100), BarLevel::kAmber);
  EXPECT_EQ(RoomBarLevel(99, 100), BarLevel::kAmber);
  EXPECT_EQ(RoomBarLevel(100, 100), BarLevel::kRed);
  EXPECT_EQ(RoomBarLevel(104, 100), BarLevel::kRed);  // over capacity: still red
  // 8 of 9 is 88.9 %: not rounded up to 90.
  EXPECT_EQ(RoomBarLevel(8, 9), BarLevel::kNormal);
  EXPECT_EQ(RoomBarLevel(9, 10), BarLevel::kAmber);
  EXPECT_EQ(RoomBarLevel(0, 1), BarLevel::kNormal);
  EXPECT_EQ(RoomBarLevel(1, 1), BarLevel::kRed);
}

TEST(BarLevelTest, NoCapacityMeansNoBar) {
  EXPECT_EQ(RoomBarLevel(0, 0), BarLevel::kUnlimited);
  EXPECT_EQ(RoomBarLevel(500, 0), BarLevel::kUnlimited);
  EXPECT_STREQ(BarLevelName(BarLevel::kAmber), "amber");
  EXPECT_STREQ(BarLevelName(BarLevel::kRed), "red");
}

TEST(BoardJsonTest, CarriesTheEntranceTheRoomsAndTheArrivals) {
  Board board;
  board.state = "live";
  board.event_title = "Oakland training";
  board.attendance = SampleAttendance();
  board.arrivals = {{absl::FromUnixMillis(1000), 3}, {absl::FromUnixMillis(61000), 7}};
  const Struct json = ParseJson(BoardJson(board));
  const auto& f = json.fields();
  EXPECT_EQ(f.at("state").string_value(), "live");
  EXPECT_EQ(f.at("title").string_value(), "Oakland training");
  EXPECT_EQ(f.at("event").string_value(), "events/1");
  EXPECT_EQ(f.at("as_of_ms").number_value(), 1444923000000.0);
  const auto& entrance = f.at("entrance").struct_value().fields();
  EXPECT_EQ(entrance.at("registered").number_value(), 250);
  EXPECT_EQ(entrance.at("checked_in").number_value(), 212);
  EXPECT_EQ(entrance.at("inside").number_value(), 180);
  EXPECT_EQ(entrance.at("capacity").number_value(), 300);
  EXPECT_EQ(entrance.at("arrivals_last_minute").number_value(), 7);
  const auto& rooms = f.at("rooms").list_value().values();
  ASSERT_EQ(rooms.size(), 2);  // the entrance is not a room
  const auto& workers = rooms[0].struct_value().fields();
  EXPECT_EQ(workers.at("title").string_value(), "Workers' rights (Bishop House)");
  EXPECT_EQ(workers.at("inside").number_value(), 45);
  EXPECT_EQ(workers.at("capacity").number_value(), 50);
  EXPECT_EQ(workers.at("level").string_value(), "amber");
  EXPECT_EQ(rooms[1].struct_value().fields().at("level").string_value(), "unlimited");
  const auto& arrivals = f.at("arrivals").list_value().values();
  ASSERT_EQ(arrivals.size(), 2);
  EXPECT_EQ(arrivals[1].list_value().values(0).number_value(), 61000);
  EXPECT_EQ(arrivals[1].list_value().values(1).number_value(), 7);
  EXPECT_EQ(f.at("window_ms").number_value(), 3600000);  // 60 samples a minute apart
}

TEST(BoardJsonTest, BeforeTheFirstSnapshotThereIsNoEntrance) {
  const Struct json = ParseJson(BoardJson(Board{}));
  EXPECT_EQ(json.fields().at("state").string_value(), "connecting");
  EXPECT_EQ(json.fields().at("entrance").kind_case(), Value::kNullValue);
  EXPECT_EQ(json.fields().at("rooms").list_value().values_size(), 0);
}

TEST(BoardJsonTest, TitlesCannotBreakOutOfTheJsonOrAScript) {
  Board board;
  board.attendance.emplace();
  *board.attendance->add_checkpoints() =
      Checkpoint("Room \"A\" </script><b>\\ \n", "events/1/sessions/2", 1, 10);
  const std::string json = BoardJson(board);
  EXPECT_THAT(json, Not(HasSubstr("</script>")));
  EXPECT_EQ(ParseJson(json)
                .fields()
                .at("rooms")
                .list_value()
                .values(0)
                .struct_value()
                .fields()
                .at("title")
                .string_value(),
            "Room \"A\" </script><b>\\ \n");
  EXPECT_EQ(tools::JsonQuote("José ñ"), "\"José ñ\"");  // UTF-8 passes through
}

TEST(ArrivalsRingTest, KeepsTheLastSixtySamplesOldestFirst) {
  ArrivalsRing ring;
  EXPECT_TRUE(ring.Samples().empty());
  for (int minute = 0; minute < 75; ++minute) {
    ring.Add(absl::FromUnixSeconds(60 * minute), minute);
  }
  const std::vector<ArrivalSample> samples = ring.Samples();
  ASSERT_EQ(samples.size(), 60);
  EXPECT_EQ(samples.front().arrivals, 15);
  EXPECT_EQ(samples.back().arrivals, 74);
  for (size_t i = 1; i < samples.size(); ++i) EXPECT_LT(samples[i - 1].time, samples[i].time);
}

TEST(ArrivalsRingTest, DropsASampleOlderThanTheNewest) {
  ArrivalsRing ring(3);
  ring.Add(absl::FromUnixSeconds(120), 2);
  ring.Add(absl::FromUnixSeconds(60), 1);  // the clock stepped back
  ring.Add(absl::FromUnixSeconds(180), 3);
  std::vector<int64_t> values;
  for (const ArrivalSample& s : ring.Samples()) values.push_back(s.arrivals);
  EXPECT_THAT(values, ElementsAre(2, 3));
}

TEST(StringsTest, EveryLabelIsInBothLanguages) {
  for (const std::string& key : LabelKeys()) {
    EXPECT_FALSE(Label(Language::kEnglish, key).empty()) << key;
    EXPECT_FALSE(Label(Language::kSpanish, key).empty()) << key;
    EXPECT_NE(Label(Language::kEnglish, key), Label(Language::kSpanish, key)) << key;
    // A label with a number keeps its place for it in both languages.
    EXPECT_EQ(Label(Language::kEnglish, key).find("{n}") == absl::string_view::npos,
              Label(Language::kSpanish, key).find("{n}") == absl::string_view::npos)
        << key;
  }
  EXPECT_EQ(Label(Language::kSpanish, "checked_in"), "Han llegado");
  EXPECT_EQ(Label(Language::kSpanish, "reconnecting"), "Reconectando…");
  EXPECT_EQ(Label(Language::kEnglish, "no such key"), "");
}

TEST(StringsTest, LanguageComesFromTheQueryParameter) {
  EXPECT_EQ(LanguageFromParam("es"), Language::kSpanish);
  EXPECT_EQ(LanguageFromParam("ES"), Language::kSpanish);
  EXPECT_EQ(LanguageFromParam("es-MX"), Language::kSpanish);
  EXPECT_EQ(LanguageFromParam(""), Language::kEnglish);
  EXPECT_EQ(LanguageFromParam("en"), Language::kEnglish);
  EXPECT_EQ(LanguageFromParam("fr"), Language::kEnglish);
  EXPECT_EQ(LanguageFromParam("esperanto"), Language::kEnglish);
}

TEST(StringsTest, LabelsJsonHoldsEveryKey) {
  const Struct json = ParseJson(LabelsJson(Language::kSpanish));
  EXPECT_EQ(json.fields_size(), static_cast<int>(LabelKeys().size()));
  EXPECT_EQ(json.fields().at("inside").string_value(), "Adentro ahora");
}

TEST(PageTest, IsRenderedInTheAskedLanguage) {
  const std::string es = RenderPage(Language::kSpanish);
  EXPECT_THAT(es, HasSubstr("<html lang=\"es\">"));
  EXPECT_THAT(es, HasSubstr("\"Han llegado\""));
  EXPECT_THAT(es, Not(HasSubstr("{{")));
  const std::string en = RenderPage(Language::kEnglish);
  EXPECT_THAT(en, HasSubstr("<html lang=\"en\">"));
  EXPECT_THAT(en, HasSubstr("\"Checked in\""));
  // Everything the page needs is in it: it loads nothing from anywhere.
  EXPECT_THAT(en, Not(HasSubstr("http://")));
  EXPECT_THAT(en, Not(HasSubstr("https://")));
  EXPECT_THAT(en, Not(HasSubstr("src=")));
}

TEST(BoardFeedTest, ASlowViewerSkipsToTheLatest) {
  BoardFeed feed;
  feed.Publish("first");
  const uint64_t seen = feed.Latest().number;
  for (int i = 0; i < 1000; ++i) feed.Publish("board " + std::to_string(i));
  std::optional<BoardFeed::Version> next = feed.WaitNewer(seen, absl::ZeroDuration());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next->json, "board 999");
  EXPECT_EQ(next->number, seen + 1000);
}

TEST(BoardFeedTest, WaitsForANewerVersionOrTimesOut) {
  BoardFeed feed;
  feed.Publish("one");
  EXPECT_FALSE(feed.WaitNewer(1, absl::Milliseconds(20)).has_value());
  std::thread publisher([&] {
    absl::SleepFor(absl::Milliseconds(50));
    feed.Publish("two");
  });
  std::optional<BoardFeed::Version> next = feed.WaitNewer(1, absl::Seconds(10));
  publisher.join();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next->json, "two");
}

TEST(BoardFeedTest, CloseWakesEveryViewer) {
  BoardFeed feed;
  std::thread closer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    feed.Close();
  });
  const absl::Time start = absl::Now();
  EXPECT_FALSE(feed.WaitNewer(0, absl::Seconds(10)).has_value());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  closer.join();
  EXPECT_TRUE(feed.closed());
}

class DashboardTest : public ::testing::Test {
 protected:
  v1::AttendanceUpdate Update(bool heartbeat) {
    v1::AttendanceUpdate update;
    update.set_heartbeat(heartbeat);
    *update.mutable_attendance() = SampleAttendance();
    return update;
  }
  absl::Time now_ = absl::FromUnixSeconds(1444923000);
  Dashboard dashboard_{[this] { return now_; }, absl::Minutes(1)};
};

TEST_F(DashboardTest, UpdatesPublishHeartbeatsOnlyKeepTheStreamHealthy) {
  dashboard_.OnState(client::WatchState::kLive, absl::OkStatus());
  dashboard_.OnUpdate(Update(false));
  const BoardFeed::Version after_update = dashboard_.feed().Latest();
  EXPECT_THAT(*after_update.json, HasSubstr("\"checked_in\":212"));
  now_ += absl::Seconds(15);
  dashboard_.OnUpdate(Update(true));
  EXPECT_EQ(dashboard_.feed().Latest().number, after_update.number);
  now_ += absl::Seconds(3);
  const Health health = dashboard_.health();
  EXPECT_TRUE(health.ok);
  EXPECT_THAT(health.text, HasSubstr("3s ago"));
}

TEST_F(DashboardTest, ADroppedStreamShowsReconnectingAndFailsTheHealthCheck) {
  dashboard_.OnState(client::WatchState::kLive, absl::OkStatus());
  dashboard_.OnUpdate(Update(false));
  dashboard_.OnState(client::WatchState::kReconnecting, absl::UnavailableError("server gone"));
  EXPECT_THAT(*dashboard_.feed().Latest().json, HasSubstr("\"state\":\"reconnecting\""));
  // The last counts stay on screen while it reconnects.
  EXPECT_THAT(*dashboard_.feed().Latest().json, HasSubstr("\"checked_in\":212"));
  const Health health = dashboard_.health();
  EXPECT_FALSE(health.ok);
  EXPECT_THAT(health.text, HasSubstr("reconnecting"));
  EXPECT_THAT(health.text, HasSubstr("server gone"));
}

TEST_F(DashboardTest, ArrivalSamplesReachTheBoard) {
  dashboard_.AddArrivals(now_, 4);
  dashboard_.AddArrivals(now_ + absl::Minutes(1), 9);
  EXPECT_THAT(*dashboard_.feed().Latest().json,
              HasSubstr("\"arrivals\":[[1444923000000,4],[1444923060000,9]]"));
}

}  // namespace
}  // namespace turnout::dash
