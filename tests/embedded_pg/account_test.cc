// Who runs postgres: the decision, the user names accepted, and the directories given to it.
#include "server/embedded_pg/account.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_postgres.h"

namespace turnout::embedded_pg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::turnout::testing::ScopedTempDir;

TEST(AccountTest, ChooseAccount) {
  const struct {
    uid_t euid;
    const char* system_user;
    absl::StatusCode code;
    bool run_as_system_user;
  } cases[] = {
      {0, "turnout", absl::StatusCode::kOk, true},
      {0, "_pg-1", absl::StatusCode::kOk, true},
      {0, "", absl::StatusCode::kInvalidArgument, false},
      {0, "Turnout", absl::StatusCode::kInvalidArgument, false},
      {0, "turn out", absl::StatusCode::kInvalidArgument, false},
      // Not root: postgres runs as the current user, and the system user is never looked at.
      {1000, "turnout", absl::StatusCode::kOk, false},
      {1000, "Not Valid", absl::StatusCode::kOk, false},
      {65534, "", absl::StatusCode::kOk, false},
  };
  for (const auto& c : cases) {
    absl::StatusOr<AccountChoice> choice = ChooseAccount(c.euid, c.system_user);
    EXPECT_EQ(choice.status().code(), c.code) << c.euid << " '" << c.system_user << "'";
    if (!choice.ok()) {
      EXPECT_THAT(choice.status().message(), HasSubstr("not a valid system user name"));
      continue;
    }
    EXPECT_EQ(choice->run_as_system_user, c.run_as_system_user) << c.euid << " " << c.system_user;
    EXPECT_EQ(choice->system_user, c.run_as_system_user ? c.system_user : "");
  }
}

TEST(AccountTest, IsValidUserName) {
  const struct {
    std::string name;
    bool valid;
  } cases[] = {
      {"turnout", true},
      {"_turnout", true},
      {"pg-15_x", true},
      {std::string(32, 'a'), true},
      {std::string(33, 'a'), false},
      {"", false},
      {"1abc", false},
      {"-abc", false},
      {"Abc", false},
      {"a b", false},
      {"a.b", false},
      {"a$", false},
      {"é", false},
  };
  for (const auto& c : cases) EXPECT_EQ(IsValidUserName(c.name), c.valid) << c.name;
}

TEST(AccountTest, PathChain) {
  EXPECT_THAT(PathChain("/"), ElementsAre("/"));
  EXPECT_THAT(PathChain("/a"), ElementsAre("/", "/a"));
  EXPECT_THAT(PathChain("/var/lib/turnout"),
              ElementsAre("/", "/var", "/var/lib", "/var/lib/turnout"));
}

TEST(AccountTest, CurrentAccountIsTheEffectiveUser) {
  absl::StatusOr<Account> account = CurrentAccount();
  ASSERT_TRUE(account.ok()) << account.status();
  EXPECT_EQ(account->uid, geteuid());
  const struct passwd* entry = getpwuid(geteuid());
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(account->name, entry->pw_name);
  EXPECT_EQ(account->gid, entry->pw_gid);
}

TEST(AccountTest, MakePrivateDirCreatesOrClosesTheDirectory) {
  ScopedTempDir dir;
  const std::string created = dir.path() + "/new";
  ASSERT_TRUE(MakePrivateDir(created, nullptr).ok());
  struct stat st;
  ASSERT_EQ(stat(created.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);

  ASSERT_EQ(chmod(created.c_str(), 0755), 0);
  ASSERT_TRUE(MakePrivateDir(created, nullptr).ok()) << "an existing directory is fine";
  ASSERT_EQ(stat(created.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "postgres insists on 0700";

  EXPECT_EQ(MakePrivateDir(dir.path() + "/missing/parent", nullptr).code(),
            absl::StatusCode::kFailedPrecondition);
}

// Root only: giving a directory to an unprivileged account, and checking what it can reach.
TEST(AccountTest, AsRootMakePrivateDirGivesTheTreeToTheAccount) {
  if (geteuid() != 0) GTEST_SKIP() << "only root can give files away";
  ScopedTempDir dir;
  const std::string tree = dir.path() + "/tree";
  ASSERT_EQ(mkdir(tree.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((tree + "/below").c_str(), 0755), 0);
  const Account nobody{"nobody", 65534, 65534};
  ASSERT_TRUE(MakePrivateDir(tree, &nobody).ok());
  struct stat st;
  ASSERT_EQ(stat((tree + "/below").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST(AccountTest, AsRootCheckReachableNamesTheClosedDirectory) {
  if (geteuid() != 0) GTEST_SKIP() << "only root runs postgres as another user";
  ScopedTempDir dir;  // mode 0755
  const std::string closed = dir.path() + "/closed";
  ASSERT_EQ(mkdir(closed.c_str(), 0700), 0);
  ASSERT_EQ(mkdir((closed + "/data").c_str(), 0755), 0);
  const Account nobody{"nobody", 65534, 65534};

  EXPECT_TRUE(CheckReachable(dir.path(), nobody).ok());
  const absl::Status blocked = CheckReachable(closed + "/data", nobody);
  EXPECT_EQ(blocked.code(), absl::StatusCode::kFailedPrecondition) << blocked;
  EXPECT_THAT(blocked.message(), HasSubstr("cannot enter " + closed + " (mode 0700"));
  EXPECT_THAT(blocked.message(), HasSubstr("chmod o+x " + closed));
}

}  // namespace
}  // namespace turnout::embedded_pg
