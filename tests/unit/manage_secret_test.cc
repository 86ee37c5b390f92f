#include "server/domain/manage_secret.h"

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::domain {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(ManageSecretTest, IsPrefixedRandomBase32) {
  const std::string a = NewManageSecret();
  const std::string b = NewManageSecret();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), kManageSecretLength);
  EXPECT_THAT(a, MatchesRegex("tnm_[A-Z2-7]{32}"));
}

TEST(ManageSecretTest, ParsesWhatAPersonTypes) {
  const std::string secret = NewManageSecret();
  EXPECT_EQ(*ParseManageSecret("manage_secret", secret), secret);
  EXPECT_EQ(*ParseManageSecret("manage_secret", " " + secret + "\n"), secret);
  EXPECT_EQ(*ParseManageSecret("manage_secret", absl::AsciiStrToLower(secret)), secret);
}

TEST(ManageSecretTest, RefusesWhatIsNotASecretNamingTheField) {
  const std::string secret = NewManageSecret();
  for (const std::string& wrong :
       {std::string(""), secret.substr(1), secret + "A", std::string("tnt_") + secret.substr(4),
        secret.substr(0, 10) + "1" + secret.substr(11), std::string(140, 'A')}) {
    absl::StatusOr<std::string> parsed = ParseManageSecret("manage_secret", wrong);
    ASSERT_FALSE(parsed.ok()) << wrong;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("manage_secret"));
  }
}

}  // namespace
}  // namespace turnout::domain
