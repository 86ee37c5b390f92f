// When the supervisor restarts a postgres that died.
#include "server/embedded_pg/restart_schedule.h"

#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::embedded_pg {
namespace {

using ::testing::ElementsAreArray;

TEST(RestartScheduleTest, RestartDelay) {
  const struct {
    int restarts;
    absl::Duration delay;
  } cases[] = {
      {-1, absl::ZeroDuration()},    {0, absl::ZeroDuration()},     {1, absl::Milliseconds(100)},
      {2, absl::Milliseconds(200)},  {3, absl::Milliseconds(400)},  {4, absl::Milliseconds(800)},
      {5, absl::Milliseconds(1600)}, {6, absl::Milliseconds(3200)}, {7, absl::Seconds(5)},
      {8, absl::Seconds(5)},         {1000000, absl::Seconds(5)},
  };
  for (const auto& c : cases) EXPECT_EQ(RestartDelay(c.restarts), c.delay) << c.restarts;
}

// The doors wait: the first restart is immediate, a postgres that keeps dying backs off.
TEST(RestartScheduleTest, QuickExitsBackOff) {
  RestartSchedule schedule;
  std::vector<absl::Duration> delays;
  for (int i = 0; i < 10; ++i) delays.push_back(schedule.DelayAfterExit(absl::Seconds(1)));
  EXPECT_THAT(delays, ElementsAreArray<absl::Duration>(
                          {absl::ZeroDuration(), absl::Milliseconds(100), absl::Milliseconds(200),
                           absl::Milliseconds(400), absl::Milliseconds(800),
                           absl::Milliseconds(1600), absl::Milliseconds(3200), absl::Seconds(5),
                           absl::Seconds(5), absl::Seconds(5)}));
}

TEST(RestartScheduleTest, ARunOfMoreThanThirtySecondsStartsOver) {
  RestartSchedule schedule;
  for (int i = 0; i < 20; ++i) schedule.DelayAfterExit(absl::ZeroDuration());
  EXPECT_EQ(schedule.DelayAfterExit(absl::Seconds(30)), absl::Seconds(5)) << "30 s is not stable";
  EXPECT_EQ(schedule.DelayAfterExit(absl::Seconds(31)), absl::ZeroDuration());
  EXPECT_EQ(schedule.DelayAfterExit(absl::Seconds(1)), absl::Milliseconds(100));
  EXPECT_EQ(schedule.DelayAfterExit(absl::Hours(5)), absl::ZeroDuration());
}

TEST(RestartScheduleTest, TheFirstExitIsRestartedAtOnceHoweverShortTheRun) {
  EXPECT_EQ(RestartSchedule().DelayAfterExit(absl::ZeroDuration()), absl::ZeroDuration());
  EXPECT_EQ(RestartSchedule().DelayAfterExit(absl::Minutes(10)), absl::ZeroDuration());
}

}  // namespace
}  // namespace turnout::embedded_pg
