// What turnoutctl prints for a scan: the first entry at the venue's clock, whatever zone the
// machine running the tool is set to.
#include "tools/turnoutctl_print.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace turnout::tools {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

// A door laptop set to Tokyo, far from the event's zone.
class ScanResultRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_tz_ = tz == nullptr ? std::nullopt : std::optional<std::string>(tz);
    setenv("TZ", "Asia/Tokyo", 1);
  }
  void TearDown() override {
    if (saved_tz_) {
      setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
  }

  // ALREADY_CHECKED_IN, first admitted at 15:30 UTC on the Oakland training day.
  static v1::ScanResult Duplicate() {
    v1::ScanResult r;
    r.set_status(v1::ScanResult::ALREADY_CHECKED_IN);
    r.set_message("Duplicate — already checked in here");
    TimeUtil::FromString("2015-10-15T15:30:00Z", r.mutable_first_entry_time());
    r.set_first_entry_checkpoint("events/1/checkpoints/1");
    return r;
  }

  std::optional<std::string> saved_tz_;
};

TEST_F(ScanResultRowsTest, FirstEntryIsShownAtTheEventsClock) {
  const Table rows = ScanResultRows(Duplicate(), Zone("America/Los_Angeles"));
  EXPECT_THAT(rows,
              Contains(ElementsAre("first entry:", "2015-10-15 08:30 at events/1/checkpoints/1")));
  EXPECT_THAT(
      rows,
      Not(Contains(ElementsAre("first entry:", "2015-10-16 00:30 at events/1/checkpoints/1"))))
      << "the machine's zone (Tokyo) is not the venue's";
}

TEST_F(ScanResultRowsTest, FirstEntryFollowsTheZoneItIsGiven) {
  EXPECT_THAT(ScanResultRows(Duplicate(), Zone("UTC")),
              Contains(ElementsAre("first entry:", "2015-10-15 15:30 at events/1/checkpoints/1")));
  EXPECT_THAT(ScanResultRows(Duplicate(), Zone("America/New_York")),
              Contains(ElementsAre("first entry:", "2015-10-15 11:30 at events/1/checkpoints/1")));
}

TEST_F(ScanResultRowsTest, NoFirstEntryRowWithoutAFirstEntry) {
  v1::ScanResult admitted;
  admitted.set_status(v1::ScanResult::ADMITTED);
  admitted.set_message("Welcome — admitted");
  for (const std::vector<std::string>& row : ScanResultRows(admitted, Zone("UTC"))) {
    EXPECT_NE(row.front(), "first entry:");
  }
}

}  // namespace
}  // namespace turnout::tools
