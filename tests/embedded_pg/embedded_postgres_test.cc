// The embedded PostgreSQL supervisor against the real PostgreSQL 15 binaries.
#include "server/embedded_pg/embedded_postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_postgres.h"

namespace turnout::store {
namespace {

using ::testing::HasSubstr;
using ::turnout::testing::ScopedTempDir;
using ::turnout::testing::TestPostgres;

EmbeddedPostgresOptions TestOptions(const std::string& data_dir) {
  EmbeddedPostgresOptions options;
  options.data_dir = data_dir;
  options.durable = false;
  return options;
}

// The postmaster's pid, from the first line of postmaster.pid; 0 if there is none.
int PostmasterPid(const std::string& data_dir) {
  std::ifstream in(data_dir + "/pg/postmaster.pid");
  std::string line;
  int pid = 0;
  if (!std::getline(in, line) || !absl::SimpleAtoi(line, &pid)) return 0;
  return pid;
}

std::string QueryOne(const std::string& conninfo, const std::string& sql) {
  pqxx::connection conn(conninfo);
  pqxx::work tx(conn);
  return tx.exec1(sql)[0].as<std::string>("");
}

TEST(EmbeddedPostgresTest, StartsAndAcceptsConnectionsOnASocketOnly) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> pg =
      EmbeddedPostgres::Start(TestOptions(dir.path()));
  ASSERT_TRUE(pg.ok()) << pg.status();

  const std::string conninfo = (*pg)->ConnectionString();
  EXPECT_THAT(conninfo, HasSubstr(absl::StrCat("host=", dir.path(), "/run")));
  EXPECT_EQ(QueryOne(conninfo, "SELECT 1"), "1");
  EXPECT_EQ(QueryOne(conninfo, "SELECT current_database()"), "turnout");
  EXPECT_EQ(QueryOne(conninfo, "SHOW listen_addresses"), "");  // no TCP
  EXPECT_EQ(QueryOne(conninfo, "SHOW fsync"), "off");          // durable = false
  EXPECT_EQ(QueryOne(conninfo, "SHOW server_encoding"), "UTF8");
}

// Error details quote row values, which may be personal data: the cluster's log keeps none.
TEST(EmbeddedPostgresTest, TheLogKeepsNoRowValues) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> pg =
      EmbeddedPostgres::Start(TestOptions(dir.path()));
  ASSERT_TRUE(pg.ok()) << pg.status();
  {
    pqxx::connection conn((*pg)->ConnectionString());
    pqxx::work tx(conn);
    tx.exec("CREATE TABLE people (name text PRIMARY KEY)");
    tx.exec("INSERT INTO people VALUES ('Maria Secreta')");
    tx.commit();
    conn.prepare("add_person", "INSERT INTO people VALUES ($1)");
    pqxx::work again(conn);
    EXPECT_THROW(again.exec_prepared("add_person", "Maria Secreta"), pqxx::unique_violation);
  }
  ASSERT_TRUE((*pg)->Stop().ok());
  std::ifstream in(dir.path() + "/pg.log");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(log, HasSubstr("duplicate key")) << "the error itself is logged";
  EXPECT_THAT(log, ::testing::Not(HasSubstr("Maria"))) << log;
}

TEST(EmbeddedPostgresTest, PostgresRunsUnprivileged) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> pg =
      EmbeddedPostgres::Start(TestOptions(dir.path()));
  ASSERT_TRUE(pg.ok()) << pg.status();

  const int pid = PostmasterPid(dir.path());
  ASSERT_GT(pid, 0);
  struct stat st;
  ASSERT_EQ(stat(absl::StrCat("/proc/", pid).c_str(), &st), 0);
  if (geteuid() == 0) {
    EXPECT_NE(st.st_uid, 0u) << "postgres runs as root";
    EXPECT_EQ(QueryOne((*pg)->ConnectionString(), "SELECT current_user"), "turnout");
  } else {
    EXPECT_EQ(st.st_uid, geteuid());
  }
}

TEST(EmbeddedPostgresTest, RestartKeepsData) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> first =
      EmbeddedPostgres::Start(TestOptions(dir.path()));
  ASSERT_TRUE(first.ok()) << first.status();
  {
    pqxx::connection conn((*first)->ConnectionString());
    pqxx::work tx(conn);
    tx.exec0("CREATE TABLE kept (value text)");
    tx.exec0("INSERT INTO kept VALUES ('still here')");
    tx.commit();
  }
  const int pid = PostmasterPid(dir.path());
  ASSERT_TRUE((*first)->Stop().ok());
  EXPECT_NE(kill(pid, 0), 0) << "postgres still running after Stop()";

  // `first` is stopped but not destroyed: Stop() alone releases the data directory.
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> second =
      EmbeddedPostgres::Start(TestOptions(dir.path()));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(QueryOne((*second)->ConnectionString(), "SELECT value FROM kept"), "still here");
}

