// Test support for integration tests that need a real PostgreSQL.
//
// TestPostgres::Get() starts one private, non-durable embedded cluster per test process, in a fresh
// directory under /tmp that is removed at exit; NewDatabase() gives each test its own empty
// database:
//
//   TEST(RegistrationStoreTest, ...) {
//     pqxx::connection conn(turnout::testing::TestPostgres::Get().NewDatabase());
//     ...
//   }
//
// Works as root (CI runs as root): the cluster then runs as the `turnout` system user. A test
// process that crashes or is killed cannot remove its directory; the next TestPostgres removes it.
#ifndef TURNOUT_TESTS_SUPPORT_TEST_POSTGRES_H_
#define TURNOUT_TESTS_SUPPORT_TEST_POSTGRES_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "server/embedded_pg/embedded_postgres.h"

namespace turnout::testing {

// A fresh directory /tmp/<prefix>-XXXXXX, removed with its contents on destruction. Mode 0755, so
// that the embedded PostgreSQL's unprivileged user can enter it when the test runs as root. Aborts
// on failure.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(absl::string_view prefix = "turnout-test");
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class TestPostgres {
 public:
  // The process's cluster, started on first use. Aborts the test process, printing why, if it
  // cannot start: every test that needs it would fail anyway.
  static TestPostgres& Get();

  // Creates a uniquely named empty database and returns its libpq connection string.
  std::string NewDatabase();

  store::EmbeddedPostgres& server() { return *server_; }

  // Removes the cluster directories of test processes that crashed or were killed (their postgres
  // stopped by itself; their directory stayed). Get() calls it; public for its test.
  static void RemoveAbandonedClusters();

  ~TestPostgres();

 private:
  TestPostgres();

  ScopedTempDir dir_;  // declared first: destroyed after the server has stopped
  int lock_fd_ = -1;   // flock on dir_ while this process uses it; see RemoveAbandonedClusters
  std::unique_ptr<store::EmbeddedPostgres> server_;
  std::atomic<int> next_database_{0};
};

}  // namespace turnout::testing

#endif  // TURNOUT_TESTS_SUPPORT_TEST_POSTGRES_H_
