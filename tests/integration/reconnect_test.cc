// The database pool while PostgreSQL goes away and comes back (server/store/pg.h): jobs wait up to
// their deadline and then fail UNAVAILABLE with a retry hint, one reconnection attempt at a time
// for the whole pool however many jobs wait, the reachability listener (health) hears of both
// changes in order, and the counts say what happened. Against a real embedded PostgreSQL 15 that
// the test stops and starts again.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/embedded_pg/embedded_postgres.h"
#include "server/store/pg.h"
#include "tests/support/test_postgres.h"

namespace turnout::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::turnout::testing::ScopedTempDir;

std::unique_ptr<EmbeddedPostgres> StartPostgres(const std::string& dir) {
  EmbeddedPostgresOptions options;
  options.data_dir = dir;
  options.durable = false;
  absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> pg = EmbeddedPostgres::Start(options);
  EXPECT_TRUE(pg.ok()) << pg.status();
  return pg.ok() ? std::move(*pg) : nullptr;
}

// Runs SELECT 1 through the pool as a call with `deadline` would, and waits for its status.
absl::Status Select1(Database& db, absl::Time deadline) {
  absl::Notification done;
  absl::Status result;
  const bool queued = db.Submit(
      [&](pqxx::connection* conn) {
        result = Database::InTransaction(conn, [](pqxx::work& txn) {
          txn.exec("SELECT 1");
          return absl::OkStatus();
        });
        done.Notify();
      },
      deadline);
  if (!queued) return absl::ResourceExhaustedError("not queued");
  done.WaitForNotification();
  return result;
}

// What the listener heard, in order.
class Heard {
 public:
  void Add(bool reachable) {
    absl::MutexLock lock(&mu_);
    states_.push_back(reachable);
  }
  std::vector<bool> states() {
    absl::MutexLock lock(&mu_);
    return states_;
  }
  // Waits (at most 10 s) until the last thing heard is `reachable`.
  bool AwaitLast(bool reachable) {
    absl::MutexLock lock(&mu_);
    auto last_is = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !states_.empty() && states_.back() == reachable;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&last_is), absl::Seconds(10));
  }

 private:
  absl::Mutex mu_;
  std::vector<bool> states_ ABSL_GUARDED_BY(mu_);
};

TEST(ReconnectTest, JobsWaitForOneReconnectionAtATimeAndHealthFollows) {
  ScopedTempDir dir;
  std::unique_ptr<EmbeddedPostgres> pg = StartPostgres(dir.path());
  ASSERT_NE(pg, nullptr);
  Database::Options options;
  options.connection_string = pg->ConnectionString();
  options.workers = 16;
  options.probe_interval = absl::Milliseconds(100);
  absl::StatusOr<std::unique_ptr<Database>> opened = Database::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Database& db = **opened;
  Heard heard;
  db.OnReachabilityChange([&heard](bool reachable) { heard.Add(reachable); });
  ASSERT_TRUE(heard.AwaitLast(true));
  ASSERT_TRUE(Select1(db, absl::InfiniteFuture()).ok());
  EXPECT_EQ(db.connection_stats().outages, 0);

  // PostgreSQL stops, for good as far as the pool knows: it notices (a job or its probe) and
  // tells the listener.
  ASSERT_TRUE(pg->Stop().ok());
  pg.reset();
  (void)Select1(db, absl::Now() + absl::Milliseconds(100));  // may be the job that notices
  ASSERT_TRUE(heard.AwaitLast(false));
  EXPECT_FALSE(db.connection_stats().reachable);

  // 64 calls arrive while it is down, each willing to wait 1 s: every one waits its deadline out
  // and fails UNAVAILABLE with a retry hint, and the pool knocks a handful of times, not per call.
  const Database::ConnectionStats before = db.connection_stats();
  const absl::Time start = absl::Now();
  std::vector<std::thread> callers;
  std::atomic<int> unavailable{0};
  std::atomic<int> waited_out{0};
  for (int i = 0; i < 64; ++i) {
    callers.emplace_back([&] {
      const absl::Time deadline = absl::Now() + absl::Seconds(1);
      absl::Status status = Select1(db, deadline);
      if (absl::IsUnavailable(status) && absl::StrContains(status.message(), "retry in")) {
        ++unavailable;
      }
      if (absl::Now() >= deadline - absl::Milliseconds(50)) ++waited_out;
    });
  }
  for (std::thread& t : callers) t.join();
  const absl::Duration elapsed = absl::Now() - start;
  const Database::ConnectionStats during = db.connection_stats();
  EXPECT_EQ(unavailable, 64);
  // The first 16 wait on workers; the rest wait their turn in the queue, then give up at once.
  EXPECT_GE(waited_out, 16);
  const int64_t attempts = during.attempts - before.attempts;
  std::cout << "64 calls waited " << elapsed << " for an unreachable database: " << attempts
            << " connection attempts, " << during.failures - before.failures << " refused\n";
  // Backoff from 25 ms doubling to 300 ms, one attempt at a time: about 8 in a second (64 calls
  // on 16 workers used to make 64).
  EXPECT_LE(attempts, 16);
  EXPECT_EQ(during.failures - before.failures, attempts);

  // PostgreSQL comes back: the pool finds it, tells the listener, and calls run again.
  pg = StartPostgres(dir.path());
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(heard.AwaitLast(true));
  EXPECT_TRUE(Select1(db, absl::Now() + absl::Seconds(10)).ok());
  const Database::ConnectionStats after = db.connection_stats();
  EXPECT_TRUE(after.reachable);
  EXPECT_EQ(after.outages, 1);
  EXPECT_EQ(after.reconnects, 1);
  EXPECT_THAT(heard.states(), ElementsAre(true, false, true));
  opened->reset();  // the pool stops before the PostgreSQL it uses
}

TEST(ReconnectTest, ClosingThePoolEndsTheWaitForAnUnreachableDatabase) {
  ScopedTempDir dir;
  std::unique_ptr<EmbeddedPostgres> pg = StartPostgres(dir.path());
  ASSERT_NE(pg, nullptr);
  Database::Options options;
  options.connection_string = pg->ConnectionString();
  options.workers = 2;
  options.probe_interval = absl::Milliseconds(50);
  absl::StatusOr<std::unique_ptr<Database>> opened = Database::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ASSERT_TRUE(pg->Stop().ok());
  while ((*opened)->connection_stats().reachable) absl::SleepFor(absl::Milliseconds(10));

  // A job without a deadline would wait up to kMaxConnectionWait; closing the pool ends it.
  absl::Notification ran;
  absl::Status result;
  ASSERT_TRUE((*opened)->Submit([&](pqxx::connection* conn) {
    result = Database::InTransaction(conn, [](pqxx::work&) { return absl::OkStatus(); });
    ran.Notify();
  }));
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Time closing = absl::Now();
  opened->reset();
  EXPECT_TRUE(ran.HasBeenNotified());
  EXPECT_LT(absl::Now() - closing, Database::kMaxConnectionWait);
  EXPECT_TRUE(absl::IsUnavailable(result)) << result;
  EXPECT_THAT(std::string(result.message()), HasSubstr("retry"));
}

}  // namespace
}  // namespace turnout::store
