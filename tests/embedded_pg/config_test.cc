// The embedded cluster's configuration text: turnout.conf, initdb's command line, connection
// strings and the quoting they rely on.
#include "server/embedded_pg/config.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::embedded_pg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ConfigTest, TurnoutConfListensOnTheSocketOnly) {
  const std::string conf = TurnoutConf("/var/lib/turnout/run", /*durable=*/true);
  EXPECT_THAT(conf, HasSubstr("\nlisten_addresses = ''\n"));
  EXPECT_THAT(conf, HasSubstr("\nunix_socket_directories = '/var/lib/turnout/run'\n"));
  EXPECT_THAT(conf, HasSubstr("\nmax_connections = 200\n"));
  EXPECT_THAT(conf, HasSubstr("\nshared_buffers = 128MB\n"));
}

// docs/design.md, "Recovery": one syncfs() rather than an fsync per file, and a checkpoint a
// minute, keep the restart after a crash short.
TEST(ConfigTest, TurnoutConfMakesCrashRecoveryShort) {
  const std::string conf = TurnoutConf("/d/run", true);
  EXPECT_THAT(conf, HasSubstr("\nrecovery_init_sync_method = syncfs\n"));
  EXPECT_THAT(conf, HasSubstr("\ncheckpoint_timeout = 1min\n"));
}

TEST(ConfigTest, TurnoutConfKeepsRowValuesOutOfTheLog) {
  const std::string conf = TurnoutConf("/d/run", true);
  EXPECT_THAT(conf, HasSubstr("\nlog_error_verbosity = terse\n"));
  EXPECT_THAT(conf, HasSubstr("\nlog_min_error_statement = panic\n"));
  EXPECT_THAT(conf, HasSubstr("\nlog_parameter_max_length_on_error = 0\n"));
}

TEST(ConfigTest, OnlyANonDurableClusterTurnsFsyncOff) {
  for (const char* setting :
       {"fsync = off", "synchronous_commit = off", "full_page_writes = off"}) {
    EXPECT_THAT(TurnoutConf("/d/run", /*durable=*/false), HasSubstr(setting));
    EXPECT_THAT(TurnoutConf("/d/run", /*durable=*/true), Not(HasSubstr(setting)));
  }
}

TEST(ConfigTest, TurnoutConfQuotesTheSocketDirectory) {
  EXPECT_THAT(TurnoutConf("/srv/o'brien/run", true),
              HasSubstr("unix_socket_directories = '/srv/o''brien/run'\n"));
}

TEST(ConfigTest, PostgresqlConfIncludesTurnoutConfUnconditionally) {
  // include_if_exists would let postgres start on TCP localhost without it.
  EXPECT_THAT(std::string(kIncludeTurnoutConf), HasSubstr("\ninclude 'turnout.conf'\n"));
  EXPECT_THAT(std::string(kIncludeTurnoutConf), Not(HasSubstr("include_if_exists")));
}

TEST(ConfigTest, InitdbArgv) {
  EXPECT_THAT(
      InitdbArgv("/usr/lib/postgresql/15/bin", "/d/pg.initdb", "turnout", "C.UTF-8",
                 /*durable=*/true),
      ElementsAre("/usr/lib/postgresql/15/bin/initdb", "-D", "/d/pg.initdb", "--auth=trust",
                  "--username=turnout", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"));
  const std::vector<std::string> fast = InitdbArgv("/b", "/d", "me", "C", /*durable=*/false);
  EXPECT_EQ(fast.back(), "--no-sync");
  EXPECT_THAT(fast, ::testing::Contains("--locale=C"));
}

TEST(ConfigTest, ConnectionString) {
  EXPECT_EQ(ConnectionString("/var/lib/turnout/run", "turnout", "turnout"),
            "host=/var/lib/turnout/run port=5432 dbname=turnout user=turnout");
  EXPECT_EQ(ConnectionString("/tmp/my data/run", "it's", "me"),
            "host='/tmp/my data/run' port=5432 dbname='it\\'s' user=me");
}

TEST(ConfigTest, ConfString) {
  const struct {
    const char* value;
    const char* quoted;
  } cases[] = {
      {"", "''"},       {"/d/run", "'/d/run'"},           {"a'b", "'a''b'"},
      {"''", "''''''"}, {"back\\slash", "'back\\slash'"},
  };
  for (const auto& c : cases) EXPECT_EQ(ConfString(c.value), c.quoted) << c.value;
}

TEST(ConfigTest, ConnValue) {
  const struct {
    const char* value;
    const char* quoted;
  } cases[] = {
      {"plain", "plain"},
      {"/d/run", "/d/run"},
      {"", "''"},
      {"with space", "'with space'"},
      {"tab\there", "'tab\there'"},
      {"new\nline", "'new\nline'"},
      {"it's", "'it\\'s'"},
      {"back\\slash", "'back\\\\slash'"},
  };
  for (const auto& c : cases) EXPECT_EQ(ConnValue(c.value), c.quoted) << c.value;
}

TEST(ConfigTest, CheckDatabaseName) {
  EXPECT_TRUE(CheckDatabaseName("turnout").ok());
  EXPECT_TRUE(CheckDatabaseName("x").ok());
  EXPECT_TRUE(CheckDatabaseName(std::string(63, 'a')).ok());
  EXPECT_EQ(CheckDatabaseName("").code(), absl::StatusCode::kInvalidArgument);
  const absl::Status too_long = CheckDatabaseName(std::string(64, 'a'));
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_long.message(), HasSubstr("1 to 63 bytes"));
}

}  // namespace
}  // namespace turnout::embedded_pg
