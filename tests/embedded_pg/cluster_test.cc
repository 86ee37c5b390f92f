// Creating the cluster on disk: what EnsureCluster refuses before running anything, and the
// pieces it relies on. The cluster itself is started in embedded_postgres_test.cc.
#include "server/embedded_pg/cluster.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/embedded_pg/config.h"
#include "server/embedded_pg/layout.h"
#include "tests/support/test_postgres.h"

namespace turnout::embedded_pg {
namespace {

namespace fs = std::filesystem;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::turnout::testing::ScopedTempDir;

TEST(ClusterTest, RefusesADirectoryThatIsNotACluster) {
  ScopedTempDir dir;
  absl::StatusOr<ClusterLayout> layout = LayoutFor(dir.path());
  ASSERT_TRUE(layout.ok());
  fs::create_directories(layout->pg_dir);
  std::ofstream(layout->pg_dir / "precious.txt") << "not ours";

  const absl::Status status =
      EnsureCluster("/nonexistent/bin", *layout, "turnout", /*durable=*/false, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("exists but is not a PostgreSQL cluster"));
  EXPECT_TRUE(fs::exists(layout->pg_dir / "precious.txt")) << "left as it was";
  EXPECT_FALSE(fs::exists(layout->pg_dir / "turnout.conf"));
}

TEST(ClusterTest, AnExistingClusterGetsAFreshTurnoutConf) {
  ScopedTempDir dir;
  absl::StatusOr<ClusterLayout> layout = LayoutFor(dir.path());
  ASSERT_TRUE(layout.ok());
  fs::create_directories(layout->pg_dir);
  std::ofstream(layout->pg_dir / "PG_VERSION") << "15\n";
  std::ofstream(layout->pg_dir / "turnout.conf") << "fsync = off\n";

  ASSERT_TRUE(EnsureCluster("/nonexistent/bin", *layout, "turnout", /*durable=*/true, nullptr).ok())
      << "initdb is not run for an existing cluster";
  std::ifstream in(layout->pg_dir / "turnout.conf");
  const std::string conf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(conf, TurnoutConf(layout->run_dir, /*durable=*/true));
  EXPECT_FALSE(fs::exists(layout->pg_dir / "turnout.conf.tmp"));
}

TEST(ClusterTest, AFailedInitdbLeavesNoCluster) {
  ScopedTempDir dir;
  absl::StatusOr<ClusterLayout> layout = LayoutFor(dir.path());
  ASSERT_TRUE(layout.ok());
  const absl::Status status =
      EnsureCluster("/nonexistent/bin", *layout, "turnout", /*durable=*/false, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_FALSE(fs::exists(layout->pg_dir)) << "the cluster appears only once initdb completed";
}

TEST(ClusterTest, FindsThePostgres15Programs) {
  absl::StatusOr<fs::path> bin_dir = FindBinDir();
  ASSERT_TRUE(bin_dir.ok()) << bin_dir.status();
  EXPECT_EQ(access((*bin_dir / "postgres").c_str(), X_OK), 0);
  EXPECT_EQ(access((*bin_dir / "initdb").c_str(), X_OK), 0);
}

TEST(ClusterTest, ClusterLocale) { EXPECT_THAT(ClusterLocale(), AnyOf("C.UTF-8", "C")); }

TEST(ClusterTest, CreateDatabaseRefusesABadNameBeforeConnecting) {
  const absl::Status status = CreateDatabase("host=/nonexistent port=5432", std::string(64, 'a'));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

}  // namespace
}  // namespace turnout::embedded_pg
