// The data directory's layout, and the paths it refuses.
#include "server/embedded_pg/layout.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::embedded_pg {
namespace {

using ::testing::HasSubstr;

TEST(LayoutTest, EverythingLivesUnderTheDataDirectory) {
  absl::StatusOr<ClusterLayout> layout = LayoutFor("/var/lib/turnout");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->data_dir, "/var/lib/turnout");
  EXPECT_EQ(layout->pg_dir, "/var/lib/turnout/pg");
  EXPECT_EQ(layout->run_dir, "/var/lib/turnout/run");
  EXPECT_EQ(layout->log_path, "/var/lib/turnout/pg.log");
  EXPECT_EQ(layout->socket_path(), "/var/lib/turnout/run/.s.PGSQL.5432");
  EXPECT_EQ(layout->socket_lock_path(), "/var/lib/turnout/run/.s.PGSQL.5432.lock");
}

TEST(LayoutTest, NormalizesThePath) {
  const struct {
    const char* data_dir;
    const char* normalized;
  } cases[] = {
      {"/a/b", "/a/b"}, {"/a/b/", "/a/b"}, {"/a/./b//", "/a/b"}, {"/a/x/../b", "/a/b"}, {"/", "/"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<ClusterLayout> layout = LayoutFor(c.data_dir);
    ASSERT_TRUE(layout.ok()) << c.data_dir << ": " << layout.status();
    EXPECT_EQ(layout->data_dir.string(), c.normalized) << c.data_dir;
  }
}

TEST(LayoutTest, ARelativePathStartsAtTheWorkingDirectory) {
  absl::StatusOr<ClusterLayout> layout = LayoutFor("data");
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->data_dir, std::filesystem::current_path() / "data");
}

TEST(LayoutTest, RefusesAnEmptyDataDirectory) {
  EXPECT_EQ(LayoutFor("").status().code(), absl::StatusCode::kInvalidArgument);
}

// sockaddr_un holds 107 bytes of path; "/run/.s.PGSQL.5432" takes 18 of them.
TEST(LayoutTest, RefusesAPathTooLongForTheSocket) {
  const std::string longest = "/" + std::string(88, 'd');  // 89 + 18 = 107 bytes
  EXPECT_TRUE(LayoutFor(longest).ok()) << LayoutFor(longest).status();

  const absl::StatusOr<ClusterLayout> too_long = LayoutFor(longest + "d");
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_long.status().message(),
              HasSubstr("too long for a Unix socket (108 of at most 107"));
  EXPECT_THAT(too_long.status().message(), HasSubstr("--data_dir"));
}

}  // namespace
}  // namespace turnout::embedded_pg
