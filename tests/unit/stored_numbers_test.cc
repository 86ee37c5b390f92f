// The numbers the stored enums carry (server/domain/stored.h) are also the API's: the server
// converts between the two by number, so a renumbered enum on either side must fail here rather
// than show one status as another.
#include <gtest/gtest.h>

#include "server/domain/role.h"
#include "server/domain/scan_rules.h"
#include "turnout/v1/admin_service.pb.h"
#include "turnout/v1/resources.pb.h"

namespace turnout {
namespace {

using domain::Stored;
namespace v1 = turnout::v1;

TEST(StoredNumbersTest, ScanStatusesAreTheApisAndCoverItsWholeRange) {
  EXPECT_EQ(Stored(domain::ScanStatus::kAdmitted), v1::ScanResult::ADMITTED);
  EXPECT_EQ(Stored(domain::ScanStatus::kExitRecorded), v1::ScanResult::EXIT_RECORDED);
  EXPECT_EQ(Stored(domain::ScanStatus::kAlreadyCheckedIn), v1::ScanResult::ALREADY_CHECKED_IN);
  EXPECT_EQ(Stored(domain::ScanStatus::kWrongEvent), v1::ScanResult::WRONG_EVENT);
  EXPECT_EQ(Stored(domain::ScanStatus::kNotRegisteredForSession),
            v1::ScanResult::NOT_REGISTERED_FOR_SESSION);
  EXPECT_EQ(Stored(domain::ScanStatus::kSessionFull), v1::ScanResult::SESSION_FULL);
  EXPECT_EQ(Stored(domain::ScanStatus::kCanceled), v1::ScanResult::CANCELED);
  EXPECT_EQ(Stored(domain::ScanStatus::kRevoked), v1::ScanResult::REVOKED);
  EXPECT_EQ(Stored(domain::ScanStatus::kInvalid), v1::ScanResult::INVALID);
  EXPECT_EQ(Stored(domain::ScanStatus::kOutsideCheckinWindow),
            v1::ScanResult::OUTSIDE_CHECKIN_WINDOW);
  EXPECT_EQ(domain::StoredRange<domain::ScanStatus>::kFirst, v1::ScanResult::Status_MIN + 1);
  EXPECT_EQ(domain::StoredRange<domain::ScanStatus>::kLast, v1::ScanResult::Status_MAX);
  // Each number names the status the API names with it.
  for (int n = domain::StoredRange<domain::ScanStatus>::kFirst;
       n <= domain::StoredRange<domain::ScanStatus>::kLast; ++n) {
    EXPECT_EQ(domain::ScanStatusName(domain::FromStored<domain::ScanStatus>(n)),
              v1::ScanResult::Status_Name(static_cast<v1::ScanResult::Status>(n)));
  }
}

TEST(StoredNumbersTest, DirectionsAreTheApis) {
  EXPECT_EQ(Stored(domain::Direction::kEntry), v1::SCAN_DIRECTION_ENTRY);
  EXPECT_EQ(Stored(domain::Direction::kExit), v1::SCAN_DIRECTION_EXIT);
}

TEST(StoredNumbersTest, RegistrationChoiceAndEventStatesAreTheApis) {
  EXPECT_EQ(Stored(domain::RegistrationStatus::kConfirmed), v1::Registration::CONFIRMED);
  EXPECT_EQ(Stored(domain::RegistrationStatus::kWaitlisted), v1::Registration::WAITLISTED);
  EXPECT_EQ(Stored(domain::RegistrationStatus::kCanceled), v1::Registration::CANCELED);
  EXPECT_EQ(Stored(domain::ChoiceStatus::kConfirmed), v1::SessionChoice::CONFIRMED);
  EXPECT_EQ(Stored(domain::ChoiceStatus::kWaitlisted), v1::SessionChoice::WAITLISTED);
  EXPECT_EQ(Stored(domain::EventState::kDraft), v1::Event::DRAFT);
  EXPECT_EQ(Stored(domain::EventState::kPublished), v1::Event::PUBLISHED);
  EXPECT_EQ(Stored(domain::EventState::kCanceled), v1::Event::CANCELED);
}

TEST(StoredNumbersTest, RolesAreTheApisAndNoneIsNeverStored) {
  EXPECT_EQ(Stored(domain::Role::kAdmin), v1::ROLE_ADMIN);
  EXPECT_EQ(Stored(domain::Role::kOrganizer), v1::ROLE_ORGANIZER);
  EXPECT_EQ(Stored(domain::Role::kDoor), v1::ROLE_DOOR);
  EXPECT_EQ(Stored(domain::Role::kDashboard), v1::ROLE_DASHBOARD);
  EXPECT_THROW(domain::FromStored<domain::Role>(Stored(domain::Role::kNone)), std::out_of_range);
}

}  // namespace
}  // namespace turnout
