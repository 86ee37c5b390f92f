// Tests of the registration rules: tables of (event, places, choices) → the decision.
#include "server/domain/registration_rules.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::domain {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kEvent = 7;
constexpr int64_t kUnlimited = 2147483647;

TEST(MayRegisterTest, Table) {
  struct Case {
    EventState state;
    bool require_published;
    absl::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {EventState::kPublished, true, absl::StatusCode::kOk, ""},
      {EventState::kPublished, false, absl::StatusCode::kOk, ""},
      {EventState::kDraft, false, absl::StatusCode::kOk, ""},  // staff register before publishing
      {EventState::kDraft, true, absl::StatusCode::kFailedPrecondition,
       "events/7 is not open for registration"},
      {EventState::kCanceled, false, absl::StatusCode::kFailedPrecondition,
       "events/7 is canceled; registration is closed"},
      {EventState::kCanceled, true, absl::StatusCode::kFailedPrecondition,
       "events/7 is canceled; registration is closed"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "state " << Stored(c.state) << " public "
                                    << c.require_published);
    absl::Status s = MayRegister(kEvent, {c.state, {10, 3}}, c.require_published);
    EXPECT_EQ(s.code(), c.code);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message));
  }
}

TEST(PlacesTest, SeatOrWaitlist) {
  struct Case {
    Places places;
    int64_t free;
    RegistrationStatus place;
    ChoiceStatus seat_of_confirmed;
  };
  const Case cases[] = {
      {{0, 0}, kUnlimited, RegistrationStatus::kConfirmed, ChoiceStatus::kConfirmed},
      {{0, 5000}, kUnlimited, RegistrationStatus::kConfirmed, ChoiceStatus::kConfirmed},
      {{10, 0}, 10, RegistrationStatus::kConfirmed, ChoiceStatus::kConfirmed},
      {{10, 9}, 1, RegistrationStatus::kConfirmed, ChoiceStatus::kConfirmed},  // the last place
      {{10, 10}, 0, RegistrationStatus::kWaitlisted, ChoiceStatus::kWaitlisted},
      // Capacity lowered below those confirmed: nobody new gets in, and nobody is pushed out.
      {{10, 12}, 0, RegistrationStatus::kWaitlisted, ChoiceStatus::kWaitlisted},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.places.capacity << " places, " << c.places.confirmed
                                    << " taken");
    EXPECT_EQ(FreePlaces(c.places), c.free);
    EXPECT_EQ(PlaceFor(c.places), c.place);
    EXPECT_EQ(SeatFor(RegistrationStatus::kConfirmed, c.places), c.seat_of_confirmed);
    // A waitlisted registration waits for its breakouts too, whatever the seats.
    EXPECT_EQ(SeatFor(RegistrationStatus::kWaitlisted, c.places), ChoiceStatus::kWaitlisted);
  }
}

TEST(PromotionCountTest, Table) {
  struct Case {
    Places places;
    int64_t waiting;
    int64_t promoted;
  };
  const Case cases[] = {
      {{10, 10}, 5, 0},          // nothing freed
      {{10, 9}, 5, 1},           // one place freed by a cancellation
      {{10, 4}, 5, 5},           // capacity raised: everyone waiting gets in
      {{10, 4}, 0, 0},           // nobody waiting
      {{0, 100}, 7, 7},          // unlimited
      {{10, 15}, 3, 0},          // over capacity (it was lowered)
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.places.capacity << "/" << c.places.confirmed << ", "
                                    << c.waiting << " waiting");
    EXPECT_EQ(PromotionCount(c.places, c.waiting), c.promoted);
  }
}

const std::map<int64_t, SessionView> kSessions = {
    {100, {100, 0, {0, 0}}},   // the plenary
    {201, {201, 1, {20, 0}}},  // round 1
    {202, {202, 1, {20, 0}}},  // round 1
    {301, {301, 2, {0, 0}}},   // round 2
};

TEST(CheckChoicesTest, OneBreakoutPerRound) {
  struct Case {
    std::vector<int64_t> requested;
    absl::StatusCode code;
    std::string message;
    std::vector<int64_t> chosen;
  };
  const Case cases[] = {
      {{}, absl::StatusCode::kOk, "", {}},
      {{301, 201}, absl::StatusCode::kOk, "", {201, 301}},  // in id order
      {{202}, absl::StatusCode::kOk, "", {202}},
      {{201, 202}, absl::StatusCode::kInvalidArgument,
       "two sessions chosen for round 1; choose at most one breakout per round", {}},
      {{201, 201}, absl::StatusCode::kInvalidArgument, "two sessions chosen for round 1", {}},
      {{100}, absl::StatusCode::kInvalidArgument,
       "events/7/sessions/100 is not a breakout (it belongs to no round) and cannot be chosen", {}},
      {{999}, absl::StatusCode::kInvalidArgument,
       "events/7/sessions/999 is not a session of this event", {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.requested));
    auto chosen = CheckChoices(kEvent, c.requested, kSessions);
    EXPECT_EQ(chosen.status().code(), c.code);
    if (!chosen.ok()) {
      EXPECT_THAT(std::string(chosen.status().message()), HasSubstr(c.message));
      continue;
    }
    std::vector<int64_t> ids;
    for (const SessionView& s : *chosen) ids.push_back(s.id);
    EXPECT_EQ(ids, c.chosen);
  }
}

