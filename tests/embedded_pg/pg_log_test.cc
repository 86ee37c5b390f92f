// pg.log: appended to, rotated when large, and quoted from where this start began.
#include "server/embedded_pg/pg_log.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/test_postgres.h"

namespace turnout::embedded_pg {
namespace {

namespace fs = std::filesystem;
using ::turnout::testing::ScopedTempDir;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void Append(const PgLog& log, const std::string& text) {
  ASSERT_EQ(write(log.fd(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

TEST(PgLogTest, AppendsAcrossStartsAndQuotesOnlyThisStart) {
  ScopedTempDir dir;
  const fs::path path = dir.path() + "/pg.log";
  {
    absl::StatusOr<std::unique_ptr<PgLog>> first = PgLog::Open(path);
    ASSERT_TRUE(first.ok()) << first.status();
    Append(**first, "FATAL: from the last run\n");
  }
  absl::StatusOr<std::unique_ptr<PgLog>> second = PgLog::Open(path);
  ASSERT_TRUE(second.ok()) << second.status();
  Append(**second, "LOG: this run\n");
  EXPECT_EQ(ReadFile(path), "FATAL: from the last run\nLOG: this run\n");
  EXPECT_EQ((*second)->TailSinceOpen(), "LOG: this run\n");
}

TEST(PgLogTest, RotatesALargeLogAtOpen) {
  ScopedTempDir dir;
  const fs::path path = dir.path() + "/pg.log";
  std::ofstream(path) << std::string(100, 'x');
  absl::StatusOr<std::unique_ptr<PgLog>> kept = PgLog::Open(path, /*max_bytes=*/100);
  ASSERT_TRUE(kept.ok());
  kept->reset();
  EXPECT_FALSE(fs::exists(path.string() + ".1")) << "at the limit it is kept";

  std::ofstream(path, std::ios::app) << "y";
  absl::StatusOr<std::unique_ptr<PgLog>> rotated = PgLog::Open(path, /*max_bytes=*/100);
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(ReadFile(path.string() + ".1"), std::string(100, 'x') + "y");
  EXPECT_EQ(ReadFile(path), "");
}

TEST(PgLogTest, ReadLogTail) {
  ScopedTempDir dir;
  const fs::path path = dir.path() + "/pg.log";
  EXPECT_EQ(ReadLogTail(path, 0, 100), "(no log)");
  std::ofstream(path) << "one\ntwo\nthree\n";
  EXPECT_EQ(ReadLogTail(path, 4, 100), "two\nthree\n");
  EXPECT_EQ(ReadLogTail(path, 0, 8), "o\nthree\n");
  EXPECT_EQ(ReadLogTail(path, 1000, 100), "one\ntwo\nthree\n")
      << "shorter than the offset: rotated";
}

TEST(PgLogTest, AnUnwritableLogIsAPrecondition) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<PgLog>> log = PgLog::Open(dir.path() + "/missing/pg.log");
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace turnout::embedded_pg
