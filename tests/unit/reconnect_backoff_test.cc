// The pool's wait between reconnection attempts (server/store/reconnect_backoff.h).
#include "server/store/reconnect_backoff.h"

#include "gtest/gtest.h"

namespace turnout::store {
namespace {

TEST(ReconnectBackoffTest, DoublesFromFirstUpToMax) {
  const ReconnectBackoff backoff{absl::Milliseconds(25), absl::Milliseconds(300)};
  // unit 1.0 is the top of each range: the undrawn step itself.
  EXPECT_EQ(backoff.Delay(1, 1.0), absl::Milliseconds(25));
  EXPECT_EQ(backoff.Delay(2, 1.0), absl::Milliseconds(50));
  EXPECT_EQ(backoff.Delay(3, 1.0), absl::Milliseconds(100));
  EXPECT_EQ(backoff.Delay(4, 1.0), absl::Milliseconds(200));
  EXPECT_EQ(backoff.Delay(5, 1.0), absl::Milliseconds(300));
  EXPECT_EQ(backoff.Delay(1000, 1.0), absl::Milliseconds(300));  // no overflow, however long
}

TEST(ReconnectBackoffTest, JitterSpreadsEachWaitOverItsUpperHalf) {
  const ReconnectBackoff backoff{absl::Milliseconds(100), absl::Seconds(1)};
  EXPECT_EQ(backoff.Delay(1, 0.0), absl::Milliseconds(50));
  EXPECT_EQ(backoff.Delay(1, 0.5), absl::Milliseconds(75));
  EXPECT_EQ(backoff.Delay(9, 0.0), absl::Milliseconds(500));
  // A draw outside [0, 1) is clamped rather than trusted.
  EXPECT_EQ(backoff.Delay(1, -3.0), absl::Milliseconds(50));
  EXPECT_EQ(backoff.Delay(1, 7.0), absl::Milliseconds(100));
}

}  // namespace
}  // namespace turnout::store