TEST(PlanChoiceChangeTest, Table) {
  const ChoiceView seated201{1, 201, ChoiceStatus::kConfirmed};
  const ChoiceView waiting301{2, 301, ChoiceStatus::kWaitlisted};
  struct Case {
    std::string name;
    std::vector<ChoiceView> current;
    std::vector<int64_t> wanted;
    std::vector<int64_t> released;
    std::vector<int64_t> added;
  };
  const Case cases[] = {
      {"unchanged keeps the seat and the waitlist place", {seated201, waiting301}, {201, 301},
       {}, {}},
      {"another breakout in the round", {seated201, waiting301}, {202, 301}, {201}, {202}},
      {"a round dropped", {seated201, waiting301}, {201}, {301}, {}},
      {"everything dropped", {seated201, waiting301}, {}, {201, 301}, {}},
      {"a round added", {seated201}, {201, 301}, {}, {301}},
      {"from nothing", {}, {202, 301}, {}, {202, 301}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto wanted = CheckChoices(kEvent, c.wanted, kSessions);
    ASSERT_TRUE(wanted.ok());
    ChoiceChange change = PlanChoiceChange(c.current, *wanted);
    std::vector<int64_t> released, added;
    for (const ChoiceView& r : change.released) released.push_back(r.session_id);
    for (const SessionView& a : change.added) added.push_back(a.id);
    EXPECT_EQ(released, c.released);
    EXPECT_EQ(added, c.added);
  }
}

TEST(MayChangeTest, CanceledRegistrationsChangeNothing) {
  for (RegistrationStatus s : {RegistrationStatus::kConfirmed, RegistrationStatus::kWaitlisted}) {
    EXPECT_TRUE(MayChangeChoices(kEvent, 3, s).ok());
    EXPECT_TRUE(MayReissue(kEvent, 3, s).ok());
  }
  absl::Status choices = MayChangeChoices(kEvent, 3, RegistrationStatus::kCanceled);
  EXPECT_EQ(choices.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(choices.message()),
              HasSubstr("events/7/registrations/3 is canceled; register again"));
  absl::Status reissue = MayReissue(kEvent, 3, RegistrationStatus::kCanceled);
  EXPECT_EQ(reissue.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(reissue.message()), HasSubstr("gets no new ticket"));
}

TEST(MovedTest, CounterDeltas) {
  using R = RegistrationStatus;
  struct Case {
    std::optional<R> from, to;
    int64_t confirmed, waitlisted;
  };
  const Case cases[] = {
      {std::nullopt, R::kConfirmed, 1, 0}, {std::nullopt, R::kWaitlisted, 0, 1},
      {R::kWaitlisted, R::kConfirmed, 1, -1}, {R::kConfirmed, R::kCanceled, -1, 0},
      {R::kWaitlisted, R::kCanceled, 0, -1}, {R::kCanceled, R::kCanceled, 0, 0},
      {R::kConfirmed, R::kConfirmed, 0, 0},
  };
  for (const Case& c : cases) {
    CountDelta d = Moved(c.from, c.to);
    EXPECT_EQ(d.confirmed, c.confirmed);
    EXPECT_EQ(d.waitlisted, c.waitlisted);
  }
  CountDelta released = Moved(ChoiceStatus::kConfirmed, std::nullopt);
  EXPECT_EQ(released.confirmed, -1);
  EXPECT_EQ(released.waitlisted, 0);
  EXPECT_TRUE(Moved(ChoiceStatus::kWaitlisted, ChoiceStatus::kWaitlisted).empty());
}

TEST(StoredTest, NumbersAreTheProtoNumbers) {
  EXPECT_EQ(Stored(EventState::kPublished), 2);
  EXPECT_EQ(Stored(RegistrationStatus::kWaitlisted), 2);
  EXPECT_EQ(Stored(RegistrationSource::kWalkIn), 3);
  EXPECT_EQ(Stored(ChoiceStatus::kConfirmed), 1);
  EXPECT_EQ(FromStored<ChoiceStatus>(2), ChoiceStatus::kWaitlisted);
  EXPECT_THROW(FromStored<ChoiceStatus>(3), std::out_of_range);
  EXPECT_THROW(FromStored<RegistrationSource>(0), std::out_of_range);
}

}  // namespace
}  // namespace turnout::domain
