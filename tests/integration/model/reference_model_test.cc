// The reference model's own rules where they are least obvious (late scans, annulment, exits of
// tickets that no longer admit, waitlists), and the shrinker, without a server: if these are wrong,
// model_test.cc reports the server wrong.
#include "tests/integration/model/reference_model.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/model/shrink.h"

namespace turnout::testing::model {
namespace {

namespace v1 = ::turnout::v1;

const absl::Time kDoorsOpen = absl::FromUnixSeconds(1444917600);  // 2015-10-15 07:00 PDT

Program SmallProgram() {
  Program p;
  p.doors_open = kDoorsOpen;
  p.start = kDoorsOpen + absl::Hours(1);
  p.end = kDoorsOpen + absl::Hours(10);
  p.capacity = 1;
  p.sessions[Place::kPlenary] = {p.start, p.end, 1};
  p.sessions[Place::kB1] = {p.start, p.end, 1};
  p.sessions[Place::kB2] = {p.start, p.end, 1};
  p.sessions[Place::kB3] = {p.start, p.end, 1};
  return p;
}

class ReferenceModelTest : public ::testing::Test {
 protected:
  // The current code of `reg`.
  PresentedCode Ticket(int reg) const {
    return {PresentedCode::Kind::kThisEvent, reg,
            static_cast<int>(model_.registration(reg).codes.size()) - 1, 0};
  }
  ScanStatus Scan(int reg, Direction d, int minutes, Place place = Place::kEntrance) {
    return model_.Scan(next_scan_++, Ticket(reg), place, d, kDoorsOpen + absl::Minutes(minutes), 1);
  }

  Model model_{SmallProgram()};
  int next_scan_ = 0;
};

TEST_F(ReferenceModelTest, ALateScanIsDecidedInItsPlaceAndRedecidesTheLaterOnes) {
  model_.Register(0, {}, {"code", 1});
  EXPECT_EQ(Scan(0, Direction::kEntry, 30), v1::ScanResult::ADMITTED);
  // Scanned out at 0:20 by a door whose answer arrives now: the entry at 0:30 follows it.
  EXPECT_EQ(Scan(0, Direction::kExit, 20), v1::ScanResult::EXIT_RECORDED);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).inside, 1);
  // An entry at 0:10 comes first and admits; the exit at 0:20 and the entry at 0:30 keep their
  // effect.
  EXPECT_EQ(Scan(0, Direction::kEntry, 10), v1::ScanResult::ADMITTED);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).inside, 1);
  // Between the exit and the entry at 0:30, an entry admits; the one at 0:30 is now the duplicate.
  EXPECT_EQ(Scan(0, Direction::kEntry, 25), v1::ScanResult::ADMITTED);
  EXPECT_EQ(Scan(0, Direction::kEntry, 40), v1::ScanResult::ALREADY_CHECKED_IN);
}

TEST_F(ReferenceModelTest, AnnullingAnEntryLetsTheDuplicateAfterItAdmit) {
  model_.Register(0, {}, {"code", 1});
  EXPECT_EQ(Scan(0, Direction::kEntry, 10), v1::ScanResult::ADMITTED);  // scan 0
  EXPECT_EQ(Scan(0, Direction::kEntry, 20), v1::ScanResult::ALREADY_CHECKED_IN);
  model_.Annul(0);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).checked_in, 1);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).inside, 1);
  model_.Annul(1);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).checked_in, 0);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).inside, 0);
}

TEST_F(ReferenceModelTest, RefusalsOtherThanDuplicatesAreFinal) {
  model_.Register(0, {}, {"code", 1});
  EXPECT_EQ(Scan(0, Direction::kEntry, -5), v1::ScanResult::OUTSIDE_CHECKIN_WINDOW);
  EXPECT_EQ(Scan(0, Direction::kExit, -10), v1::ScanResult::EXIT_RECORDED);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).checked_in, 0);
}

TEST_F(ReferenceModelTest, ExitsAreRecordedWhateverBecameOfTheTicket) {
  model_.Register(0, {}, {"first", 1});
  EXPECT_EQ(Scan(0, Direction::kEntry, 10), v1::ScanResult::ADMITTED);
  const PresentedCode first = Ticket(0);
  ASSERT_TRUE(model_.Reissue(0, {"second", 1}));
  EXPECT_EQ(model_.Scan(next_scan_++, first, Place::kEntrance, Direction::kEntry,
                        kDoorsOpen + absl::Minutes(20), 1),
            v1::ScanResult::REVOKED);
  model_.Cancel(0);
  EXPECT_EQ(model_.Scan(next_scan_++, first, Place::kEntrance, Direction::kExit,
                        kDoorsOpen + absl::Minutes(30), 1),
            v1::ScanResult::EXIT_RECORDED);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).inside, 0);
  EXPECT_EQ(Scan(0, Direction::kEntry, 40), v1::ScanResult::CANCELED);
  model_.RevokeKey(1);
  EXPECT_EQ(Scan(0, Direction::kEntry, 50), v1::ScanResult::REVOKED);
}

TEST_F(ReferenceModelTest, ACancelPassesSeatsOnInOrder) {
  model_.Register(0, {Place::kB1}, {"a", 1});
  model_.Register(1, {Place::kB1}, {"b", 1});  // waitlisted at the event (capacity 1)
  model_.Register(2, {Place::kB1}, {"c", 1});
  EXPECT_EQ(model_.registration(1).status, v1::Registration::WAITLISTED);
  EXPECT_EQ(Scan(1, Direction::kEntry, 10), v1::ScanResult::NOT_REGISTERED_FOR_SESSION);
  model_.Cancel(0);
  // The earliest waitlisted registration gets the place, then the breakout seat that freed.
  EXPECT_EQ(model_.registration(1).status, v1::Registration::CONFIRMED);
  EXPECT_TRUE(model_.registration(1).choices.at(0).confirmed);
  EXPECT_EQ(model_.registration(2).status, v1::Registration::WAITLISTED);
  EXPECT_FALSE(model_.registration(2).choices.at(0).confirmed);
  EXPECT_EQ(model_.CountsAt(Place::kB1).registered, 1);
  EXPECT_EQ(model_.CountsAt(Place::kEntrance).registered, 1);
}

TEST(ShrinkTest, KeepsOnlyTheStepsTheFailureNeeds) {
  // Fails at the first 9 that comes after a 3 and a 5.
  auto fails = [](const std::vector<int>& steps) -> std::optional<size_t> {
    bool three = false;
    bool five = false;
    for (size_t i = 0; i < steps.size(); ++i) {
      three |= steps[i] == 3;
      five |= steps[i] == 5 && three;
      if (steps[i] == 9 && five) return i + 1;
    }
    return std::nullopt;
  };
  const std::vector<int> failing = {1, 3, 4, 1, 5, 6, 2, 8, 9};
  EXPECT_EQ(Shrink(failing, 1000, fails), (std::vector<int>{3, 5, 9}));
  // With no budget, nothing is tried.
  EXPECT_EQ(Shrink(failing, 0, fails), failing);
}

}  // namespace
}  // namespace turnout::testing::model