TEST(EmbeddedPostgresTest, RefusesADataDirInUse) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> running =
      EmbeddedPostgres::Start(TestOptions(dir.path()));
  ASSERT_TRUE(running.ok()) << running.status();

  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> second =
      EmbeddedPostgres::Start(TestOptions(dir.path()));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
  EXPECT_EQ(QueryOne((*running)->ConnectionString(), "SELECT 1"), "1");  // unharmed
}

TEST(EmbeddedPostgresTest, SupervisorRestartsAKilledPostmaster) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> pg =
      EmbeddedPostgres::Start(TestOptions(dir.path()));
  ASSERT_TRUE(pg.ok()) << pg.status();
  {
    // A session open at the time of the crash: its backend lingers briefly after the postmaster
    // dies.
    pqxx::connection doomed((*pg)->ConnectionString());
    const int killed = PostmasterPid(dir.path());
    ASSERT_GT(killed, 0);
    ASSERT_EQ(kill(killed, SIGKILL), 0);

    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    std::string last_error;
    bool reconnected = false;
    while (!reconnected && absl::Now() < deadline) {
      try {
        reconnected = QueryOne((*pg)->ConnectionString(), "SELECT 1") == "1";
      } catch (const std::exception& e) {
        last_error = e.what();
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    ASSERT_TRUE(reconnected) << "no new postgres within 20 s; last error: " << last_error;
    EXPECT_NE(PostmasterPid(dir.path()), killed);
  }
  EXPECT_TRUE((*pg)->Stop().ok());
}

TEST(EmbeddedPostgresTest, NewDatabaseGivesIsolatedDatabases) {
  const std::string first = TestPostgres::Get().NewDatabase();
  const std::string second = TestPostgres::Get().NewDatabase();
  ASSERT_NE(first, second);

  {
    pqxx::connection conn(first);
    pqxx::work tx(conn);
    tx.exec0("CREATE TABLE only_in_first (id int)");
    tx.commit();
  }
  EXPECT_EQ(QueryOne(first, "SELECT to_regclass('only_in_first') IS NOT NULL"), "t");
  EXPECT_EQ(QueryOne(second, "SELECT to_regclass('only_in_first') IS NOT NULL"), "f");
  EXPECT_NE(QueryOne(first, "SELECT current_database()"),
            QueryOne(second, "SELECT current_database()"));
}

TEST(EmbeddedPostgresTest, CreateDatabaseIsIdempotent) {
  EmbeddedPostgres& pg = TestPostgres::Get().server();
  ASSERT_TRUE(pg.CreateDatabase("twice").ok());
  EXPECT_TRUE(pg.CreateDatabase("twice").ok());
  EXPECT_EQ(QueryOne(pg.ConnectionString("twice"), "SELECT current_database()"), "twice");
  EXPECT_EQ(pg.CreateDatabase("").code(), absl::StatusCode::kInvalidArgument);
}

TEST(TestPostgresTest, RemovesTheClustersOfTestProcessesThatDied) {
  // mkdtemp'd like TestPostgres's own directories, and aged past the grace period.
  auto make_cluster_dir = [] {
    char name[] = "/tmp/turnout-test-pg-XXXXXX";
    EXPECT_NE(mkdtemp(name), nullptr);
    EXPECT_EQ(mkdir(absl::StrCat(name, "/data").c_str(), 0755), 0);
    const struct timeval an_hour_ago[2] = {{time(nullptr) - 3600, 0}, {time(nullptr) - 3600, 0}};
    EXPECT_EQ(utimes(name, an_hour_ago), 0);
    return std::string(name);
  };
  const std::string abandoned = make_cluster_dir();
  const std::string in_use = make_cluster_dir();
  const int lock = open(in_use.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_EQ(flock(lock, LOCK_EX), 0);

  TestPostgres::RemoveAbandonedClusters();

  struct stat st;
  EXPECT_NE(stat(abandoned.c_str(), &st), 0) << abandoned << " was not removed";
  EXPECT_EQ(stat(in_use.c_str(), &st), 0) << in_use << " was removed while locked";
  close(lock);
  std::filesystem::remove_all(in_use);
}

TEST(EmbeddedPostgresTest, AsRootRefusesADataDirTheSystemUserCannotReach) {
  if (geteuid() != 0) GTEST_SKIP() << "only root runs postgres as another user";
  ScopedTempDir dir;
  const std::string closed = dir.path() + "/closed";
  ASSERT_EQ(mkdir(closed.c_str(), 0700), 0);

  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> pg =
      EmbeddedPostgres::Start(TestOptions(closed + "/data"));
  ASSERT_EQ(pg.status().code(), absl::StatusCode::kFailedPrecondition) << pg.status();
  EXPECT_THAT(pg.status().message(), HasSubstr(closed));
  EXPECT_THAT(pg.status().message(), HasSubstr("--data_dir"));
}

}  // namespace
}  // namespace turnout::store
